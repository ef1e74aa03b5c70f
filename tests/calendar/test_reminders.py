"""Reminders with an injected clock: once per reader across two runners and a restart, in the reader's
language, never to staff outside their hours, and weekly events skipping closure days."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from server.calendar.reminders import remind_due, send_reminders
from server.db.engine import Database
from server.db.models import ReminderSent
from server.jobs import Job, JobRunner
from server.language.interface import text
from server.notify.worker import PushWorker
from server.services import Services
from tests.calendar.test_events_api import TRIP
from tests.conftest import Clock
from tests.factories import World, events_on
from tests.notify.push_service import PushService
from tests.notify.test_push import subscribe

# The trip starts on Thursday 12 March 2026 at 09:00 (London is on UTC in March), with reminders
# the evening before at 18:00 and that morning at 07:30.
EVENING_BEFORE = datetime(2026, 3, 11, 18, 0, 30, tzinfo=UTC)
EARLY_MORNING = datetime(2026, 3, 12, 7, 30, 30, tzinfo=UTC)
STAFF_OPENING = datetime(2026, 3, 12, 8, 0, 30, tzinfo=UTC)


@asynccontextmanager
async def another_process(services: Services, clock: Clock) -> AsyncIterator[Services]:
    """Services of a second process on the same database: its own pool, the same injected clock."""
    db = Database(services.settings.database_url)
    try:
        yield Services(settings=services.settings, db=db, limiter=services.limiter, clock=clock)
    finally:
        await db.dispose()


def runner(services: Services, holder: str) -> JobRunner:
    found = JobRunner([Job("event_reminders", every=60.0, run=send_reminders)], holder=holder)
    found.bind(services)
    return found


async def deliver(worker: PushWorker, clock: Clock) -> None:
    """Send what is due, then again once the wait for a reader's translation has run out (none here)."""
    await worker.run_until_idle()
    clock.advance(seconds=30)
    await worker.run_until_idle()


async def sent_rows(services: Services, event_id: int) -> int:
    async with services.read() as session:
        query = select(func.count()).select_from(ReminderSent).where(ReminderSent.event_id == event_id)
        return int(await session.scalar(query) or 0)


async def trip(api: httpx.AsyncClient, world: World, **fields: Any) -> dict[str, Any]:
    reply = await api.post(
        f"/api/classes/{world.classes[0].id}/events", json={**TRIP, **fields}, headers=world.teacher.headers
    )
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


async def test_each_reminder_reaches_each_reader_once_across_two_processes_and_a_restart(
    api: httpx.AsyncClient, world: World, clock: Clock, worker: PushWorker, push_service: PushService
) -> None:
    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    _, parent = await world.add_family("Maya", language="es")
    await subscribe(api, parent, push_service.device("parent"))
    await subscribe(api, world.teacher, push_service.device("teacher"))
    event = await trip(api, world, rsvp="none")
    await deliver(worker, clock)  # the "new event" notification
    before = len(push_service.payloads("parent"))

    clock.set(EVENING_BEFORE)
    # A process that dies in the middle of its run, before its transaction commits: nothing is sent.
    async with another_process(world.services, clock) as dying, dying.db.session() as session:
        assert await remind_due(session, clock()) >= 1  # (other tests' schools may have some due too)
        await session.rollback()
    assert await sent_rows(world.services, event["id"]) == 0
    async with another_process(world.services, clock) as second:
        # Both processes' runners at once, and the job itself bypassing the lease: the rows guard it.
        await asyncio.gather(
            runner(world.services, "a").run_once("event_reminders"),
            runner(second, "b").run_once("event_reminders"),
            send_reminders(second),
        )
    await deliver(worker, clock)
    reminders = [p for p in push_service.payloads("parent")[before:] if p["type"] == "event.reminder"]
    assert len(reminders) == 1
    # In the reader's language: the interface's words in Spanish.
    assert reminders[0]["title"] == text("es", "Reminder from {place}", place=world.classes[0].name)
    assert reminders[0]["title"] != f"Reminder from {world.classes[0].name}"
    assert "Trip to the farm" in reminders[0]["body"]
    # The teacher is out of hours at 18:00: nothing for them.
    assert [p for p in push_service.payloads("teacher") if p["type"] == "event.reminder"] == []
    assert await sent_rows(world.services, event["id"]) == 1

    # A restarted process (new pool, new runner) a few minutes later: nothing goes twice.
    clock.set(EVENING_BEFORE.replace(minute=5))
    async with another_process(world.services, clock) as restarted:
        await runner(restarted, "c").run_once("event_reminders")
    clock.set(EARLY_MORNING)
    async with another_process(world.services, clock) as restarted:
        await asyncio.gather(send_reminders(restarted), send_reminders(world.services))
        await send_reminders(restarted)
    await deliver(worker, clock)
    assert len([p for p in push_service.payloads("parent")[before:] if p["type"] == "event.reminder"]) == 2
    assert len(await events_on(world.services, f"user:{parent.id}", "event.reminder")) == 2

    # Staff hours start at 08:00: the teacher gets the latest reminder, once.
    clock.set(STAFF_OPENING)
    await send_reminders(world.services)
    await send_reminders(world.services)
    await deliver(worker, clock)
    teacher = [p for p in push_service.payloads("teacher") if p["type"] == "event.reminder"]
    assert len(teacher) == 1 and teacher[0]["tag"] == f"event-{event['id']}"
    assert len(await events_on(world.services, f"user:{world.teacher.id}", "event.reminder")) == 1


