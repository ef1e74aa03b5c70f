"""Where recordings appear (stories, portfolio, activities, messages), who sees them, and when."""

from __future__ import annotations

from typing import Any

import httpx

from server.media.processing import RecordingPart
from tests.conftest import Clock
from tests.factories import World, add_activity, events_on
from tests.media.recording_files import needs_ffmpeg, upload_recording, wait_processed
from tests.messaging.conftest import WEDNESDAY_MORNING, open_chat

pytestmark = needs_ffmpeg


async def _recording(
    api: httpx.AsyncClient, headers: dict[str, str], data: bytes, name: str
) -> dict[str, Any]:
    reply = await upload_recording(api, headers, data, name)
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


async def _ready_shape(
    api: httpx.AsyncClient, world: World, headers: dict[str, str], data: bytes
) -> dict[str, Any]:
    shape = await _recording(api, headers, data, "clip.mp4")
    assert await wait_processed(world.services, shape["id"]) == "ready"
    async with world.services.read() as session:
        from server.db.models import Media
        from server.media import media_shape

        media = await session.get(Media, shape["id"])
        assert media is not None
        return media_shape(media)


async def test_a_class_post_with_a_video_processing_is_published_only_when_it_is_ready(
    api: httpx.AsyncClient, world: World, recording_files: dict[str, bytes], paused: RecordingPart
) -> None:
    pupil, parent = await world.add_family()
    video = await _recording(api, world.teacher.headers, recording_files["small"], "trip.mp4")
    posted = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Our trip", "media_ids": [video["id"]]},
        headers=world.teacher.headers,
    )
    assert posted.status_code == 201, posted.text
    post = posted.json()
    assert post["media"][0]["status"] == "processing"
    channel = f"class:{world.classes[0].id}"
    assert await events_on(world.services, channel, "post.created") == []
    # the author sees it meanwhile; families do not see it at all
    mine = (await api.get("/api/feed", headers=world.teacher.headers)).json()["items"]
    assert [p["id"] for p in mine] == [post["id"]]
    for reader in (parent, pupil):
        assert (await api.get("/api/feed", headers=reader.headers)).json()["items"] == []
        assert (await api.get(f"/api/posts/{post['id']}", headers=reader.headers)).status_code == 404
    story = await api.get(f"/api/classes/{world.classes[0].id}/posts", headers=parent.headers)
    assert story.json()["items"] == []

    assert await wait_processed(world.services, video["id"]) == "ready"
    [created] = await events_on(world.services, channel, "post.created")
    assert created["data"]["post"]["id"] == post["id"]
    assert created["data"]["post"]["media"][0]["status"] == "ready"
    assert created["data"]["post"]["media"][0]["poster_url"]
    seen = (await api.get("/api/feed", headers=parent.headers)).json()["items"]
    assert [p["id"] for p in seen] == [post["id"]]
    media = seen[0]["media"][0]
    assert (await api.get(media["url"], headers=parent.headers)).status_code == 200
    assert (await api.get(media["poster_url"], headers=parent.headers)).status_code == 200


async def test_a_family_without_access_gets_404_for_the_video_and_its_poster(
    api: httpx.AsyncClient, world: World, recording_files: dict[str, bytes]
) -> None:
    other_class = await world.add_class("Year 2 Ash")
    pupil, parent = await world.add_family()
    _, outsider = await world.add_family("Zoe", school_class=other_class)
    media = await _ready_shape(api, world, world.teacher.headers, recording_files["small"])
    posted = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Assembly", "media_ids": [media["id"]]},
        headers=world.teacher.headers,
    )
    assert posted.status_code == 201
    for url in (media["url"], media["poster_url"]):
        assert (await api.get(url, headers=parent.headers)).status_code == 200
        assert (await api.get(url, headers=pupil.headers)).status_code == 200
        assert (await api.get(url, headers=outsider.headers)).status_code == 404
        ranged = await api.get(url, headers={**outsider.headers, "Range": "bytes=0-10"})
        assert ranged.status_code == 404


async def test_consent_withdrawal_withholds_videos_and_posters_like_photos(
    api: httpx.AsyncClient, world: World, recording_files: dict[str, bytes]
) -> None:
    maya, parent = await world.add_family("Maya")
    assert maya.student is not None
    media = await _ready_shape(api, world, world.teacher.headers, recording_files["small"])
    posted = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Maya's song", "media_ids": [media["id"]], "student_ids": [maya.student.id]},
        headers=world.teacher.headers,
    )
    assert posted.status_code == 201, posted.text
    post_id = posted.json()["id"]
    assert (await api.get(media["url"], headers=parent.headers)).status_code == 200

    async def set_student(**change: bool) -> None:
        changed = await api.patch(
            f"/api/students/{maya.student.id}", json=change, headers=world.admin.headers
        )
        assert changed.status_code == 200, changed.text

    for withdrawn, restored in (
        ({"photo_consent": False}, {"photo_consent": True}),
        ({"la_care": True}, {"la_care": False}),
    ):
        await set_student(**withdrawn)
        for reader in (parent, world.teacher, world.admin):
            seen = (await api.get(f"/api/posts/{post_id}", headers=reader.headers)).json()
            assert seen["media"] == []
            for url in (media["url"], media["poster_url"]):
                assert (await api.get(url, headers=reader.headers)).status_code == 404
        await set_student(**restored)
        assert (await api.get(media["poster_url"], headers=parent.headers)).status_code == 200


