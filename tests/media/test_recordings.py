"""Video and audio recordings: probed at upload, transcoded in the queue, stripped of metadata, served."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.media import processing
from server.media.processing import RecordingPart
from server.timeutil import utcnow
from tests.factories import World, events_on
from tests.media.recording_files import (
    LOCATION,
    MAKE,
    MODEL,
    OWNER,
    ffprobe,
    needs_ffmpeg,
    pattern_clip,
    status_of,
    upload_recording,
    wait_processed,
)

pytestmark = needs_ffmpeg


@pytest.fixture
def files(recording_files: dict[str, bytes]) -> dict[str, bytes]:
    return recording_files


def _no_private_tags(probe: dict[str, Any]) -> None:
    """No location, device or owner among the tags of the file or of any stream."""
    tags = [probe["format"].get("tags", {}), *(s.get("tags", {}) for s in probe["streams"])]
    text = " ".join(f"{k}={v}" for t in tags for k, v in t.items()).lower()
    for secret in (LOCATION, MAKE, MODEL, OWNER, "location", "iso6709", "make", "model", "author"):
        assert secret.lower() not in text, (secret, text)
    assert str(probe).count(LOCATION) == 0 and MODEL not in str(probe)


async def test_a_phone_video_comes_back_as_h264_aac_720p_mp4_without_location_or_device(
    api: httpx.AsyncClient, world: World, files: dict[str, bytes], tmp_path: Path
) -> None:
    assert LOCATION.encode() in files["video"] and MODEL.encode() in files["video"]
    reply = await upload_recording(api, world.teacher.headers, files["video"], "IMG_0001.MOV")
    assert reply.status_code == 201, reply.text
    shape = reply.json()
    assert shape["kind"] == "video" and shape["status"] == "processing"
    assert shape["duration"] == pytest.approx(2, abs=0.2) and shape["name"] == "IMG_0001.mp4"
    assert await wait_processed(world.services, shape["id"]) == "ready"
    events = await events_on(world.services, f"user:{world.teacher.id}")
    mine = [e for e in events if e["type"].startswith("media.") and e["data"]["media"]["id"] == shape["id"]]
    assert [e["type"] for e in mine] == ["media.processing", "media.ready"]
    ready = mine[-1]["data"]["media"]
    assert ready["status"] == "ready" and ready["poster_url"].endswith("&size=poster")
    assert (ready["width"], ready["height"]) == (1280, 720)

    served = await api.get(ready["url"], headers=world.teacher.headers)
    assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"
    assert served.headers["accept-ranges"] == "bytes"
    assert served.headers["cache-control"].startswith("private")
    assert LOCATION.encode() not in served.content and MAKE.encode() not in served.content
    assert MODEL.encode() not in served.content and OWNER.encode() not in served.content
    probe = ffprobe(served.content, tmp_path / "out.mp4")
    _no_private_tags(probe)
    codecs = sorted(s["codec_name"] for s in probe["streams"])  # type: ignore[index]
    assert codecs == ["aac", "h264"]
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")  # type: ignore[index]
    assert (video["width"], video["height"]) == (1280, 720)
    # faststart: the index (moov) comes before the media data (mdat)
    assert served.content.index(b"moov") < served.content.index(b"mdat")

    poster = await api.get(ready["poster_url"], headers=world.teacher.headers)
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    assert poster.content.startswith(b"\xff\xd8\xff") and MODEL.encode() not in poster.content


async def test_a_voice_note_becomes_aac_in_m4a_without_its_tags(
    api: httpx.AsyncClient, world: World, files: dict[str, bytes], tmp_path: Path
) -> None:
    reply = await upload_recording(api, world.teacher.headers, files["voice"], "voice.ogg")
    assert reply.status_code == 201, reply.text
    shape = reply.json()
    assert shape["kind"] == "audio" and shape["status"] == "processing" and shape["name"] == "voice.m4a"
    assert await wait_processed(world.services, shape["id"]) == "ready"
    served = await api.get(shape["url"], headers=world.teacher.headers)
    assert served.status_code == 200 and served.headers["content-type"] == "audio/mp4"
    probe = ffprobe(served.content, tmp_path / "out.m4a")
    _no_private_tags(probe)
    assert [s["codec_name"] for s in probe["streams"]] == ["aac"]  # type: ignore[index]
    assert (await api.get(f"{shape['url']}&size=poster", headers=world.teacher.headers)).status_code == 404


async def test_a_four_minute_video_is_refused_at_upload_with_a_clear_422(
    api: httpx.AsyncClient, world: World, files: dict[str, bytes]
) -> None:
    reply = await upload_recording(api, world.teacher.headers, files["long"], "sports-day.mp4")
    assert reply.status_code == 422
    error = reply.json()["error"]
    assert error["code"] == "validation_error" and error["details"]["fields"] == {"file": "too_long"}
    assert "3:00" in error["message"] and "4:00" in error["message"]


async def test_a_file_claiming_to_be_mp4_that_is_not_is_refused(api: httpx.AsyncClient, world: World) -> None:
    looks_like_mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 64
    reply = await upload_recording(api, world.teacher.headers, looks_like_mp4, "clip.mp4")
    assert reply.status_code == 422
    assert reply.json()["error"]["details"]["fields"] == {"file": "not_audio_or_video"}
    renamed = await upload_recording(api, world.teacher.headers, b"#!/bin/sh\necho hi\n" * 50, "clip.mp4")
    assert renamed.status_code == 422


async def test_a_recording_that_fails_in_the_queue_is_reported_to_the_uploader(
    api: httpx.AsyncClient, world: World, files: dict[str, bytes], paused: RecordingPart
) -> None:
    shape = (await upload_recording(api, world.teacher.headers, files["small"], "a.mp4")).json()
    storage = world.services.media
    async with world.services.transaction() as session:
        from server.db.models import Media

        media = await session.get(Media, shape["id"])
        assert media is not None
        key = media.key
    with storage.writer(processing.source_name(key)) as out:  # damaged after the upload's probe
        out.write(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000)
    assert await wait_processed(world.services, shape["id"]) == "failed"
    [failed] = await events_on(world.services, f"user:{world.teacher.id}", "media.failed")
    assert failed["data"]["media"]["id"] == shape["id"]
    assert failed["data"]["reason"] == "not_audio_or_video"
    assert not storage.exists(processing.source_name(key))


async def test_a_job_whose_worker_died_is_taken_over_after_its_lease_and_finishes_once(
    api: httpx.AsyncClient, world: World, files: dict[str, bytes], paused: RecordingPart
) -> None:
    services = world.services
    shape = (await upload_recording(api, world.teacher.headers, files["small"], "a.mp4")).json()
    now = utcnow()
    dead = await processing.claim(services, "dead-worker", now, shape["id"])
    assert dead is not None and dead.job_attempts == 1
    # While the dead worker's lease runs, nobody else takes the job.
    assert await processing.claim(services, "other", now + timedelta(seconds=5), shape["id"]) is None
    later = now + processing.job_lease(services) + timedelta(seconds=1)
    survivor = RecordingPart(holder="survivor", wall_clock=lambda: later)
    survivor.services = services
    assert await survivor.run_once(shape["id"]) == 1
    assert await status_of(services, shape["id"]) == "ready"
    # The dead worker comes back to life and finishes its run: its outcome is dropped.
    assert await processing.process(services, dead, "dead-worker") is False
    ready = [
        e
        for e in await events_on(services, f"user:{world.teacher.id}", "media.ready")
        if e["data"]["media"]["id"] == shape["id"]
    ]
    assert len(ready) == 1
    served = await api.get(shape["url"], headers=world.teacher.headers)
    assert served.status_code == 200 and len(served.content) == ready[0]["data"]["media"]["size"]


async def test_range_requests_return_exactly_the_bytes_asked_for_and_416_when_impossible(
    api: httpx.AsyncClient, world: World, files: dict[str, bytes]
) -> None:
    shape = (await upload_recording(api, world.teacher.headers, files["small"], "a.mp4")).json()
    assert await wait_processed(world.services, shape["id"]) == "ready"
    headers = world.teacher.headers
    whole = (await api.get(shape["url"], headers=headers)).content
    size = len(whole)
    for asked, start, end in (
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, size - 1),
        ("bytes=-50", size - 50, size - 1),
        (f"bytes=10-{size + 1000}", 10, size - 1),
    ):
        part = await api.get(shape["url"], headers={**headers, "Range": asked})
        assert part.status_code == 206, asked
        assert part.content == whole[start : end + 1], asked
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}", asked
        assert part.headers["accept-ranges"] == "bytes"
        assert part.headers["cache-control"].startswith("private")
    for impossible in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=500-100"):
        refused = await api.get(shape["url"], headers={**headers, "Range": impossible})
        assert refused.status_code in (416, 400), impossible
        if refused.status_code == 416:
            assert refused.headers["content-range"] == f"bytes */{size}"
    assert (await api.get(shape["url"], headers={**headers, "Range": f"bytes={size}-"})).status_code == 416


async def test_the_orphan_file_sweep_keeps_a_videos_copy_and_poster_and_erasure_removes_them(
    api: httpx.AsyncClient, world: World, files: dict[str, bytes]
) -> None:
    from server.media import remove_files
    from server.privacy.erasure import sweep_orphan_files

    shape = (await upload_recording(api, world.teacher.headers, files["small"], "a.mp4")).json()
    assert await wait_processed(world.services, shape["id"]) == "ready"
    storage = world.services.media
    key = shape["url"].split("k=", 1)[1]
    names = [key, processing.poster_name(key)]
    assert all(storage.exists(name) for name in names)
    assert not storage.exists(processing.source_name(key))  # the upload goes once transcoded
    await sweep_orphan_files(world.services, grace=-1.0)
    assert all(storage.exists(name) for name in names)
    remove_files(storage, [key])
    assert not any(storage.exists(name) for name in names)


FORMATS = {
    # what phones and browsers record: (ffmpeg output arguments, file name, kind)
    "webm-video": (
        ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus", "-f", "webm"],
        "clip.webm",
        "video",
    ),
    "webm-audio": (["-vn", "-c:a", "libopus", "-f", "webm"], "note.webm", "audio"),
    "mp3": (["-vn", "-c:a", "libmp3lame", "-f", "mp3"], "note.mp3", "audio"),
    "m4a": (["-vn", "-c:a", "aac", "-f", "ipod"], "note.m4a", "audio"),
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
async def test_each_recording_format_from_phones_and_browsers_plays_as_mp4_afterwards(
    api: httpx.AsyncClient, world: World, tmp_path: Path, fmt: str
) -> None:
    args, name, kind = FORMATS[fmt]
    source = tmp_path / name
    await asyncio.to_thread(pattern_clip, source, args)
    reply = await upload_recording(api, world.teacher.headers, source.read_bytes(), name)
    assert reply.status_code == 201, reply.text
    shape = reply.json()
    assert shape["kind"] == kind
    assert await wait_processed(world.services, shape["id"]) == "ready"
    served = await api.get(shape["url"], headers=world.teacher.headers)
    assert served.headers["content-type"] == ("video/mp4" if kind == "video" else "audio/mp4")
    probe = ffprobe(served.content, tmp_path / "out")
    _no_private_tags(probe)
    expected = ["aac", "h264"] if kind == "video" else ["aac"]
    assert sorted(s["codec_name"] for s in probe["streams"]) == expected
