"""Files attached to messages pass the same access decision as every other file.

The messages themselves follow the messaging rules (a message held in quiet hours is not
shown to the member of staff until it is released, P7; admins read a conversation only
once something in it is reported, P9/P19); the files attached to them must follow exactly
the same rules, on the download route as in the conversation.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from server.services import Services
from tests.conftest import Clock
from tests.factories import World, upload_id
from tests.messaging.conftest import FRIDAY_EVENING, WEDNESDAY_MORNING, open_chat


async def _fetch(api: httpx.AsyncClient, url: str, headers: dict[str, str]) -> int:
    return (await api.get(url, headers=headers)).status_code


async def test_a_held_messages_photo_reaches_staff_only_when_the_message_does(
    api: httpx.AsyncClient, world: World, clock: Clock, services: Services
) -> None:
    clock.set(WEDNESDAY_MORNING)
    chat = await open_chat(api, world)
    clock.set(FRIDAY_EVENING)
    photo = await upload_id(api, chat.parent)
    sent = await api.post(
        chat.messages_url(),
        json={"text": "Her reading log", "media_ids": [photo]},
        headers=chat.parent.headers,
    )
    assert sent.status_code == 201 and sent.json()["delivery"] == "held_quiet_hours"
    url = sent.json()["media"][0]["url"]

    assert await _fetch(api, url, chat.parent.headers) == 200
    assert await _fetch(api, url, chat.teacher.headers) == 404, "held message's photo served to staff"
    assert await _fetch(api, url, world.admin.headers) == 404
    assert await _fetch(api, url, world.office.headers) == 404

    runner = services.jobs
    clock.set(datetime(2026, 3, 9, 8, 0, 1, tzinfo=UTC))
    assert await runner.run_once("release_held_messages") is True
    assert await _fetch(api, url, chat.teacher.headers) == 200
    assert await _fetch(api, url, world.admin.headers) == 404, "admins see only reported conversations"


async def test_admins_see_a_reported_conversations_files_like_its_messages(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    clock.set(WEDNESDAY_MORNING)
    chat = await open_chat(api, world)
    photo = await upload_id(api, chat.parent)
    with_photo = await api.post(chat.messages_url(), json={"media_ids": [photo]}, headers=chat.parent.headers)
    assert with_photo.status_code == 201
    url = with_photo.json()["media"][0]["url"]
    rude = await api.post(chat.messages_url(), json={"text": "You are useless"}, headers=chat.parent.headers)
    assert await _fetch(api, url, world.admin.headers) == 404
    reported = await api.post(
        f"/api/messages/{rude.json()['id']}/report", json={"reason": "rude"}, headers=chat.teacher.headers
    )
    assert reported.status_code in (200, 201), reported.text
    readable = await api.get(chat.messages_url(), headers=world.admin.headers)
    assert readable.status_code == 200 and photo in {
        m["id"] for i in readable.json()["items"] for m in i["media"]
    }
    assert await _fetch(api, url, world.admin.headers) == 200
