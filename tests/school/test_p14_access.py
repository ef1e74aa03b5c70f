"""P14: only the school's registered parents and pupils get in; invite codes are one-use,
expiring and unguessable, and every kind of code or password attempt is rate-limited.
A parent never reads another family's child: such ids answer 404, exactly like ids that
do not exist, so they cannot be probed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from starlette.requests import Request

from server.api.http import client_ip
from server.auth.tokens import CODE_ALPHABET, digest, normalise_code
from server.db.models import Invite
from server.services import Services
from tests.conftest import Clock
from tests.factories import PASSWORD, World, error_of, make_world, unique


def join_body(code: str, email: str | None = None, **extra: object) -> dict[str, object]:
    return {
        "code": code,
        "name": "Pat Ali",
        "email": email or f"{unique('parent')}@example.test",
        "password": PASSWORD,
        "language": "en",
        "accept_policy_version": 1,
        **extra,
    }


async def test_p14_invite_codes_are_long_random_and_stored_only_hashed(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    pupil = await world.add_student(world.classes[0])
    assert pupil.student is not None
    codes = set()
    for _ in range(3):
        response = await api.post(
            "/api/invites", json={"student_id": pupil.student.id}, headers=world.teacher.headers
        )
        assert response.status_code == 201
        codes.add(response.json()["code"])
    assert len(codes) == 3
    for code in codes:
        assert re.fullmatch(f"[{CODE_ALPHABET}]{{5}}-[{CODE_ALPHABET}]{{5}}", code)
    async with services.read() as session:
        stored = (await session.scalars(select(Invite).where(Invite.student_id == pupil.student.id))).all()
    assert {row.code_hash for row in stored} == {digest(normalise_code(c)) for c in codes}
    assert not any(normalise_code(c) in row.code_hash for c in codes for row in stored)


async def test_p14_invites_expire_after_fourteen_days(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    pupil = await world.add_student(world.classes[0])
    assert pupil.student is not None
    start = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
    clock.set(start)
    response = await api.post(
        "/api/invites", json={"student_id": pupil.student.id}, headers=world.admin.headers
    )
    assert datetime.fromisoformat(response.json()["expires_at"]) == start + timedelta(days=14)
    clock.set(start + timedelta(days=14, seconds=1))
    error = error_of(
        await api.post("/api/join", json=join_body(response.json()["code"])), 422, "invalid_code"
    )
    assert error["details"]["reason"] == "expired"


async def test_p14_an_expired_code_is_refused(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    code = await world.add_invite(pupil, days=-1)
    error = error_of(await api.post("/api/join", json=join_body(code)), 422, "invalid_code")
    assert error["details"]["reason"] == "expired"


async def test_p14_a_used_code_is_refused(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    code = await world.add_invite(pupil)
    first = await api.post("/api/join", json=join_body(code))
    assert first.status_code == 201, first.text
    again = await api.post("/api/join", json=join_body(code))
    assert error_of(again, 422, "invalid_code")["details"]["reason"] == "used"
    other = await world.add_parent()
    reuse = await api.post("/api/me/children", json={"code": code}, headers=other.headers)
    assert error_of(reuse, 422, "invalid_code")["details"]["reason"] == "used"


async def test_p14_codes_are_typed_loosely(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    code = await world.add_invite(pupil)
    typed = " " + "-".join([code[:3].lower(), code[3:7], code[7:].lower()]) + " "
    assert (await api.post("/api/join", json=join_body(typed))).status_code == 201


async def test_p14_an_unknown_code_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, world: World
) -> None:
    body = join_body("ZZZZZ-ZZZZZ")
    error = error_of(await api.post("/api/join", json=body), 422, "invalid_code")
    assert error["details"]["reason"] == "unknown"
    login = await api.post("/api/auth/login", json={"email": body["email"], "password": PASSWORD})
    error_of(login, 401, "unauthenticated")


async def test_p14_a_code_from_another_school_does_not_link(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    elsewhere = await make_world(services)
    pupil = await elsewhere.add_student(elsewhere.classes[0])
    code = await elsewhere.add_invite(pupil)
    parent = await world.add_parent()
    response = await api.post("/api/me/children", json={"code": code}, headers=parent.headers)
    error_of(response, 422, "invalid_code")
    assert (await api.post("/api/join", json=join_body(code))).status_code == 201  # still unused


async def test_p14_join_attempts_are_rate_limited(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    limit = services.settings.code_attempts_per_minute
    for n in range(limit):
        error_of(await api.post("/api/join", json=join_body(f"WRONG-CODE{n}")), 422, "invalid_code")
    pupil = await world.add_student(world.classes[0])
    good = await world.add_invite(pupil)
    refused = await api.post("/api/join", json=join_body(good))
    error = error_of(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert error["details"]["retry_after"] == int(refused.headers["retry-after"])
    # The limit is per address: a family elsewhere is not locked out.
    transport = httpx.ASGITransport(app=api._transport.app, client=("10.200.0.1", 5000))  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
        assert (await elsewhere.post("/api/join", json=join_body(good))).status_code == 201


async def test_p14_linking_attempts_are_rate_limited_per_parent(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    parent = await world.add_parent()
    limit = services.settings.code_attempts_per_minute
    app = api._transport.app  # type: ignore[attr-defined]
    for n in range(limit + 1):
        # A new address each time: the per-account count still catches the guessing.
        transport = httpx.ASGITransport(app=app, client=(f"10.201.0.{n + 1}", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(
                "/api/me/children", json={"code": "WRONG-CODE"}, headers=parent.headers
            )
    error_of(response, 429, "rate_limited")
    assert "retry-after" in response.headers


async def test_p14_password_attempts_are_rate_limited_per_account_and_address(
    api: httpx.AsyncClient, world: World, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "settings", services.settings.with_(login_attempts_per_minute=3))
    email = world.teacher.user.email
    statuses = []
    for _ in range(4):
        response = await api.post("/api/auth/login", json={"email": email, "password": "guess-guess"})
        statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 429]
    error_of(response, 429, "rate_limited")
    assert "retry-after" in response.headers
    # The owner, elsewhere, is not locked out by someone else's guesses.
    app = api._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, client=("10.202.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as owner:
        assert (
            await owner.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        ).status_code == 200


async def test_p14_pupil_code_attempts_are_rate_limited_per_class(
    api: httpx.AsyncClient, world: World, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "settings", services.settings.with_(code_attempts_per_minute=1))
    class_code = world.classes[0].class_code
    statuses = []
    # Spelling the class code differently does not buy more attempts.
    for typed in (class_code, class_code.lower(), f"{class_code[:3]}-{class_code[3:]}"):
        for _ in range(3):
            body = {"class_code": typed, "student_code": "NOPE00"}
            statuses.append((await api.post("/api/auth/student", json=body)).status_code)
    assert statuses.count(401) == 6  # six attempts a minute per class at this setting
    assert statuses[6:] == [429, 429, 429]


async def test_p14_signing_in_needs_a_registered_account(api: httpx.AsyncClient, world: World) -> None:
    error_of(await api.get("/api/me"), 401, "unauthenticated")
    error_of(await api.get("/api/school", headers={"Authorization": "Bearer not-a-token"}), 401)
    login = await api.post("/api/auth/login", json={"email": "stranger@example.test", "password": PASSWORD})
    error_of(login, 401, "unauthenticated")


async def test_p14_parent_never_reads_another_familys_child(api: httpx.AsyncClient, world: World) -> None:
    mine = await world.add_student(world.classes[0], "Maya", "Ali")
    theirs = await world.add_student(world.classes[0], "Leo", "Brown")
    other_class = await world.add_class("Year 6")
    far = await world.add_student(other_class, "Ava", "Green")
    parent = await world.add_parent(mine)
    assert mine.student and theirs.student and far.student
    own = await api.get(f"/api/students/{mine.student.id}", headers=parent.headers)
    assert own.status_code == 200 and own.json()["last_name"] == "Ali"
    missing = await api.get("/api/students/999999999", headers=parent.headers)
    for pupil in (theirs, far):
        assert pupil.student is not None
        response = await api.get(f"/api/students/{pupil.student.id}", headers=parent.headers)
        error_of(response, 404, "not_found")
        assert response.json() == missing.json()  # indistinguishable from an id that does not exist
    error_of(await api.get(f"/api/classes/{other_class.id}", headers=parent.headers), 404, "not_found")
    classes = (await api.get("/api/classes", headers=parent.headers)).json()["items"]
    assert [c["id"] for c in classes] == [world.classes[0].id]
    assert "class_code" not in classes[0]


async def test_p14_pupils_and_parents_cannot_reach_another_schools_data(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    elsewhere = await make_world(services)
    stranger = await elsewhere.add_student(elsewhere.classes[0])
    assert stranger.student is not None
    pupil = await world.add_student(world.classes[0])
    for actor in (world.admin, world.teacher, pupil, await world.add_parent(pupil)):
        response = await api.get(f"/api/students/{stranger.student.id}", headers=actor.headers)
        error_of(response, 404, "not_found")
        error_of(await api.get(f"/api/classes/{elsewhere.classes[0].id}", headers=actor.headers), 404)


@pytest.mark.parametrize(
    ("host", "counted_as"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
    ],
)
def test_p14_attempts_from_one_ipv6_household_count_together(host: str, counted_as: str) -> None:
    request = Request({"type": "http", "client": (host, 1234), "headers": []})
    assert client_ip(request) == counted_as
