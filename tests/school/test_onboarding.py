"""Parents joining with an invite code, linking more children, and what a join creates."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from server.db.models import AuditEntry, GuardianLink, Invite, PolicyAcceptance, User
from server.services import Services
from tests.factories import PASSWORD, World, error_of, unique


def join_body(code: str, **extra: object) -> dict[str, object]:
    return {
        "code": code,
        "name": "  Ola Nowak  ",
        "email": f"{unique('Ola')}@Example.TEST",
        "password": "ola-strong-password",
        "language": "pl",
        "accept_policy_version": 1,
        **extra,
    }


async def test_staff_invite_then_parent_joins_and_is_signed_in(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    pupil = await world.add_student(world.classes[0], "Zofia", "Nowak")
    assert pupil.student is not None
    invite = await api.post(
        "/api/invites", json={"student_id": pupil.student.id}, headers=world.teacher.headers
    )
    assert invite.status_code == 201
    assert invite.json()["student_id"] == pupil.student.id
    body = join_body(invite.json()["code"])
    joined = await api.post("/api/join", json=body)
    assert joined.status_code == 201, joined.text
    user = joined.json()["user"]
    assert user["role"] == "parent" and user["name"] == "Ola Nowak" and user["language"] == "pl"
    assert user["email"] == str(body["email"]).lower()
    assert user["policy_accepted_version"] == 1 and user["needs_policy"] is False
    assert user["children"][0]["first_name"] == "Zofia"
    assert "session=" in joined.headers["set-cookie"]
    me = await api.get("/api/me")  # the cookie alone signs the new parent in
    assert me.status_code == 200 and me.json()["id"] == user["id"]
    async with services.read() as session:
        stored = await session.get(User, user["id"])
        assert stored is not None and stored.password_hash and stored.password_hash.startswith("$argon2id$")
        accepted = await session.scalar(select(func.count()).where(PolicyAcceptance.user_id == user["id"]))
        used = await session.scalar(select(Invite).where(Invite.used_by == user["id"]))
        audit = await session.scalar(select(AuditEntry.action).where(AuditEntry.actor_id == user["id"]))
    assert accepted == 1 and used is not None and used.used_at is not None
    assert audit == "guardian.joined"


async def test_joining_with_a_taken_email_is_refused_and_keeps_the_code(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil = await world.add_student(world.classes[0])
    code = await world.add_invite(pupil)
    taken = world.teacher.user.email
    error_of(await api.post("/api/join", json=join_body(code, email=taken)), 409, "already_exists")
    assert (await api.post("/api/join", json=join_body(code))).status_code == 201


async def test_without_a_valid_code_nobody_learns_whether_an_email_has_an_account(
    api: httpx.AsyncClient, world: World
) -> None:
    taken = await api.post("/api/join", json=join_body("WRONG-CODE1", email=world.teacher.user.email))
    free = await api.post("/api/join", json=join_body("WRONG-CODE1"))
    assert taken.status_code == free.status_code == 422
    assert taken.json() == free.json()


async def test_a_failed_join_leaves_the_code_usable(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    code = await world.add_invite(pupil)
    error_of(await api.post("/api/join", json=join_body(code, password="short")), 422)
    error_of(await api.post("/api/join", json=join_body(code, language="tlh")), 422)
    assert (await api.post("/api/join", json=join_body(code))).status_code == 201


async def test_a_parent_links_a_second_child_with_a_new_code(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    older = await world.add_student(world.classes[0], "Ava", "Nowak")
    younger_class = await world.add_class("Reception")
    younger = await world.add_student(younger_class, "Leo", "Nowak")
    parent = await world.add_parent(older)
    code = await world.add_invite(younger)
    linked = await api.post("/api/me/children", json={"code": code}, headers=parent.headers)
    assert linked.status_code == 201, linked.text
    assert {c["first_name"] for c in linked.json()["children"]} == {"Ava", "Leo"}
    classes = (await api.get("/api/classes", headers=parent.headers)).json()["items"]
    assert {c["id"] for c in classes} == {world.classes[0].id, younger_class.id}
    again = await api.post(
        "/api/me/children", json={"code": await world.add_invite(younger)}, headers=parent.headers
    )
    error_of(again, 409, "already_exists")
    async with services.read() as session:
        links = await session.scalar(select(func.count()).where(GuardianLink.guardian_id == parent.id))
    assert links == 2


async def test_only_parents_link_children(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    code = await world.add_invite(pupil)
    for actor in (world.teacher, pupil):
        error_of(await api.post("/api/me/children", json={"code": code}, headers=actor.headers), 403)
    assert (await api.post("/api/join", json=join_body(code))).status_code == 201  # the code was not spent


async def test_no_invites_for_pupils_who_left(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    assert pupil.student is not None
    await api.patch(
        f"/api/students/{pupil.student.id}",
        json={"left_at": "2026-07-20T12:00:00+00:00"},
        headers=world.admin.headers,
    )
    response = await api.post(
        "/api/invites", json={"student_id": pupil.student.id}, headers=world.admin.headers
    )
    error_of(response, 422, "validation_error")


async def test_an_old_code_for_a_pupil_who_left_does_not_link(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    code = await world.add_invite(pupil)
    assert pupil.student is not None
    await api.patch(
        f"/api/students/{pupil.student.id}",
        json={"left_at": "2026-07-20T12:00:00+00:00"},
        headers=world.admin.headers,
    )
    error_of(await api.post("/api/join", json=join_body(code)), 422, "invalid_code")


async def test_join_signs_in_with_the_chosen_password(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    body = join_body(await world.add_invite(pupil), password=PASSWORD)
    assert (await api.post("/api/join", json=body)).status_code == 201
    login = await api.post(
        "/api/auth/login", json={"email": str(body["email"]).upper(), "password": PASSWORD}
    )
    assert login.status_code == 200
