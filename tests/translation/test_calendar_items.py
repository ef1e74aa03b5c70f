"""School events and absence notes through the real translation pipeline (tiny argos en↔ur packages).

An event's title and details reach its readers in their language (``event.translated``, and REST);
an absence note a family writes in Urdu reaches the office in English (P8).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from server.events import validate_event
from server.services import Services
from server.translation.pipeline import Pipeline
from tests.factories import make_world
from tests.translation.fixtures import ARGOS_LANG, needs_argos
from tests.translation.test_pipeline import events

pytestmark = [needs_argos]


@pytest.fixture
async def tapi(translating_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=translating_app, client=("10.93.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_an_events_title_and_details_reach_a_reader_in_their_language(
    tservices: Services, pipeline: Pipeline, tapi: httpx.AsyncClient
) -> None:
    world = await make_world(tservices)
    pupil = await world.add_student(world.classes[0], "Ayaan", "Shah")
    parent = await world.add_parent(pupil, language=ARGOS_LANG)
    made = await tapi.post(
        f"/api/classes/{world.classes[0].id}/events",
        json={
            "title": "Trip to the farm",
            "details": "Bring a coat.",
            "starts_at": "2027-05-04T09:00:00+01:00",
        },
        headers=world.teacher.headers,
    )
    assert made.status_code == 201, made.text
    event_id = made.json()["id"]
    assert await pipeline.idle()
    sent = await events(tservices, "event.translated", "event_id", event_id)
    assert {(e.data["field"], e.data["lang"]) for e in sent} == {
        ("title", ARGOS_LANG),
        ("details", ARGOS_LANG),
    }
    for found in sent:
        validate_event(found.type, found.data)
        assert found.channel == f"class:{world.classes[0].id}"
    seen = (await tapi.get(f"/api/events/{event_id}", headers=parent.headers)).json()
    assert seen["translation"] == {"status": "ready"} and seen["lang"] == ARGOS_LANG
    assert seen["title"] == next(e.data["text"] for e in sent if e.data["field"] == "title")
    assert seen["original"]["title"] == "Trip to the farm"


async def test_an_absence_note_reaches_the_office_in_its_language(
    tservices: Services, pipeline: Pipeline, tapi: httpx.AsyncClient
) -> None:
    world = await make_world(tservices)
    pupil = await world.add_student(world.classes[0], "Ayaan", "Shah")
    parent = await world.add_parent(pupil, language=ARGOS_LANG)
    assert pupil.student is not None
    note = "He has a fever today."
    reply = await tapi.post(
        "/api/absences",
        json={
            "student_id": pupil.student.id,
            "from": "2027-05-04",
            "to": "2027-05-04",
            "reason": "illness",
            "note": note,
        },
        headers=parent.headers,
    )
    assert reply.status_code == 201, reply.text
    assert await pipeline.idle()
    (sent,) = await events(tservices, "absence.translated", "absence_id", reply.json()["id"])
    validate_event(sent.type, sent.data)
    assert sent.channel == f"school:{world.school.id}:staff" and sent.data["lang"] == "en"
    listed = (await tapi.get("/api/absences?date=2027-05-04", headers=world.office.headers)).json()["items"]
    assert listed[0]["note"] == sent.data["text"] and listed[0]["translation"] == {"status": "ready"}
    assert listed[0]["original"] == {"text": note, "lang": ARGOS_LANG}
