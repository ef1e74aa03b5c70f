"""Quiet hours over the API (P7): held at night, told when, released once at opening time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx

from server.app import default_jobs
from server.jobs import JobRunner
from server.messaging.delivery import release_held_messages
from server.services import Services
from tests.conftest import Clock
from tests.factories import World, outbox
from tests.messaging.conftest import FRIDAY_EVENING, MONDAY_OPENING, WEDNESDAY_MORNING, Chat, open_chat


async def _friday_chat(api: httpx.AsyncClient, world: World, clock: Clock) -> Chat:
    clock.set(WEDNESDAY_MORNING)
    chat = await open_chat(api, world)
    clock.set(FRIDAY_EVENING)
    return chat


async def _created_ids(services: Services, user_id: int) -> list[int]:
    return [e["data"]["message"]["id"] for e in await outbox(services, f"user:{user_id}", "message.created")]


async def test_p7_friday_evening_message_is_held_told_monday_0800_and_released_once(
    api: httpx.AsyncClient, world: World, clock: Clock, services: Services
) -> None:
    chat = await _friday_chat(api, world, clock)
    sent = await api.post(
        chat.messages_url(), json={"text": "Could we talk about reading?"}, headers=chat.parent.headers
    )
    assert sent.status_code == 201
    message = sent.json()
    assert message["delivery"] == "held_quiet_hours"
    assert message["held_until"] == "2026-03-09T08:00:00+00:00"

    # Not pushed to the teacher, nor shown to them; the parent's own devices have it and a notice.
    assert await _created_ids(services, chat.teacher.id) == []
    parent_events = await outbox(services, f"user:{chat.parent.id}", "message.created")
    assert parent_events[0]["data"]["message"]["id"] == message["id"]
    notice = parent_events[1]["data"]["message"]
    assert notice["system"] is True and notice["sender"]["role"] == "system"
    assert "Monday 08:00" in notice["text"] and "Wednesday 14:00" in notice["text"]
    assert "Mrs Patel" in notice["text"]
    teacher_view = await api.get(chat.messages_url(), headers=chat.teacher.headers)
    assert teacher_view.json()["items"] == []
    listed = (await api.get("/api/conversations", headers=chat.teacher.headers)).json()["items"]
    assert listed[0]["unread_count"] == 0 and listed[0]["last_message"] is None
    parent_view = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    assert [m["id"] for m in parent_view] == [notice["id"], message["id"]]

    runner: JobRunner = services.jobs
    clock.set(datetime(2026, 3, 9, 7, 59, tzinfo=UTC))
    assert await runner.run_once("release_held_messages") is True
    assert await _created_ids(services, chat.teacher.id) == []

    clock.set(MONDAY_OPENING)
    assert await runner.run_once("release_held_messages") is True
    assert await runner.run_once("release_held_messages") is True
    assert await _created_ids(services, chat.teacher.id) == [message["id"]]
    delivered = (await outbox(services, f"user:{chat.teacher.id}", "message.created"))[0]["data"]["message"]
    assert delivered["text"] == "Could we talk about reading?" and delivered["released_at"]
    released = await outbox(services, f"user:{chat.parent.id}", "message.released")
    assert [e["data"]["message"]["id"] for e in released] == [message["id"]]
    items = (await api.get(chat.messages_url(), headers=chat.teacher.headers)).json()["items"]
    assert [m["id"] for m in items] == [message["id"]]  # the notice stays the parent's
    assert (
        items[0]["delivery"] == "held_quiet_hours" and items[0]["released_at"] == "2026-03-09T08:00:00+00:00"
    )


async def test_p7_one_notice_per_quiet_period(
    api: httpx.AsyncClient, world: World, clock: Clock, services: Services
) -> None:
    chat = await _friday_chat(api, world, clock)
    for text in ("First thought", "Second thought", "Third thought"):
        reply = await api.post(chat.messages_url(), json={"text": text}, headers=chat.parent.headers)
        assert reply.json()["delivery"] == "held_quiet_hours"
    items = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    assert sum(m["system"] for m in items) == 1
    clock.set(MONDAY_OPENING)
    assert await release_held_messages(services) == 3
    assert len(await _created_ids(services, chat.teacher.id)) == 3


async def test_p7_staff_writing_to_parents_out_of_hours_is_not_held(
    api: httpx.AsyncClient, world: World, clock: Clock, services: Services
) -> None:
    chat = await _friday_chat(api, world, clock)
    reply = await api.post(chat.messages_url(), json={"text": "Great week!"}, headers=chat.teacher.headers)
    assert reply.json()["delivery"] == "live" and reply.json()["held_until"] is None
    assert await _created_ids(services, chat.parent.id) == [reply.json()["id"]]


async def test_p7_in_working_hours_messages_go_straight_through(api: httpx.AsyncClient, chat: Chat) -> None:
    reply = await api.post(chat.messages_url(), json={"text": "Quick question"}, headers=chat.parent.headers)
    assert reply.json()["delivery"] == "live"
    items = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    assert not any(m["system"] for m in items)


async def test_p7_working_hours_timezone_and_closures_are_the_schools_settings(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    chat = await _friday_chat(api, world, clock)
    patched = await api.patch(
        "/api/school",
        json={"working_hours": {"fri": ["08:00", "20:00"]}, "closure_days": ["2026-03-09"]},
        headers=world.admin.headers,
    )
    assert patched.status_code == 200
    live = await api.post(chat.messages_url(), json={"text": "Still open?"}, headers=chat.parent.headers)
    assert live.json()["delivery"] == "live"
    clock.set(datetime(2026, 3, 6, 21, 0, tzinfo=UTC))
    held = await api.post(chat.messages_url(), json={"text": "Now closed"}, headers=chat.parent.headers)
    assert held.json()["held_until"] == "2026-03-10T08:00:00+00:00"  # Monday is a closure day
    await api.patch("/api/school", json={"timezone": "America/New_York"}, headers=world.admin.headers)
    # 21:00 UTC on Friday is 16:00 in New York: within its Friday hours.
    ny = await api.post(chat.messages_url(), json={"text": "New York"}, headers=chat.parent.headers)
    assert ny.json()["delivery"] == "live"
    items = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    notice = next(m for m in items if m["system"])
    assert "Tuesday 08:00" in notice["text"]


async def test_p7_held_messages_survive_a_restart_and_release_exactly_once_across_processes(
    api: httpx.AsyncClient, world: World, clock: Clock, services: Services
) -> None:
    chat = await _friday_chat(api, world, clock)
    ids = []
    for n in range(5):
        reply = await api.post(chat.messages_url(), json={"text": f"note {n}"}, headers=chat.parent.headers)
        ids.append(reply.json()["id"])
    clock.set(MONDAY_OPENING)
    # Two freshly started processes (new runners; the state is all in the database) tick at once.
    first, second = (
        JobRunner(default_jobs(services.settings), holder="process-a"),
        JobRunner(default_jobs(services.settings), holder="process-b"),
    )
    first.bind(services)
    second.bind(services)
    await asyncio.gather(
        first.run_once("release_held_messages"),
        second.run_once("release_held_messages"),
        release_held_messages(services),
        release_held_messages(services),
    )
    assert sorted(await _created_ids(services, chat.teacher.id)) == ids
