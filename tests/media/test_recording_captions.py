"""Captions on recordings: typed by the uploader, stored with the file, shown wherever it is."""

from __future__ import annotations

import httpx

from server.media.processing import RecordingPart
from tests.conftest import Clock
from tests.factories import World, events_on
from tests.media.recording_files import needs_ffmpeg, wait_processed
from tests.messaging.conftest import WEDNESDAY_MORNING, open_chat

pytestmark = needs_ffmpeg


async def _upload(
    api: httpx.AsyncClient, headers: dict[str, str], data: bytes, caption: str | None
) -> httpx.Response:
    fields = {} if caption is None else {"caption": caption}
    return await api.post(
        "/api/media",
        data=fields,
        files={"file": ("note.ogg", data, "application/octet-stream")},
        headers=headers,
    )


async def test_a_caption_of_at_most_500_characters_is_kept_and_a_longer_one_refused(
    api: httpx.AsyncClient, world: World, recording_files: dict[str, bytes], paused: RecordingPart
) -> None:
    voice = recording_files["voice"]
    refused = await _upload(api, world.teacher.headers, voice, "x" * 501)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "validation_error"

    longest = await _upload(api, world.teacher.headers, voice, "é" * 500)
    assert longest.status_code == 201, longest.text
    assert longest.json()["caption"] == "é" * 500

    plain = await _upload(api, world.teacher.headers, voice, "  <b>Our song</b>\n")
    assert plain.status_code == 201, plain.text
    assert plain.json()["caption"] == "<b>Our song</b>"  # kept as text, trimmed

    none = await _upload(api, world.teacher.headers, voice, None)
    assert none.status_code == 201 and none.json()["caption"] is None
    blank = await _upload(api, world.teacher.headers, voice, "   ")
    assert blank.status_code == 201 and blank.json()["caption"] is None


async def test_a_voice_note_message_carries_its_caption_and_state_to_both_sides(
    api: httpx.AsyncClient,
    world: World,
    clock: Clock,
    recording_files: dict[str, bytes],
    paused: RecordingPart,
) -> None:
    clock.set(WEDNESDAY_MORNING)
    chat = await open_chat(api, world)
    uploaded = await _upload(api, chat.parent.headers, recording_files["voice"], "Amir's poem")
    assert uploaded.status_code == 201, uploaded.text
    voice = uploaded.json()
    sent = await api.post(
        chat.messages_url(), json={"text": "", "media_ids": [voice["id"]]}, headers=chat.parent.headers
    )
    assert sent.status_code == 201, sent.text
    [attached] = sent.json()["media"]
    assert attached["status"] == "processing" and attached["caption"] == "Amir's poem"

    assert await wait_processed(world.services, voice["id"]) == "ready"
    [created] = await events_on(world.services, f"user:{chat.teacher.id}", "message.created")
    [theirs] = created["data"]["message"]["media"]
    assert theirs["status"] == "ready" and theirs["kind"] == "audio"
    assert theirs["caption"] == "Amir's poem" and theirs["duration"] > 0
    listed = (await api.get(chat.messages_url(), headers=chat.teacher.headers)).json()["items"]
    shown = next(m for m in listed if m["id"] == sent.json()["id"])
    assert shown["media"][0]["caption"] == "Amir's poem"
