"""Uploaded files as records: storing an upload, claiming it for a post or message, cleaning up.

An upload belongs to its uploader alone until a post, message, activity or
submission links it; only then can others see it (:mod:`server.media.access`).
The ``url`` of a file carries its random ``key`` (P16): the server checks the key
*and* the reader's rights, so an id that leaks is useless on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.models import ActivityMedia, Media, MessageMedia, PostMedia, SubmissionMedia
from server.errors import ApiError, validation_error
from server.language.interface import N_
from server.media import files, processing, recordings
from server.media.storage import Storage
from server.services import Services

MAX_ATTACHMENTS = 10
LINK_TABLES = (PostMedia, MessageMedia, ActivityMedia, SubmissionMedia)
# One limit per event loop (a process normally has one): how many images are re-encoded at once.
_image_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _image_slots.get(loop)
    if slots is None:
        slots = _image_slots[loop] = asyncio.Semaphore(files.DECODE_SLOTS)
    return slots


def storage_of(services: Services) -> Storage:
    """The media storage of this server."""
    return services.media


def media_url(media: Media, *, display: bool = False) -> str:
    """The private URL of a file: its id and its secret key (never one without the other)."""
    url = f"/api/media/{media.id}?k={media.key}"
    return f"{url}&size=display" if display else url


def poster_url(media: Media) -> str:
    """The private URL of a video's poster frame (same key, same access rules as the video)."""
    return f"{media_url(media)}&size=poster"


def media_shape(media: Media) -> dict[str, Any]:
    """A file as it appears in posts, messages and upload replies.

    ``kind`` is "image", "pdf", "video" or "audio"; ``status`` is "processing", "ready" or
    "failed" (recordings are processed after upload, everything else is ready at once).
    """
    status = media.status or processing.READY
    shape: dict[str, Any] = {"id": media.id, "kind": media.kind, "status": status, "url": media_url(media)}
    if media.kind == "image":
        shape.update(display_url=media_url(media, display=True), width=media.width, height=media.height)
    elif media.kind in RECORDING_KINDS:
        shape.update(
            name=media.file_name,
            size=media.size,
            content_type=media.content_type,
            duration=media.duration,
            poster_url=poster_url(media) if media.has_poster else None,
            caption=media.caption,
        )
        if media.kind == "video":
            shape.update(width=media.width, height=media.height)
        if status == processing.FAILED:
            shape["reason"] = media.failure
    else:
        shape.update(name=media.display_name or media.file_name, size=media.size)
    return shape


RECORDING_KINDS = ("video", "audio")


def is_recording(head: bytes) -> bool:
    """True when an upload's first bytes say video or audio (images and PDFs are tried first)."""
    return files.sniff(head) is None and recordings.sniff_recording(head)


def _keep_source(source: IO[bytes], storage: Storage, name: str) -> None:
    source.seek(0)
    with storage.writer(name) as out:
        while chunk := source.read(1024 * 1024):
            out.write(chunk)


async def store_recording(
    session: AsyncSession,
    principal: Principal,
    storage: Storage,
    source: IO[bytes],
    size: int,
    file_name: str | None,
    max_seconds: float,
    caption: str | None = None,
) -> Media:
    """Keep an uploaded recording for the queue after probing it: 422 when it is not one or too long.

    The probe reads headers only, so the uploader learns at once that a file is not
    really audio or video, or is too long; transcoding is left to the queue
    (:mod:`server.media.processing`), and ``media.processing`` is announced to the uploader.
    """
    if not recordings.ffmpeg_available():
        raise files.unsupported(
            "This server cannot take video or audio recordings.", "recordings_unavailable"
        )
    key = secrets.token_urlsafe(24)
    src = processing.source_name(key)
    await asyncio.to_thread(_keep_source, source, storage, src)
    try:
        path = storage.local_path(src)
        if path is None:  # pragma: no cover - only local storage exists so far
            raise files.unsupported("Recordings need local media storage.", "recordings_unavailable")
        try:
            found = await recordings.probe(path)
        except recordings.NotARecording as refused:
            raise files.unsupported(
                "That file is not a video or audio recording we can play.", refused.reason
            ) from None
        if found.duration > max_seconds + 0.5:
            limit = int(max_seconds)
            raise files.unsupported(
                f"Recordings can be at most {limit // 60}:{limit % 60:02d} long"
                f" and this one is {int(found.duration) // 60}:{int(found.duration) % 60:02d}.",
                "too_long",
                max_seconds=str(limit),
            )
        content_type = recordings.VIDEO_MP4 if found.kind == "video" else recordings.AUDIO_M4A
        media = Media(
            school_id=principal.school_id,
            uploader_id=principal.id,
            key=key,
            kind=found.kind,
            content_type=content_type,
            file_name=files.safe_file_name(file_name, content_type),
            size=size,
            width=found.width,
            height=found.height,
            duration=round(found.duration, 3),
            status=processing.PROCESSING,
            caption=caption,
        )
        session.add(media)
        await session.flush()
        processing.announce_to_uploader(session, media)
    except BaseException:
        await asyncio.to_thread(remove_files, storage, [key])
        raise
    return media


