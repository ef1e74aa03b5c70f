"""Class and school events over HTTP: shape, who may create, read, change and cancel, live events, audit."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from server.db.models import AuditEntry
from server.events import validate_event
from tests.conftest import Clock
from tests.factories import Actor, World, error_of, events_on

TRIP = {
    "title": "Trip to the farm",
    "details": "Bring a packed lunch and wellies.",
    "starts_at": "2026-03-12T09:00:00+00:00",
    "ends_at": "2026-03-12T15:00:00+00:00",
    "location": "Hill Farm",
    "rsvp": "consent",
    "remind_at": ["2026-03-11T18:00:00+00:00", "2026-03-12T07:30:00+00:00"],
}


async def create(
    api: httpx.AsyncClient, world: World, actor: Actor | None = None, **fields: Any
) -> dict[str, Any]:
    reply = await api.post(
        f"/api/classes/{world.classes[0].id}/events",
        json={**TRIP, **fields},
        headers=(actor or world.teacher).headers,
    )
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


async def _audit(world: World, action: str) -> list[AuditEntry]:
    async with world.services.read() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.school_id == world.school.id, AuditEntry.action == action)
        )
        return list(rows.all())


async def test_class_event_has_its_shape_and_is_announced_on_the_class_channel(
    api: httpx.AsyncClient, world: World
) -> None:
    event = await create(api, world)
    assert event["scope"] == "class" and event["class_id"] == world.classes[0].id
    assert event["title"] == "Trip to the farm" and event["location"] == "Hill Farm"
    assert event["starts_at"] == "2026-03-12T09:00:00+00:00"
    assert event["remind_at"] == ["2026-03-11T18:00:00+00:00", "2026-03-12T07:30:00+00:00"]
    assert event["respond_by"] == "2026-03-12T09:00:00+00:00"  # no respond_by: replies close at the start
    assert event["cancelled"] is False and event["rsvp"] == "consent"
    assert event["original"] == {
        "title": "Trip to the farm",
        "details": "Bring a packed lunch and wellies.",
        "lang": "en",
    }
    assert event["translation"] == {"status": "not_needed"}
    (live,) = await events_on(world.services, f"class:{world.classes[0].id}", "event.created")
    validate_event(live["type"], live["data"])
    assert live["data"]["event"]["id"] == event["id"]
    assert [a.target_id for a in await _audit(world, "event.created")] == [event["id"]]


async def test_families_read_their_class_events_and_the_school_events(
    api: httpx.AsyncClient, world: World
) -> None:
    other = await world.add_class("Year 2 Ash")
    pupil, parent = await world.add_family("Maya")
    _, elsewhere = await world.add_family("Zara", school_class=other)
    event = await create(api, world)
    school_event = await api.post(
        "/api/school/events",
        json={"title": "Sports day", "starts_at": "2026-06-20T00:00:00+01:00", "all_day": True},
        headers=world.admin.headers,
    )
    assert school_event.status_code == 201, school_event.text
    listed = await api.get(f"/api/classes/{world.classes[0].id}/events", headers=parent.headers)
    assert [e["id"] for e in listed.json()["items"]] == [event["id"]]
    assert (await api.get(f"/api/events/{event['id']}", headers=parent.headers)).status_code == 200
    error_of(await api.get(f"/api/classes/{world.classes[0].id}/events", headers=elsewhere.headers), 404)
    error_of(await api.get(f"/api/events/{event['id']}", headers=elsewhere.headers), 404)
    school_list = await api.get("/api/school/events", headers=elsewhere.headers)
    assert [e["title"] for e in school_list.json()["items"]] == ["Sports day"]
    assert school_list.json()["items"][0]["all_day"] is True
    ranged = await api.get(
        f"/api/classes/{world.classes[0].id}/events?from=2026-03-13&to=2026-03-20", headers=pupil.headers
    )
    assert ranged.json()["items"] == []
    error_of(await api.get("/api/school/events?from=soon", headers=parent.headers), 400, "bad_request")


async def test_only_staff_create_events(api: httpx.AsyncClient, world: World) -> None:
    pupil, parent = await world.add_family()
    for actor in (parent, pupil):
        reply = await api.post(f"/api/classes/{world.classes[0].id}/events", json=TRIP, headers=actor.headers)
        error_of(reply, 403, "forbidden")
        error_of(await api.post("/api/school/events", json=TRIP, headers=actor.headers), 403, "forbidden")
    office = await api.post("/api/school/events", json={**TRIP, "rsvp": "none"}, headers=world.office.headers)
    assert office.status_code == 201


async def test_bad_events_are_refused_and_change_nothing(api: httpx.AsyncClient, world: World) -> None:
    path = f"/api/classes/{world.classes[0].id}/events"
    bad = [
        {**TRIP, "starts_at": "2026-03-12T09:00:00"},  # no offset
        {**TRIP, "ends_at": "2026-03-12T08:00:00+00:00"},
        {**TRIP, "remind_at": ["2026-03-12T10:00:00+00:00"]},
        {**TRIP, "remind_at": ["2026-02-01T10:00:00+00:00"]},
        {**TRIP, "respond_by": "2026-03-13T10:00:00+00:00"},
        {**TRIP, "rsvp": "maybe"},
        {**TRIP, "title": "   "},
        {**TRIP, "recurrence": {"freq": "weekly", "until": "2029-01-01"}},
        {**TRIP, "recurrence": {"freq": "weekly", "until": "2026-05-01"}},  # asks for replies
        {**TRIP, "recurrence": {"freq": "daily", "until": "2026-05-01"}},
        {"title": "No start"},
    ]
    for body in bad:
        error_of(await api.post(path, json=body, headers=world.teacher.headers), 422, "validation_error")
    assert (await api.get(path, headers=world.teacher.headers)).json()["items"] == []
    assert await events_on(world.services, f"class:{world.classes[0].id}", "event.created") == []


async def test_author_or_admin_change_and_cancel_and_every_reader_hears(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    event = await create(api, world)
    colleague = await world.add_user("teacher", "Mr Brown")
    _, parent = await world.add_family()
    path = f"/api/events/{event['id']}"
    for actor in (colleague, parent):
        error_of(await api.patch(path, json={"title": "Mine now"}, headers=actor.headers), 403, "forbidden")
        error_of(await api.delete(path, headers=actor.headers), 403, "forbidden")
    moved = await api.patch(
        path, json={"starts_at": "2026-03-19T09:00:00+00:00", "ends_at": None}, headers=world.teacher.headers
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"] == "2026-03-19T09:00:00+00:00" and moved.json()["ends_at"] is None
    # The reminders keep their distance from the new start.
    assert moved.json()["remind_at"] == ["2026-03-18T18:00:00+00:00", "2026-03-19T07:30:00+00:00"]
    error_of(await api.patch(path, json={"title": None}, headers=world.teacher.headers), 422)
    error_of(await api.patch(path, json={"rsvp": "attendance"}, headers=world.teacher.headers), 422)
    cancelled = await api.delete(path, headers=world.admin.headers)
    assert cancelled.status_code == 200 and cancelled.json()["cancelled"] is True
    assert (await api.delete(path, headers=world.admin.headers)).status_code == 200  # idempotent
    error_of(await api.patch(path, json={"title": "Back on"}, headers=world.teacher.headers), 422)
    types = [e["type"] for e in await events_on(world.services, f"class:{world.classes[0].id}")]
    assert types == ["event.created", "event.updated", "event.cancelled"]
    assert len(await _audit(world, "event.edited")) == 1 and len(await _audit(world, "event.cancelled")) == 1
    listed = await api.get(f"/api/classes/{world.classes[0].id}/events", headers=parent.headers)
    assert listed.json()["items"][0]["cancelled"] is True


async def test_weekly_event_shows_its_recurrence(api: httpx.AsyncClient, world: World) -> None:
    event = await create(
        api,
        world,
        title="PE kit",
        rsvp="none",
        starts_at="2026-01-04T08:45:00+00:00",
        ends_at=None,
        remind_at=["2026-01-03T18:00:00+00:00"],
        recurrence={"freq": "weekly", "until": "2026-03-29", "exceptions": ["2026-02-15"]},
    )
    assert event["recurrence"] == {"freq": "weekly", "until": "2026-03-29", "exceptions": ["2026-02-15"]}