async def test_a_video_cannot_be_posted_tagging_a_pupil_without_consent(
    api: httpx.AsyncClient, world: World, recording_files: dict[str, bytes]
) -> None:
    no_consent = await world.add_student(world.classes[0], "Amir", photo_consent=False)
    assert no_consent.student is not None
    media = await _ready_shape(api, world, world.teacher.headers, recording_files["small"])
    refused = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Song", "media_ids": [media["id"]], "student_ids": [no_consent.student.id]},
        headers=world.teacher.headers,
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "consent_required"


async def test_a_pupil_reading_aloud_is_handed_in_when_ready_and_played_by_the_parent_after_approval(
    api: httpx.AsyncClient, world: World, recording_files: dict[str, bytes], paused: RecordingPart
) -> None:
    pupil, parent = await world.add_family("Ava")
    activity = await add_activity(world, world.classes[0], "Read a page aloud")
    voice = await _recording(api, pupil.headers, recording_files["voice"], "reading.ogg")
    handed = await api.post(
        f"/api/activities/{activity.id}/submissions", json={"media_ids": [voice["id"]]}, headers=pupil.headers
    )
    assert handed.status_code == 201, handed.text
    item = handed.json()
    staff_channel = f"class:{world.classes[0].id}:staff"
    assert await events_on(world.services, staff_channel, "portfolio.submitted") == []
    listed = await api.get(f"/api/classes/{world.classes[0].id}/submissions", headers=world.teacher.headers)
    assert listed.json()["items"] == []
    assert (await api.get(f"/api/submissions/{item['id']}", headers=world.teacher.headers)).status_code == 404
    assert (await api.get(f"/api/submissions/{item['id']}", headers=pupil.headers)).status_code == 200

    assert await wait_processed(world.services, voice["id"]) == "ready"
    [submitted] = await events_on(world.services, staff_channel, "portfolio.submitted")
    assert submitted["data"]["item"]["id"] == item["id"]
    assert submitted["data"]["item"]["media"][0]["kind"] == "audio"
    assert (await api.get(voice["url"], headers=parent.headers)).status_code == 404  # not approved yet
    approved = await api.post(
        f"/api/submissions/{item['id']}/approve", json={}, headers=world.teacher.headers
    )
    assert approved.status_code == 200, approved.text
    played = await api.get(voice["url"], headers={**parent.headers, "Range": "bytes=0-"})
    assert played.status_code == 206 and played.headers["content-type"] == "audio/mp4"


async def test_a_voice_note_message_reaches_the_teacher_only_when_ready(
    api: httpx.AsyncClient,
    world: World,
    clock: Clock,
    recording_files: dict[str, bytes],
    paused: RecordingPart,
) -> None:
    clock.set(WEDNESDAY_MORNING)
    chat = await open_chat(api, world)
    voice = await _recording(api, chat.parent.headers, recording_files["voice"], "note.ogg")
    sent = await api.post(
        chat.messages_url(), json={"text": "", "media_ids": [voice["id"]]}, headers=chat.parent.headers
    )
    assert sent.status_code == 201, sent.text
    message_id = sent.json()["id"]
    assert await events_on(world.services, f"user:{chat.teacher.id}", "message.created") == []
    theirs = (await api.get(chat.messages_url(), headers=chat.teacher.headers)).json()["items"]
    assert message_id not in [m["id"] for m in theirs]
    own = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    assert message_id in [m["id"] for m in own]

    assert await wait_processed(world.services, voice["id"]) == "ready"
    [created] = await events_on(world.services, f"user:{chat.teacher.id}", "message.created")
    assert created["data"]["message"]["id"] == message_id
    assert created["data"]["message"]["media"][0]["kind"] == "audio"
    theirs = (await api.get(chat.messages_url(), headers=chat.teacher.headers)).json()["items"]
    assert message_id in [m["id"] for m in theirs]
    assert (await api.get(voice["url"], headers=chat.teacher.headers)).status_code == 200


async def test_an_activity_with_a_video_reaches_the_class_when_ready(
    api: httpx.AsyncClient, world: World, recording_files: dict[str, bytes], paused: RecordingPart
) -> None:
    pupil, _ = await world.add_family("Ben")
    video = await _recording(api, world.teacher.headers, recording_files["small"], "howto.mp4")
    created = await api.post(
        f"/api/classes/{world.classes[0].id}/activities",
        json={"title": "Watch and draw", "media_ids": [video["id"]]},
        headers=world.teacher.headers,
    )
    assert created.status_code == 201, created.text
    activity_id = created.json()["id"]
    channel = f"class:{world.classes[0].id}"
    assert await events_on(world.services, channel, "activity.created") == []
    listed = await api.get(f"/api/classes/{world.classes[0].id}/activities", headers=pupil.headers)
    assert listed.json()["items"] == []
    assert (await api.get(f"/api/activities/{activity_id}", headers=pupil.headers)).status_code == 404

    assert await wait_processed(world.services, video["id"]) == "ready"
    [event] = await events_on(world.services, channel, "activity.created")
    assert event["data"]["activity"]["id"] == activity_id
    assert event["data"]["activity"]["media"][0]["status"] == "ready"
    got = await api.get(f"/api/activities/{activity_id}", headers=pupil.headers)
    assert got.status_code == 200
    assert (await api.get(got.json()["media"][0]["poster_url"], headers=pupil.headers)).status_code == 200
