"""An event's creation, change and cancellation notify the class's families as they chose (``events``)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from server.language.interface import text
from server.notify.worker import PushWorker
from tests.calendar.test_reminders import deliver, trip
from tests.conftest import Clock
from tests.factories import World
from tests.notify.push_service import PushService
from tests.notify.test_push import subscribe


async def test_families_hear_of_new_changed_and_cancelled_events_unless_they_turned_events_off(
    api: httpx.AsyncClient, world: World, clock: Clock, worker: PushWorker, push_service: PushService
) -> None:
    clock.set(datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    other = await world.add_class("Year 2 Ash")
    _, keen = await world.add_family("Maya", language="fr")
    _, quiet = await world.add_family("Leo")
    _, elsewhere = await world.add_family("Zara", school_class=other)
    for actor, name in ((keen, "keen"), (quiet, "quiet"), (elsewhere, "elsewhere")):
        await subscribe(api, actor, push_service.device(name))
    turned_off = await api.put(
        "/api/me/notifications", json={"push": {"events": False}}, headers=quiet.headers
    )
    assert turned_off.status_code == 200, turned_off.text
    event = await trip(api, world, rsvp="none", remind_at=[])
    await api.patch(
        f"/api/events/{event['id']}", json={"location": "Dale Farm"}, headers=world.teacher.headers
    )
    await api.delete(f"/api/events/{event['id']}", headers=world.teacher.headers)
    await deliver(worker, clock)
    got = push_service.payloads("keen")
    assert [p["type"] for p in got] == ["event.created", "event.updated", "event.cancelled"]
    place = world.classes[0].name
    assert got[0]["title"] == text("fr", "New event in {place}", place=place) != f"New event in {place}"
    assert got[2]["title"] == text("fr", "Event cancelled in {place}", place=place)
    assert got[0]["url"] == f"/#/calendar/{event['id']}" and "Trip to the farm" in got[0]["body"]
    assert push_service.payloads("quiet") == [] and push_service.payloads("elsewhere") == []
