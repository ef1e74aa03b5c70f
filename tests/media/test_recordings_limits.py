"""The size limits of recordings: their own, not the JSON body limit's nor the photos'."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from server.app import create_app
from server.db.migrate import upgrade
from tests.conftest import Clock, Pauses, make_settings
from tests.factories import make_world
from tests.media.recording_files import needs_ffmpeg, upload_recording

pytestmark = needs_ffmpeg


async def test_a_recording_past_its_own_size_limit_gets_413_and_the_json_and_photo_limits_do_not_apply(
    tmp_path: Path, clock: Clock, pauses: Pauses, recording_files: dict[str, bytes]
) -> None:
    small, big = recording_files["small"], recording_files["video"]
    assert len(big) > len(small) > 4096
    url = f"sqlite+aiosqlite:///{tmp_path / 'limits.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = make_settings(
        tmp_path, url, max_body_bytes=1024, max_upload_bytes=2048, max_recording_bytes=len(small) + 100
    )
    app = create_app(settings, clock=clock, sleep=pauses)
    async with app.router.lifespan_context(app):
        world = await make_world(app.state.services)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            fits = await upload_recording(api, world.teacher.headers, small, "small.mp4")
            assert fits.status_code == 201, fits.text
            refused = await upload_recording(api, world.teacher.headers, big, "big.mov")
            assert refused.status_code == 413
            assert refused.json()["error"]["code"] == "too_large"
            # refused as it streams in (the body limit of /api/media: the recording limit and
            # room for the multipart framing), never held whole
            limit = refused.json()["error"]["details"]["limit_bytes"]
            assert len(small) + 100 <= limit <= len(small) + 100 + 64 * 1024 < len(big)
