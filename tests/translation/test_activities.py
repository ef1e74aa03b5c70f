"""Home-learning activities reach every reader of the class in their language (real Apertium).

An activity is written in its author's language; its title and instructions are translated
for the class's pupils, families and staff who read another one, queued when it is set or
changed and caught up at start-up; ``activity.translated`` switches open pages live.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.channels.render import Variant
from server.db.models import Activity
from server.events import validate_event
from server.language.view import NO_ROUTES, activity_view, make_renderer
from server.services import Services
from server.translation.pipeline import Pipeline
from tests.factories import make_world
from tests.translation.fixtures import needs_apertium, needs_argos
from tests.translation.test_pipeline import events

pytestmark = [needs_argos, needs_apertium]


@pytest.fixture
async def tapi(translating_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=translating_app, client=("10.92.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def _listed(api: httpx.AsyncClient, class_id: int, activity_id: int, headers: Any) -> dict[str, Any]:
    reply = await api.get(f"/api/classes/{class_id}/activities", headers=headers)
    assert reply.status_code == 200, reply.text
    [found] = [a for a in reply.json()["items"] if a["id"] == activity_id]
    return found  # type: ignore[no-any-return]


async def test_an_activity_reaches_spanish_readers_in_spanish_with_the_original(
    tservices: Services, pipeline: Pipeline, tapi: httpx.AsyncClient
) -> None:
    world = await make_world(tservices)
    class_id = world.classes[0].id
    pupil = await world.add_student(world.classes[0], "Lola", "Ruiz")
    reply = await tapi.patch("/api/me", json={"language": "es"}, headers=pupil.headers)
    assert reply.status_code == 200, reply.text
    colleague = await world.add_user("teacher", language="es")
    title = f"Read a book with your family {secrets.token_hex(2)}"
    instructions = "Write three sentences about the story. Draw the main character."
    made = await tapi.post(
        f"/api/classes/{class_id}/activities",
        json={"title": title, "instructions": instructions},
        headers=world.teacher.headers,
    )
    assert made.status_code == 201, made.text
    activity_id = made.json()["id"]
    assert made.json()["lang"] == "en" and made.json()["translation"] == {"status": "not_needed"}
    assert await pipeline.idle()

    sent = await events(tservices, "activity.translated", "activity_id", activity_id)
    assert {(e.data["field"], e.data["lang"]) for e in sent} == {("title", "es"), ("instructions", "es")}
    for event in sent:
        assert event.channel == f"class:{class_id}" and event.data["class_id"] == class_id
        validate_event(event.type, event.data)
    by_field = {e.data["field"]: e.data["text"] for e in sent}

    for reader in (pupil, colleague):
        seen = await _listed(tapi, class_id, activity_id, reader.headers)
        assert seen["translation"] == {"status": "ready"} and seen["lang"] == "es"
        assert seen["original"] == {"title": title, "instructions": instructions, "lang": "en"}
        assert seen["title"] == by_field["title"] != title
        assert seen["instructions"] == by_field["instructions"] != instructions
    one = (await tapi.get(f"/api/activities/{activity_id}", headers=pupil.headers)).json()
    assert one["title"] == by_field["title"] and one["translation"] == {"status": "ready"}
    own = await _listed(tapi, class_id, activity_id, world.teacher.headers)
    assert own["title"] == title and own["translation"] == {"status": "not_needed"}

    # a new title is translated again; the unchanged instructions keep their translation
    changed = f"Read a poem with your family {secrets.token_hex(2)}"
    reply = await tapi.patch(
        f"/api/activities/{activity_id}", json={"title": changed}, headers=world.teacher.headers
    )
    assert reply.status_code == 200, reply.text
    assert await pipeline.idle()
    earlier = {e.id for e in sent}
    again = [
        e
        for e in await events(tservices, "activity.translated", "activity_id", activity_id)
        if e.id not in earlier
    ]
    assert [e.data["field"] for e in again] == ["title"]
    seen = await _listed(tapi, class_id, activity_id, pupil.headers)
    assert seen["translation"] == {"status": "ready"} and seen["original"]["title"] == changed
    assert seen["title"] == again[0].data["text"] and seen["instructions"] == by_field["instructions"]


async def test_activities_written_without_an_event_are_caught_up_at_start(
    tservices: Services, pipeline: Pipeline, tapi: httpx.AsyncClient
) -> None:
    world = await make_world(tservices)
    pupil = await world.add_student(world.classes[0], "Lola", "Ruiz")
    reply = await tapi.patch("/api/me", json={"language": "es"}, headers=pupil.headers)
    assert reply.status_code == 200, reply.text
    title = f"Count the birds in your garden {secrets.token_hex(2)}"
    async with tservices.transaction() as session:  # as the demo or an import writes it
        activity = Activity(
            school_id=world.school.id,
            class_id=world.classes[0].id,
            title=title,
            instructions="",
            created_by=world.teacher.id,
        )
        session.add(activity)
    seen = await _listed(tapi, world.classes[0].id, activity.id, pupil.headers)
    assert seen["translation"] == {"status": "pending"} and seen["title"] == title

    assert await pipeline.catch_up() >= 1
    assert await pipeline.idle()
    seen = await _listed(tapi, world.classes[0].id, activity.id, pupil.headers)
    assert seen["translation"] == {"status": "ready"} and seen["title"] != title
    assert seen["original"] == {"title": title, "instructions": "", "lang": "en"}


class EveryPair:
    """Routes where an engine serves every pair."""

    def engine_for(self, source: str, target: str) -> str | None:
        return "apertium"


def test_the_live_layer_renders_an_activity_event_per_reader_language() -> None:
    activity = {
        "id": 7,
        "class_id": 3,
        "title": "Draw a map",
        "instructions": "Use colours",
        "lang": "en",
        "translations": {"title": {"es": "Dibuja un mapa"}, "instructions": {}},
    }
    render = make_renderer(EveryPair())
    spanish = render({"activity": activity}, Variant("es", False))["activity"]
    assert spanish["title"] == "Dibuja un mapa" and spanish["instructions"] == "Use colours"
    assert spanish["translation"]["status"] == "pending" and "translations" not in spanish
    english = render({"activity": activity}, Variant("en", True))["activity"]
    assert english["title"] == "Draw a map" and english["translation"] == {"status": "not_needed"}
    done = {**activity, "translations": {"title": {"es": "Dibuja"}, "instructions": {"es": "Usa colores"}}}
    view = activity_view(done, "es", routes=NO_ROUTES)
    assert (view["title"], view["instructions"], view["lang"]) == ("Dibuja", "Usa colores", "es")
    assert view["translation"] == {"status": "ready"}
    again = activity_view(view, "en", routes=NO_ROUTES)
    assert again["title"] == "Draw a map"  # rendering again starts from the original
