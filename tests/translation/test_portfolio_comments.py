"""A teacher's comment on a pupil's work reaches a Spanish-reading parent in Spanish (real Apertium)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from server.events import validate_event
from server.services import Services
from server.translation.pipeline import Pipeline
from tests.factories import add_activity, make_world
from tests.translation.fixtures import needs_apertium, needs_argos
from tests.translation.test_pipeline import events

pytestmark = [needs_argos, needs_apertium]


@pytest.fixture
async def tapi(translating_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=translating_app, client=("10.91.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_a_teachers_comment_reaches_a_spanish_parent_in_spanish_with_the_original(
    tservices: Services, pipeline: Pipeline, tapi: httpx.AsyncClient
) -> None:
    world = await make_world(tservices)
    pupil = await world.add_student(world.classes[0], "Lola", "Ruiz")
    parent = await world.add_parent(pupil, language="es")
    activity = await add_activity(world, world.classes[0])
    handed_in = await tapi.post(
        f"/api/activities/{activity.id}/submissions", json={"text": "A tiger"}, headers=pupil.headers
    )
    assert handed_in.status_code == 201, handed_in.text
    item_id = handed_in.json()["id"]
    comment = f"Lola, this is a beautiful drawing {secrets.token_hex(2)}."
    approved = await tapi.post(
        f"/api/submissions/{item_id}/approve", json={"comment": comment}, headers=world.teacher.headers
    )
    assert approved.status_code == 200, approved.text
    assert await pipeline.idle()

    [event] = await events(tservices, "portfolio.translated", "item_id", item_id)
    assert event.channel == f"student:{pupil.student.id}" and event.data["lang"] == "es"  # type: ignore[union-attr]
    validate_event(event.type, event.data)

    page = await tapi.get(f"/api/students/{pupil.student.id}/portfolio", headers=parent.headers)  # type: ignore[union-attr]
    assert page.status_code == 200, page.text
    [item] = [i for i in page.json()["items"] if i["id"] == item_id]
    assert item["comment_translation"] == {"status": "ready"} and item["comment_lang"] == "es"
    assert item["comment_original"] == {"text": comment, "lang": "en"}
    assert item["comment"] == event.data["text"] and "Lola" in item["comment"] and item["comment"] != comment

    staff_page = await tapi.get(f"/api/students/{pupil.student.id}/portfolio", headers=world.teacher.headers)  # type: ignore[union-attr]
    [own] = [i for i in staff_page.json()["items"] if i["id"] == item_id]
    assert own["comment"] == comment and "comment_translation" not in own
