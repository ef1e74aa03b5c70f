"""Readers report bad translations; admins list them with both versions."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from server.services import Services
from server.translation.pipeline import Pipeline
from tests.factories import error_of, make_world
from tests.translation.fixtures import needs_apertium, needs_argos
from tests.translation.test_pipeline import conversation, write_message, write_post

pytestmark = [needs_argos, needs_apertium]


@pytest.fixture
async def tapi(translating_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=translating_app, client=("10.90.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_a_parent_reports_a_post_translation_and_an_admin_sees_both_versions(
    tservices: Services, pipeline: Pipeline, tapi: httpx.AsyncClient
) -> None:
    world = await make_world(tservices)
    pupil = await world.add_student(world.classes[0], "Lola", "Ruiz")
    parent = await world.add_parent(pupil, language="es")
    text = f"The library is closed on Monday {secrets.token_hex(2)}."
    post_id = await write_post(tservices, world, world.classes[0].id, text)
    assert await pipeline.idle()
    spanish = (await tapi.get(f"/api/posts/{post_id}", headers=parent.headers)).json()["text"]

    body = {"kind": "post", "id": post_id, "lang": "es", "reason": "It says the wrong day"}
    first = await tapi.post("/api/translations/report", json=body, headers=parent.headers)
    assert first.status_code == 201, first.text
    report = first.json()
    assert report["original"] == {"text": text, "lang": "en"}
    assert report["translation"] == {"text": spanish, "lang": "es", "engine": "apertium"}
    again = await tapi.post(
        "/api/translations/report", json={**body, "reason": "Wrong day"}, headers=parent.headers
    )
    assert again.status_code == 200 and again.json()["id"] == report["id"]

    listed = await tapi.get("/api/translations/reports", headers=world.admin.headers)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert item["reason"] == "Wrong day" and item["kind"] == "post" and item["item_id"] == post_id
    assert item["original"]["text"] == text and item["translation"]["text"] == spanish
    assert item["reporter"]["id"] == parent.id

    error_of(await tapi.get("/api/translations/reports", headers=world.teacher.headers), 403)
    other = await make_world(tservices)
    assert (await tapi.get("/api/translations/reports", headers=other.admin.headers)).json()["items"] == []


async def test_only_readers_report_and_only_translations_that_exist(
    tservices: Services, pipeline: Pipeline, tapi: httpx.AsyncClient
) -> None:
    world = await make_world(tservices)
    pupil = await world.add_student(world.classes[0], "Lola", "Ruiz")
    parent = await world.add_parent(pupil, language="es")
    post_id = await write_post(tservices, world, world.classes[0].id, f"Sports day {secrets.token_hex(2)}.")
    assert await pipeline.idle()
    stranger = await (await make_world(tservices)).add_user("parent", language="es")
    body = {"kind": "post", "id": post_id, "lang": "es"}
    error_of(await tapi.post("/api/translations/report", json=body, headers=stranger.headers), 404)
    missing = {**body, "lang": "pl"}
    error_of(await tapi.post("/api/translations/report", json=missing, headers=parent.headers), 404)
    wrong = {**body, "kind": "photo"}
    error_of(await tapi.post("/api/translations/report", json=wrong, headers=parent.headers), 422)


async def test_a_teacher_reports_the_translation_of_a_familys_message(
    tservices: Services, pipeline: Pipeline, tapi: httpx.AsyncClient
) -> None:
    world, parent, conversation_id = await conversation(tservices, "es")
    text = f"Gracias por la carta de la excursión {secrets.token_hex(2)}."
    message_id = await write_message(tservices, conversation_id, parent.id, world.teacher.id, text, "es")
    assert await pipeline.idle()
    body = {"kind": "message", "id": message_id, "lang": "en"}
    reply = await tapi.post("/api/translations/report", json=body, headers=world.teacher.headers)
    assert reply.status_code == 201, reply.text
    assert reply.json()["original"] == {"text": text, "lang": "es"}
    assert reply.json()["translation"]["lang"] == "en"
    outsider = await world.add_user("teacher")
    error_of(await tapi.post("/api/translations/report", json=body, headers=outsider.headers), 404)
