"""Replies and trip consent: guardians answer per child until the deadline; staff see, chase and nudge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from server.db.models import AuditEntry
from server.events import validate_event
from tests.calendar.test_events_api import TRIP, create
from tests.conftest import Clock
from tests.factories import Actor, World, error_of, events_on

BEFORE = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


async def answer(
    api: httpx.AsyncClient, event: dict[str, Any], pupil: Actor, parent: Actor, reply: str, note: str = ""
) -> httpx.Response:
    assert pupil.student is not None
    return await api.put(
        f"/api/events/{event['id']}/responses/{pupil.student.id}",
        json={"answer": reply, "note": note},
        headers=parent.headers,
    )


async def test_guardian_gives_consent_and_staff_see_it_live_on_the_class_staff_channel(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    clock.set(BEFORE)
    pupil, parent = await world.add_family("Maya")
    event = await create(api, world)
    reply = await answer(api, event, pupil, parent, "yes", "She has a nut allergy.")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["answer"] == "yes" and body["note"] == "She has a nut allergy."
    assert body["student"] == {"id": pupil.student.id, "name": "Maya"}  # type: ignore[union-attr]
    assert body["guardian"]["id"] == parent.id
    (live,) = await events_on(world.services, f"class:{world.classes[0].id}:staff", "event.answered")
    validate_event(live["type"], live["data"])
    assert live["data"]["response"]["answer"] == "yes"
    changed = await answer(api, event, pupil, parent, "no")
    assert changed.json()["answer"] == "no"
    async with world.services.read() as session:
        audited = (
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.school_id == world.school.id, AuditEntry.action == "event.answered"
                )
            )
        ).all()
    assert [a.details["answer"] for a in audited] == ["yes", "no"]


async def test_answers_close_at_the_deadline(api: httpx.AsyncClient, world: World, clock: Clock) -> None:
    clock.set(BEFORE)
    pupil, parent = await world.add_family()
    event = await create(api, world, respond_by="2026-03-05T12:00:00+00:00")
    assert event["respond_by"] == "2026-03-05T12:00:00+00:00"
    assert (await answer(api, event, pupil, parent, "yes")).status_code == 200
    clock.set(datetime(2026, 3, 5, 12, 0, 1, tzinfo=UTC))
    error_of(await answer(api, event, pupil, parent, "no"), 409, "replies_closed")
    listed = await api.get(f"/api/events/{event['id']}/responses", headers=world.teacher.headers)
    assert listed.json()["counts"] == {"yes": 1, "no": 0, "unanswered": 0}


async def test_only_the_pupils_living_guardians_may_answer(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    clock.set(BEFORE)
    pupil, parent = await world.add_family("Maya")
    other, other_parent = await world.add_family("Leo")
    removed = await world.add_parent(pupil, name="Removed carer")
    leaver, leaver_parent = await world.add_family("Zed")
    event = await create(api, world)
    error_of(await answer(api, event, pupil, other_parent, "yes"), 404, "not_found")
    error_of(await answer(api, event, pupil, world.teacher, "yes"), 403, "forbidden")
    error_of(await answer(api, event, pupil, pupil, "yes"), 403, "forbidden")
    unlinked = await api.delete(
        f"/api/students/{pupil.student.id}/guardians/{removed.id}",
        headers=world.admin.headers,  # type: ignore[union-attr]
    )
    assert unlinked.status_code in (200, 204), unlinked.text
    error_of(await answer(api, event, pupil, removed, "yes"), 404, "not_found")
    left = await api.patch(
        f"/api/students/{leaver.student.id}",
        json={"left_at": "2026-02-01T00:00:00+00:00"},
        headers=world.admin.headers,  # type: ignore[union-attr]
    )
    assert left.status_code == 200, left.text
    error_of(await answer(api, event, leaver, leaver_parent, "yes"), 404, "not_found")
    error_of(
        await api.put(
            f"/api/events/{event['id']}/responses/{pupil.student.id}",
            json={"answer": "maybe"},
            headers=parent.headers,
        ),  # type: ignore[union-attr]
        422,
        "validation_error",
    )
    plain = await create(api, world, rsvp="none")
    error_of(await answer(api, plain, pupil, parent, "yes"), 422, "validation_error")
    assert await events_on(world.services, f"class:{world.classes[0].id}:staff", "event.answered") == []
    assert (await answer(api, event, other, other_parent, "yes")).status_code == 200


async def test_staff_see_who_has_not_answered_and_who_has_no_guardian(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    clock.set(BEFORE)
    maya, maya_parent = await world.add_family("Maya")
    await world.add_family("Leo")
    alone = await world.add_student(world.classes[0], "Noor", "Ali")
    event = await create(api, world)
    await answer(api, event, maya, maya_parent, "yes")
    for actor in (maya_parent, maya):
        error_of(
            await api.get(f"/api/events/{event['id']}/responses", headers=actor.headers), 403, "forbidden"
        )
    found = (await api.get(f"/api/events/{event['id']}/responses", headers=world.office.headers)).json()
    assert found["counts"] == {"yes": 1, "no": 0, "unanswered": 2}
    assert sorted(p["name"] for p in found["unanswered"]) == ["Leo", "Noor"]
    assert [p["id"] for p in found["no_guardian"]] == [alone.student.id]  # type: ignore[union-attr]


async def test_nudge_tells_only_the_guardians_who_have_not_answered_once(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    clock.set(BEFORE)
    maya, maya_parent = await world.add_family("Maya")
    _, leo_parent = await world.add_family("Leo")
    event = await create(api, world)
    await answer(api, event, maya, maya_parent, "no")
    error_of(await api.post(f"/api/events/{event['id']}/nudge", headers=leo_parent.headers), 403, "forbidden")
    nudged = await api.post(f"/api/events/{event['id']}/nudge", headers=world.teacher.headers)
    assert nudged.status_code == 200 and nudged.json() == {"nudged": 1}
    assert await events_on(world.services, f"user:{maya_parent.id}", "event.nudge") == []
    (sent,) = await events_on(world.services, f"user:{leo_parent.id}", "event.nudge")
    validate_event(sent["type"], sent["data"])
    error_of(
        await api.post(f"/api/events/{event['id']}/nudge", headers=world.teacher.headers), 429, "rate_limited"
    )


async def test_a_school_event_answer_reaches_the_pupils_class_staff(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    clock.set(BEFORE)
    pupil, parent = await world.add_family()
    reply = await api.post(
        "/api/school/events", json={**TRIP, "rsvp": "attendance"}, headers=world.admin.headers
    )
    event = reply.json()
    assert (await answer(api, event, pupil, parent, "yes")).status_code == 200
    assert len(await events_on(world.services, f"class:{world.classes[0].id}:staff", "event.answered")) == 1
