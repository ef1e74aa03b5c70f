"""The recording queue: transcoding uploaded video and audio, in any process, surviving restarts.

The queue is the ``media`` table itself: a recording is uploaded with ``status =
"processing"`` and its source kept in storage as ``<key>.src``. Every process runs a
:class:`RecordingPart` that claims one job at a time with a conditional UPDATE (status
still "processing", lease free or expired), like the outbox relay: the claim writes the
worker's name and a lease (``job_until``, the run's timeout and a minute). A worker that
dies mid-job leaves its lease to expire, and another process claims the job again; after
``MAX_ATTEMPTS`` claims the file is marked failed. Finishing is conditional too (still
processing, and still ours), so a job whose lease was taken over finishes exactly once:
the late worker's outcome is dropped, and it leaves the stored copies alone (both wrote
the same bytes under the same names, atomically).

Publishing when ready: a post, message, activity or portfolio submission that links a
recording still processing is stored at once with ``awaiting_media = true``: only its
author sees it, and nothing is announced live. The transaction that marks a recording
ready also takes every such item whose files are now all ready, clears the flag and writes
its live event then (``post.created``, ``message.created``, ``activity.created``,
``portfolio.submitted``). An item with a failed recording stays with its author, who
sees ``status: "failed"`` on the file and can remove it (or delete the item).

The uploader follows along on ``user:{id}``: ``media.processing`` at upload,
then ``media.ready`` or ``media.failed`` (with ``reason``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.engine import rowcount
from server.db.models import Media
from server.events import emit, user_channel
from server.media import recordings
from server.media.storage import Storage
from server.messaging.writes import write
from server.services import Services
from server.timeutil import utcnow, wait_event

log = logging.getLogger("homeroom.media.processing")

PROCESSING, READY, FAILED = "processing", "ready", "failed"
MAX_ATTEMPTS = 3
POLL_SECONDS = 2.0
# Messages for the uploader, by failure reason.
REASONS = {
    "not_audio_or_video": "That file is not a recording we can play.",
    "too_slow": "That recording took too long to prepare.",
    "too_many_attempts": "That recording could not be prepared.",
    "missing_source": "The uploaded file went missing before it could be prepared.",
}


def source_name(key: str) -> str:
    """The storage name of a recording's upload, kept until it is transcoded."""
    return f"{key}.src"


def poster_name(key: str) -> str:
    """The storage name of a video's poster frame."""
    return f"{key}.poster"


def job_lease(services: Services) -> timedelta:
    """How long one claim holds a job: the transcoding timeout, a poster, and a margin."""
    return timedelta(seconds=services.settings.recording_job_seconds + recordings.POSTER_SECONDS + 60)


def announce_to_uploader(session: AsyncSession, media: Media) -> None:
    """The uploader's live event for the file's current state."""
    from server.media.uploads import media_shape

    if media.uploader_id is None:
        return
    data: dict[str, object] = {"media": media_shape(media)}
    if media.status == FAILED:
        data["reason"] = media.failure or "failed"
    emit(session, user_channel(media.uploader_id), f"media.{media.status}", data)


