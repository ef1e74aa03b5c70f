"""Messages listed in the reader's language: the office inbox, and conversation previews."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from server.events import validate_event
from server.services import Services
from server.translation.pipeline import Pipeline
from tests.translation.fixtures import needs_apertium, needs_argos
from tests.translation.test_pipeline import conversation, events

pytestmark = [needs_argos, needs_apertium]


@pytest.fixture
async def tapi(translating_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=translating_app, client=("10.89.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_a_spanish_absence_message_reaches_the_office_inbox_in_english(
    tservices: Services, pipeline: Pipeline, tapi: httpx.AsyncClient
) -> None:
    world, parent, conversation_id = await conversation(tservices, "es")
    await world.update_school(
        working_hours={key: ["00:00", "23:59"] for key in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    )
    text = f"Mi hija está enferma hoy y no puede ir a la escuela {secrets.token_hex(2)}."
    sent = await tapi.post(
        f"/api/conversations/{conversation_id}/messages", json={"text": text}, headers=parent.headers
    )
    assert sent.status_code == 201, sent.text
    message_id = sent.json()["id"]
    assert await pipeline.idle()

    inbox = await tapi.get("/api/office/messages", headers=world.office.headers)
    assert inbox.status_code == 200, inbox.text
    [item] = [i for i in inbox.json()["items"] if i["id"] == message_id]
    message = item["message"]
    assert message["lang"] == "en" and message["translation"]["status"] == "ready"
    assert message["original"] == {"text": text, "lang": "es"} and message["text"] != text
    assert "school" in message["text"].lower()

    office_events = [
        e
        for e in await events(tservices, "message.translated", "message_id", message_id)
        if e.channel == f"user:{world.office.id}"
    ]
    assert [e.data["lang"] for e in office_events] == ["en"]
    validate_event(office_events[0].type, office_events[0].data)


async def test_the_conversation_list_previews_the_last_message_in_the_readers_language(
    tservices: Services, pipeline: Pipeline, tapi: httpx.AsyncClient
) -> None:
    world, parent, conversation_id = await conversation(tservices, "es")
    text = f"The trip form is due on Friday {secrets.token_hex(2)}."
    sent = await tapi.post(
        f"/api/conversations/{conversation_id}/messages", json={"text": text}, headers=world.teacher.headers
    )
    assert sent.status_code == 201, sent.text
    assert await pipeline.idle()
    listed = await tapi.get("/api/conversations", headers=parent.headers)
    [item] = [c for c in listed.json()["items"] if c["id"] == conversation_id]
    preview = item["last_message"]
    assert preview["lang"] == "es" and preview["translation"]["status"] == "ready"
    assert "viernes" in preview["text"] and preview["original"] == {"text": text, "lang": "en"}
    mine = await tapi.get("/api/conversations", headers=world.teacher.headers)
    [own] = [c for c in mine.json()["items"] if c["id"] == conversation_id]
    assert (
        own["last_message"]["text"] == text and own["last_message"]["translation"]["status"] == "not_needed"
    )
