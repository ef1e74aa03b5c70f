"""P15: up to two guardians per child; a third becomes a request an admin approves or rejects."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import func, select, text

from server.db.models import GuardianLink, GuardianRequest, Invite, OutboxEvent, User
from server.school import onboarding
from server.services import Services
from tests.factories import PASSWORD, Actor, World, error_of, make_world, unique


def join_body(code: str, **extra: object) -> dict[str, object]:
    return {
        "code": code,
        "name": "Chris Third",
        "email": f"{unique('third')}@example.test",
        "password": "third-guardian-pw",
        "language": "pl",
        "accept_policy_version": 1,
        **extra,
    }


async def _guardians(services: Services, pupil: Actor) -> int:
    assert pupil.student is not None
    async with services.read() as session:
        count = await session.scalar(select(func.count()).where(GuardianLink.student_id == pupil.student.id))
    return int(count or 0)


async def _pupil_with_two_guardians(world: World) -> Actor:
    pupil = await world.add_student(world.classes[0], "Maya", "Ali")
    await world.add_parent(pupil)
    await world.add_parent(pupil)
    return pupil


async def test_p15_third_guardian_is_refused_and_queued(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    pupil = await _pupil_with_two_guardians(world)
    body = join_body(await world.add_invite(pupil))
    error = error_of(await api.post("/api/join", json=body), 409, "guardian_limit")
    assert error["details"]["status"] == "pending"
    assert await _guardians(services, pupil) == 2
    # The request was committed although the reply is an error; the code is spent.
    listed = (await api.get("/api/guardian-requests", headers=world.admin.headers)).json()["items"]
    assert [(r["id"], r["status"], r["email"]) for r in listed] == [
        (error["details"]["request_id"], "pending", body["email"])
    ]
    assert listed[0]["student"] == {"id": pupil.student.id, "name": "Maya"}  # type: ignore[union-attr]
    assert "password_hash" not in listed[0]
    again = await api.post("/api/join", json={**body, "email": f"{unique('x')}@example.test"})
    assert error_of(again, 422, "invalid_code")["details"]["reason"] == "used"
    # No account exists until an admin approves.
    login = await api.post("/api/auth/login", json={"email": body["email"], "password": body["password"]})
    error_of(login, 401)
    async with services.read() as session:
        event = await session.scalar(
            select(OutboxEvent)
            .where(OutboxEvent.type == "guardian_request.created")
            .order_by(OutboxEvent.id.desc())
            .limit(1)
        )
    assert event is not None and event.channel == f"school:{world.school.id}:staff"
    assert event.data["request_id"] == error["details"]["request_id"]


async def test_p15_admin_approval_links_the_guardian_who_can_then_sign_in(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    pupil = await _pupil_with_two_guardians(world)
    body = join_body(await world.add_invite(pupil))
    request_id = error_of(await api.post("/api/join", json=body), 409)["details"]["request_id"]
    approved = await api.post(f"/api/guardian-requests/{request_id}/approve", headers=world.admin.headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["user_id"]
    assert await _guardians(services, pupil) == 3
    login = await api.post("/api/auth/login", json={"email": body["email"], "password": body["password"]})
    assert login.status_code == 200, login.text
    me = login.json()["user"]
    assert me["role"] == "parent" and me["language"] == "pl" and me["needs_policy"] is False
    assert [c["id"] for c in me["children"]] == [pupil.student.id]  # type: ignore[union-attr]
    async with services.read() as session:
        stored = await session.get(GuardianRequest, request_id)
    assert stored is not None and stored.password_hash is None  # nothing kept that is not needed
    twice = await api.post(f"/api/guardian-requests/{request_id}/reject", headers=world.admin.headers)
    error_of(twice, 409, "already_decided")


async def test_p15_admin_rejection_links_nobody(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    pupil = await _pupil_with_two_guardians(world)
    body = join_body(await world.add_invite(pupil))
    request_id = error_of(await api.post("/api/join", json=body), 409)["details"]["request_id"]
    rejected = await api.post(f"/api/guardian-requests/{request_id}/reject", headers=world.admin.headers)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert await _guardians(services, pupil) == 2
    login = await api.post("/api/auth/login", json={"email": body["email"], "password": body["password"]})
    error_of(login, 401)
    async with services.read() as session:
        assert (await session.get(GuardianRequest, request_id)).password_hash is None  # type: ignore[union-attr]
        assert await session.scalar(select(User).where(User.email == body["email"])) is None
    pending = await api.get("/api/guardian-requests?status=pending", headers=world.admin.headers)
    assert pending.json()["items"] == []


async def test_p15_an_existing_parent_linking_a_third_time_is_queued_too(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    pupil = await _pupil_with_two_guardians(world)
    sibling = await world.add_student(world.classes[0], "Leo", "Ali")
    parent = await world.add_parent(sibling)
    code = await world.add_invite(pupil)
    response = await api.post("/api/me/children", json={"code": code}, headers=parent.headers)
    request_id = error_of(response, 409, "guardian_limit")["details"]["request_id"]
    listed = (await api.get("/api/guardian-requests", headers=world.admin.headers)).json()["items"]
    assert listed[0]["user_id"] == parent.id
    await api.post(f"/api/guardian-requests/{request_id}/approve", headers=world.admin.headers)
    me = (await api.get("/api/me", headers=parent.headers)).json()
    assert {c["id"] for c in me["children"]} == {pupil.student.id, sibling.student.id}  # type: ignore[union-attr]


async def test_p15_the_queue_is_for_admins_of_that_school(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    pupil = await _pupil_with_two_guardians(world)
    request_id = error_of(await api.post("/api/join", json=join_body(await world.add_invite(pupil))), 409)[
        "details"
    ]["request_id"]
    for actor in (world.teacher, world.office, await world.add_parent()):
        error_of(await api.get("/api/guardian-requests", headers=actor.headers), 403, "forbidden")
        approve = await api.post(f"/api/guardian-requests/{request_id}/approve", headers=actor.headers)
        error_of(approve, 403, "forbidden")
    elsewhere = await make_world(services)
    foreign = await api.post(f"/api/guardian-requests/{request_id}/approve", headers=elsewhere.admin.headers)
    error_of(foreign, 404, "not_found")
    assert (await api.get("/api/guardian-requests", headers=elsewhere.admin.headers)).json()["items"] == []
    assert await _guardians(services, pupil) == 2


async def test_p15_two_joins_racing_for_the_last_place_link_only_one(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    pupil = await world.add_student(world.classes[0], "Maya", "Ali")
    await world.add_parent(pupil)
    codes = [await world.add_invite(pupil), await world.add_invite(pupil)]
    app = api._transport.app  # type: ignore[attr-defined]

    async def join_from(n: int, code: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(f"10.215.0.{n}", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.post("/api/join", json=join_body(code))

    replies = await asyncio.gather(*(join_from(n, code) for n, code in enumerate(codes, start=1)))
    assert sorted(r.status_code for r in replies) == [201, 409]
    assert await _guardians(services, pupil) == 2


async def test_p15_the_pupil_row_is_locked_while_a_guardian_is_linked(
    world: World, services: Services
) -> None:
    """The second join waits for the first to commit, then sees two guardians (PostgreSQL)."""
    if services.db.is_sqlite:
        pytest.skip("SQLite serialises writers for the whole database")
    pupil = await world.add_student(world.classes[0], "Maya", "Ali")
    await world.add_parent(pupil)
    first_code, second_code = await world.add_invite(pupil), await world.add_invite(pupil)
    now = services.clock()

    async def join(session: object, code: str) -> onboarding.JoinOutcome:
        return await onboarding.join(
            session,  # type: ignore[arg-type]
            code=code,
            name="Racer",
            email=f"{unique('racer')}@example.test",
            password=PASSWORD,
            language="en",
            accept_policy_version=1,
            now=now,
        )

    async with services.db.session() as first:
        linked = await join(first, first_code)
        assert linked.user is not None  # the second guardian, not yet committed

        async def second_join() -> onboarding.JoinOutcome:
            async with services.db.session() as second:
                outcome = await join(second, second_code)
                await second.commit()
                return outcome

        racer = asyncio.create_task(second_join())
        await _wait_for_a_lock_wait(services)
        assert not racer.done()
        await first.commit()
    queued = await asyncio.wait_for(racer, timeout=30)
    assert queued.user is None and queued.request is not None
    assert await _guardians(services, pupil) == 2
    async with services.read() as session:
        used = await session.scalar(select(func.count()).where(Invite.student_id == pupil.student.id))  # type: ignore[union-attr]
    assert used == 2


async def _wait_for_a_lock_wait(services: Services, deadline: float = 10.0) -> None:
    """Poll until some backend of this database waits on a row lock."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        async with services.read() as session:
            waiting = await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the second join never waited for the pupil row lock")


async def test_p15_the_queue_is_paginated_newest_first(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    pupil = await world.add_student(world.classes[0])
    async with services.transaction() as session:
        for n in range(5):
            session.add(
                GuardianRequest(
                    school_id=world.school.id, student_id=pupil.student.id, name=f"R{n}", email=f"r{n}@x.zz"
                )  # type: ignore[union-attr]
            )
    headers = world.admin.headers
    first = (await api.get("/api/guardian-requests?limit=2", headers=headers)).json()["items"]
    assert [r["name"] for r in first] == ["R4", "R3"]
    rest = (
        await api.get(f"/api/guardian-requests?limit=10&before={first[-1]['id']}", headers=headers)
    ).json()
    assert [r["name"] for r in rest["items"]] == ["R2", "R1", "R0"]
