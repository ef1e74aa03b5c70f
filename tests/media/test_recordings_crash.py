"""A recording job survives the death of the process working on it, and finishes exactly once."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from server.db.models import Media
from server.media import processing
from server.media.processing import RecordingPart
from server.services import Services
from server.timeutil import utcnow
from tests.factories import World, events_on
from tests.media.recording_files import needs_ffmpeg, status_of, upload_recording

pytestmark = needs_ffmpeg
ROOT = Path(__file__).resolve().parents[2]

# A worker process: claims the job, starts processing it (the transcoding step is held
# open, as a long video would hold it) and says so; the test then kills it with SIGKILL.
DOOMED_WORKER = """
import asyncio, sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from server.auth.ratelimit import MemoryRateLimiter
from server.db.engine import Database
from server.media import processing, recordings
from server.services import Services
from server.settings import Settings
from server.services import Services
from server.timeutil import utcnow

async def main() -> None:
    url, media_dir, media_id = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    settings = Settings(database_url=url, media_dir=media_dir, secret_key="s" * 48, translation_engines=())
    services = Services(settings=settings, db=Database(url), limiter=MemoryRateLimiter())
    media = await processing.claim(services, "doomed-process", utcnow(), media_id)
    assert media is not None

    async def transcoding_forever(*args, **kwargs):
        print("transcoding", flush=True)
        await asyncio.Event().wait()

    recordings.transcode = transcoding_forever
    await processing.process(services, media, "doomed-process")

asyncio.run(main())
"""


async def _run(part: RecordingPart, services: Services, media_id: int) -> int:
    """Another process's worker, bound to the same database, running the queue once."""
    part.services = services
    return await part.run_once(media_id)


async def test_a_worker_process_killed_mid_job_is_taken_over_after_its_lease_and_finishes_once(
    api: httpx.AsyncClient,
    world: World,
    recording_files: dict[str, bytes],
    paused: RecordingPart,
    tmp_path: Path,
) -> None:
    services = world.services
    reply = await upload_recording(api, world.teacher.headers, recording_files["small"], "a.mp4")
    shape = reply.json()
    script = tmp_path / "doomed_worker.py"
    script.write_text(DOOMED_WORKER)
    settings = services.settings
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        settings.database_url,
        str(settings.media_dir),
        str(shape["id"]),
        str(ROOT),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), 60)
        assert line.strip() == b"transcoding"
    finally:
        worker.kill()  # SIGKILL: no clean-up runs in the worker
        await worker.wait()
    async with services.read() as session:
        holder, attempts = (
            await session.execute(select(Media.job_holder, Media.job_attempts).where(Media.id == shape["id"]))
        ).one()
    assert (holder, attempts) == ("doomed-process", 1)

    # Until the dead process's lease runs out, the job stays where it is.
    assert await _run(RecordingPart(holder="early"), services, shape["id"]) == 0
    assert await status_of(services, shape["id"]) == "processing"
    later = utcnow() + processing.job_lease(services) + timedelta(seconds=1)
    survivor = RecordingPart(holder="survivor", wall_clock=lambda: later)
    assert await _run(survivor, services, shape["id"]) == 1
    assert await status_of(services, shape["id"]) == "ready"
    assert await _run(survivor, services, shape["id"]) == 0
    ready = [
        e
        for e in await events_on(services, f"user:{world.teacher.id}", "media.ready")
        if e["data"]["media"]["id"] == shape["id"]
    ]
    assert len(ready) == 1
    async with services.read() as session:
        media = await session.get(Media, shape["id"])
        assert media is not None and media.job_attempts == 2 and media.job_until is None
    served = await api.get(shape["url"], headers=world.teacher.headers)
    assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"