async def claim(services: Services, holder: str, now: datetime, media_id: int | None = None) -> Media | None:
    """Claim the oldest (or the given) job whose lease is free; None when there is none."""

    async def take(session: AsyncSession) -> Media | None:
        free = (Media.job_until.is_(None)) | (Media.job_until <= now)
        query = select(Media.id).where(Media.status == PROCESSING, free).order_by(Media.id).limit(5)
        if media_id is not None:
            query = query.where(Media.id == media_id)
        for candidate in (await session.scalars(query)).all():
            taken = await session.execute(
                update(Media)
                .where(Media.id == candidate, Media.status == PROCESSING, free)
                .values(
                    job_holder=holder,
                    job_until=now + job_lease(services),
                    job_attempts=Media.job_attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if rowcount(taken):
                media = await session.get(Media, candidate, populate_existing=True)
                return media
        return None

    return await write(services, take)


async def _finish(services: Services, media_id: int, holder: str, **values: object) -> bool:
    """Record a job's outcome if it is still ours; announce it and release what waited on it."""

    async def done(session: AsyncSession) -> bool:
        result = await session.execute(
            update(Media)
            .where(Media.id == media_id, Media.status == PROCESSING, Media.job_holder == holder)
            .values(job_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        if not rowcount(result):
            return False
        media = await session.get(Media, media_id, populate_existing=True)
        assert media is not None
        announce_to_uploader(session, media)
        if media.status == READY:
            await release_waiting(session, services, [media_id])
        return True

    return await write(services, done)


async def fail(services: Services, media_id: int, holder: str, reason: str) -> bool:
    """Mark a job failed (if still ours) and tell the uploader; the source is removed."""
    finished = await _finish(services, media_id, holder, status=FAILED, failure=reason)
    if finished:
        storage = _storage(services)
        media_key = await _key_of(services, media_id)
        if media_key is not None:
            await asyncio.to_thread(storage.delete, source_name(media_key))
    return finished


async def _key_of(services: Services, media_id: int) -> str | None:
    async with services.read() as session:
        return await session.scalar(select(Media.key).where(Media.id == media_id))


def _storage(services: Services) -> Storage:
    from server.media.uploads import storage_of

    return storage_of(services)


def _local_source(storage: Storage, name: str, workdir: Path) -> Path | None:
    if not storage.exists(name):
        return None
    path = storage.local_path(name)
    if path is not None:
        return path
    copy = workdir / "source"
    with storage.open(name) as source, copy.open("wb") as out:
        shutil.copyfileobj(source, out, 1024 * 1024)
    return copy


def _keep(storage: Storage, path: Path, name: str) -> int:
    with path.open("rb") as source, storage.writer(name) as out:
        shutil.copyfileobj(source, out, 1024 * 1024)
        return out.tell()


async def process(services: Services, media: Media, holder: str) -> bool:
    """Transcode one claimed recording and record the outcome; True when this run finished it."""
    if media.job_attempts > MAX_ATTEMPTS:
        return await fail(services, media.id, holder, "too_many_attempts")
    storage = _storage(services)
    settings = services.settings
    with tempfile.TemporaryDirectory(prefix="homeroom-rec-") as tmp:
        workdir = Path(tmp)
        source = await asyncio.to_thread(_local_source, storage, source_name(media.key), workdir)
        if source is None:
            return await fail(services, media.id, holder, "missing_source")
        try:
            found = await recordings.probe(source)
            output = await recordings.transcode(
                found.kind, source, workdir, settings.max_recording_seconds, settings.recording_job_seconds
            )
            kept = await recordings.probe(output)
        except recordings.NotARecording as refused:
            return await fail(services, media.id, holder, refused.reason)
        except recordings.TranscodeFailed as failed:
            log.warning("recording %s could not be transcoded: %s", media.id, failed)
            return await fail(services, media.id, holder, failed.reason)
        poster = (
            await recordings.make_poster(output, workdir, kept.duration) if kept.kind == "video" else None
        )
        size = await asyncio.to_thread(_keep, storage, output, media.key)
        if poster is not None:
            await asyncio.to_thread(_keep, storage, poster, poster_name(media.key))
    finished = await _finish(
        services,
        media.id,
        holder,
        status=READY,
        size=size,
        duration=round(kept.duration, 3),
        width=kept.width,
        height=kept.height,
        has_poster=poster is not None,
    )
    if finished:
        await asyncio.to_thread(storage.delete, source_name(media.key))
    return finished


async def release_waiting(session: AsyncSession, services: Services, media_ids: list[int]) -> None:
    """Announce every item linking these files that was waiting and now has all its files ready."""
    from server.db.models import (
        Activity,
        ActivityMedia,
        Message,
        MessageMedia,
        Post,
        PostMedia,
        Submission,
        SubmissionMedia,
    )
    from server.messaging import delivery
    from server.portfolio import work as portfolio
    from server.stories import posts as stories

    kinds = (
        (Post, PostMedia, PostMedia.post_id, stories.announce_ready_post),
        (Message, MessageMedia, MessageMedia.message_id, delivery.announce_ready_message),
        (Activity, ActivityMedia, ActivityMedia.activity_id, portfolio.announce_ready_activity),
        (Submission, SubmissionMedia, SubmissionMedia.submission_id, portfolio.announce_ready_submission),
    )
    for model, link, owner_column, announce in kinds:
        unready = (
            exists()
            .where(owner_column == model.id, link.media_id == Media.id, Media.status != READY)
            .correlate(model)
        )
        owners = (
            await session.scalars(
                select(model.id).where(
                    model.awaiting_media.is_(True),
                    model.id.in_(select(owner_column).where(link.media_id.in_(media_ids))),
                    ~unready,
                )
            )
        ).all()
        for owner_id in owners:
            taken = await session.execute(
                update(model)
                .where(model.id == owner_id, model.awaiting_media.is_(True))
                .values(awaiting_media=False)
                .execution_options(synchronize_session=False)
            )
            if rowcount(taken):
                await announce(session, services, owner_id)


def any_processing(media: list[Media]) -> bool:
    """True when some of these files are still being processed (the item must wait for them)."""
    return any(m.status != READY for m in media)


class RecordingPart:
    """Runs the recording queue in this process: one job at a time, polling and kicked on upload."""

    def __init__(
        self,
        *,
        poll: float = POLL_SECONDS,
        holder: str | None = None,
        wall_clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.poll = poll
        self.holder = holder or f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
        self.wall_clock = wall_clock
        self.services: Services | None = None
        self._kick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def bind(self, services: Services) -> None:
        """Use these services without a loop (``run_once`` only)."""
        self.services = services
        services.recordings = self

    async def start(self, services: Services) -> None:
        self.bind(services)
        if recordings.ffmpeg_available():
            self._task = asyncio.create_task(self._loop(), name="homeroom-recordings")
        else:
            log.warning("ffmpeg is not installed: video and audio uploads are refused")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def kick(self) -> None:
        """Look for work now (called after an upload in this process)."""
        self._kick.set()

    async def run_once(self, media_id: int | None = None) -> int:
        """Process every job that can be claimed now (or just ``media_id``); returns how many finished."""
        if self.services is None:
            raise RuntimeError("the recording worker has not been started")
        finished = 0
        async with self._lock:
            while True:
                media = await claim(self.services, self.holder, self.wall_clock(), media_id)
                if media is None:
                    return finished
                try:
                    finished += await process(self.services, media, self.holder)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a bug or storage failure: the lease runs out and it is retried
                    log.exception("recording %s could not be processed", media.id)
                if media_id is not None:
                    return finished

    async def _loop(self) -> None:
        while True:
            await wait_event(self._kick, self.poll)
            self._kick.clear()
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the recording queue failed; retrying")
