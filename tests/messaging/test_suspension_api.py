"""Suspension (P10): sessions end at once, login is refused, and live connections are told to close."""

from __future__ import annotations

import httpx
import pytest

from server.services import Services
from tests.factories import PASSWORD, World
from tests.messaging.conftest import Chat


@pytest.fixture
def access_calls(services: Services) -> list[int]:
    """Record ``services.access_changed`` calls (the live layer's hook) during one test."""
    calls: list[int] = []
    original = services.access_changed

    async def record(user_id: int) -> None:
        calls.append(user_id)
        await original(user_id)

    services.access_changed = record
    yield calls  # type: ignore[misc]
    services.access_changed = original


async def test_p10_suspension_ends_sessions_blocks_login_and_closes_connections(
    api: httpx.AsyncClient, chat: Chat, world: World, access_calls: list[int]
) -> None:
    assert chat.parent.user.email is not None
    login = await api.post("/api/auth/login", json={"email": chat.parent.user.email, "password": PASSWORD})
    assert login.status_code == 200
    second_token = login.json()["token"]

    reply = await api.post(
        f"/api/users/{chat.parent.id}/suspend",
        json={"reason": "Abusive messages"},
        headers=world.admin.headers,
    )
    assert reply.status_code == 200
    assert reply.json()["suspended"] is True and reply.json()["suspended_reason"] == "Abusive messages"
    assert access_calls == [chat.parent.id]

    for token in (chat.parent.token, second_token):
        me = await api.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code in (401, 403)
    refused = await api.post("/api/auth/login", json={"email": chat.parent.user.email, "password": PASSWORD})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "suspended"

    lifted = await api.post(f"/api/users/{chat.parent.id}/unsuspend", headers=world.admin.headers)
    assert lifted.status_code == 200 and lifted.json()["suspended"] is False
    back = await api.post("/api/auth/login", json={"email": chat.parent.user.email, "password": PASSWORD})
    assert back.status_code == 200
    # Old sessions stay ended.
    old = await api.get("/api/me", headers=chat.parent.headers)
    assert old.status_code == 401


async def test_p10_only_admins_suspend_never_themselves_never_another_schools_user(
    api: httpx.AsyncClient, chat: Chat, world: World, services: Services
) -> None:
    from tests.factories import make_world

    for actor in (chat.teacher, world.office, chat.parent):
        reply = await api.post(
            f"/api/users/{chat.parent.id}/suspend", json={"reason": "x"}, headers=actor.headers
        )
        assert reply.status_code == 403
    own = await api.post(
        f"/api/users/{world.admin.id}/suspend", json={"reason": "x"}, headers=world.admin.headers
    )
    assert own.status_code == 403
    elsewhere = await make_world(services)
    foreign = await api.post(
        f"/api/users/{elsewhere.teacher.id}/suspend", json={"reason": "x"}, headers=world.admin.headers
    )
    assert foreign.status_code == 404
    assert (await api.get("/api/me", headers=elsewhere.teacher.headers)).status_code == 200
    missing = await api.post(f"/api/users/{2**50}/suspend", json={"reason": "x"}, headers=world.admin.headers)
    assert missing.status_code == 404
    no_reason = await api.post(f"/api/users/{chat.parent.id}/suspend", json={}, headers=world.admin.headers)
    assert no_reason.status_code == 422
    assert (await api.get("/api/me", headers=chat.parent.headers)).status_code == 200


async def test_p10_a_suspended_member_of_staff_cannot_be_chosen_for_a_new_conversation(
    api: httpx.AsyncClient, chat: Chat, world: World
) -> None:
    teacher = await world.add_user("teacher")
    await api.post(f"/api/users/{teacher.id}/suspend", json={"reason": "Left"}, headers=world.admin.headers)
    assert chat.pupil.student is not None
    reply = await api.post(
        "/api/conversations",
        json={"student_id": chat.pupil.student.id, "staff_id": teacher.id},
        headers=chat.parent.headers,
    )
    assert reply.status_code == 404