async def store_upload(
    session: AsyncSession,
    principal: Principal,
    storage: Storage,
    source: IO[bytes],
    size: int,
    file_name: str | None,
) -> Media:
    """Check an uploaded file by its content, make it safe, store it and record it (not yet linked)."""
    source.seek(0)
    content_type = files.sniff(source.read(16))
    if content_type is None:
        raise files.unsupported("Only JPEG, PNG and WebP images and PDF documents can be uploaded.", "type")
    key = secrets.token_urlsafe(24)
    if content_type == files.PDF:
        stored = await asyncio.to_thread(files.store_pdf, source, size, storage, key)
        width = height = None
    else:
        async with _slots():  # waiting here keeps the thread pool free for everything else
            image = await asyncio.to_thread(files.store_image, source, content_type, storage, key)
        stored, width, height = image.size, image.width, image.height
    name = files.safe_file_name(file_name, content_type)
    media = Media(
        school_id=principal.school_id,
        uploader_id=principal.id,
        key=key,
        kind="pdf" if content_type == files.PDF else "image",
        content_type=content_type,
        file_name=name,
        display_name=name if content_type == files.PDF else None,
        size=stored,
        width=width,
        height=height,
    )
    session.add(media)
    try:
        await session.flush()
    except BaseException:
        await asyncio.to_thread(remove_files, storage, [key])
        raise
    return media


async def claim_media(session: AsyncSession, principal: Principal, media_ids: list[int]) -> list[Media]:
    """The caller's own uploads, in the order given without repeats (at most 10); else 422 naming bad ids."""
    wanted = list(dict.fromkeys(media_ids))
    if len(wanted) > MAX_ATTACHMENTS:
        raise validation_error(
            f"At most {MAX_ATTACHMENTS} files can be attached.",
            fields={"media_ids": "too_many"},
            media_ids=wanted[MAX_ATTACHMENTS:],
        )
    if not wanted:
        return []
    rows = await session.scalars(
        select(Media).where(
            Media.id.in_(wanted),
            Media.school_id == principal.school_id,
            Media.uploader_id == principal.id,
        )
    )
    found = {m.id: m for m in rows}
    bad = [i for i in wanted if i not in found]
    if bad:
        raise validation_error(
            N_("Some files were not found among your uploads."),
            fields={"media_ids": "unknown"},
            media_ids=bad,
        )
    return [found[i] for i in wanted]


async def drop_unlinked(session: AsyncSession, media_ids: Iterable[int]) -> list[str]:
    """Delete the records of these files that nothing links any more; returns their storage keys.

    Call after unlinking (a post deleted or edited) in the same transaction, and
    remove the files with :func:`remove_files` once it has committed.
    """
    ids = set(media_ids)
    if not ids:
        return []
    linked = [exists().where(table.media_id == Media.id) for table in LINK_TABLES]
    rows = await session.execute(
        select(Media.id, Media.key).where(Media.id.in_(ids), *(~link for link in linked))
    )
    orphans = list(rows.all())
    if orphans:
        await session.execute(delete(Media).where(Media.id.in_([m_id for m_id, _ in orphans])))
    return [key for _, key in orphans]


def remove_files(storage: Storage, keys: Sequence[str]) -> None:
    """Remove stored files (originals and display copies); blocking, run it in a thread."""
    for key in keys:
        for name in (key, files.display_name(key), processing.source_name(key), processing.poster_name(key)):
            with contextlib.suppress(ValueError):
                storage.delete(name)


async def discard_files(services: Services, keys: Sequence[str]) -> None:
    """Remove files after the transaction that dropped their records has committed."""
    if keys:
        await asyncio.to_thread(remove_files, storage_of(services), keys)


def too_large(limit: int) -> ApiError:
    """413 ``too_large`` for an upload past the limit."""
    return ApiError(
        413, "too_large", f"Files can be at most {limit // (1024 * 1024)} MiB.", {"limit_bytes": limit}
    )


async def drop_uploads_of(session: AsyncSession, user_id: int) -> list[str]:
    """Delete the records of every file a user uploaded (erasure, P18); returns the keys to remove."""
    keys = list((await session.scalars(select(Media.key).where(Media.uploader_id == user_id))).all())
    if keys:
        await session.execute(delete(Media).where(Media.uploader_id == user_id))
    return keys


async def drop_stale_uploads(session: AsyncSession, older_than: datetime, batch: int = 500) -> list[str]:
    """Delete uploads that nothing linked before ``older_than`` (abandoned drafts); returns their keys.

    The rows are locked as they are read (PostgreSQL; rows a post is linking right now are
    skipped), and the delete checks again that nothing links them, so a draft attached at
    the moment of the sweep stays with its post.
    """
    linked = [exists().where(table.media_id == Media.id) for table in LINK_TABLES]
    rows = await session.execute(
        select(Media.id, Media.key)
        .where(Media.created_at < older_than, *(~link for link in linked))
        .order_by(Media.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    stale = {media_id: key for media_id, key in rows.all()}
    if not stale:
        return []
    await session.execute(delete(Media).where(Media.id.in_(stale), *(~link for link in linked)))
    kept = set((await session.scalars(select(Media.id).where(Media.id.in_(stale)))).all())
    return [key for media_id, key in stale.items() if media_id not in kept]