async def test_a_guardian_removed_after_a_reminder_was_queued_gets_nothing(
    api: httpx.AsyncClient, world: World, clock: Clock, worker: PushWorker, push_service: PushService
) -> None:
    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    maya, parent = await world.add_family("Maya")
    _, staying = await world.add_family("Leo")
    assert maya.student is not None
    await subscribe(api, parent, push_service.device("removed"))
    await subscribe(api, staying, push_service.device("staying"))
    await trip(api, world, rsvp="none")
    await deliver(worker, clock)
    clock.set(EVENING_BEFORE)
    await send_reminders(world.services)
    assert len(await events_on(world.services, f"user:{parent.id}", "event.reminder")) == 1
    assert await worker.fanout_once() >= 1  # a push is waiting for each family's device
    removed = await api.delete(
        f"/api/students/{maya.student.id}/guardians/{parent.id}", headers=world.admin.headers
    )
    assert removed.status_code in (200, 204), removed.text
    await deliver(worker, clock)
    # The reminder is on the reader's own channel, but it is about the class: asked again at sending.
    assert [p for p in push_service.payloads("removed") if p["type"] == "event.reminder"] == []
    assert len([p for p in push_service.payloads("staying") if p["type"] == "event.reminder"]) == 1


async def test_a_cancelled_event_reminds_nobody(api: httpx.AsyncClient, world: World, clock: Clock) -> None:
    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    _, parent = await world.add_family()
    event = await trip(api, world, rsvp="none")
    await api.delete(f"/api/events/{event['id']}", headers=world.teacher.headers)
    clock.set(EVENING_BEFORE)
    await send_reminders(world.services)
    assert await events_on(world.services, f"user:{parent.id}", "event.reminder") == []


async def test_weekly_reminders_skip_closure_and_exception_days(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    clock.set(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    await world.update_school(closure_days=["2026-02-16"])
    _, parent = await world.add_family()
    await trip(
        api,
        world,
        title="PE kit",
        rsvp="none",
        starts_at="2026-02-02T08:45:00+00:00",
        ends_at=None,
        remind_at=["2026-02-01T20:00:00+00:00"],  # the evening before
        recurrence={"freq": "weekly", "until": "2026-03-02", "exceptions": ["2026-02-23"]},
    )
    reminded: list[str] = []
    for sunday in (1, 8, 15, 22, 29):
        clock.set(
            datetime(2026, 2 if sunday < 29 else 3, sunday if sunday < 29 else 1, 20, 0, 30, tzinfo=UTC)
        )
        await send_reminders(world.services)
        reminded = [e["data"]["occurrence_at"] for e in await events_on(world.services, f"user:{parent.id}")]
    # 16 Feb is a closure day and 23 Feb an exception: no reminder the evening before either.
    assert reminded == [
        "2026-02-02T08:45:00+00:00",
        "2026-02-09T08:45:00+00:00",
        "2026-03-02T08:45:00+00:00",
    ]
