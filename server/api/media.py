"""``POST /api/media`` (upload) and ``GET /api/media/{id}?k=<key>`` (private download).

Files are never public (P16): a download needs a signed-in user who may see what
the file is attached to *and* the file's random key from its URL, so a leaked or
guessed id alone gets 404. Replies are ``Cache-Control: private`` and
``Cross-Origin-Resource-Policy: same-origin``, so neither shared caches nor other
sites can keep or embed them.

Every signed-in role may upload: staff and pupils (API.md) and parents too, whose
messages to staff may carry a photo or a letter. An upload is visible to its
uploader alone until something links it (see :mod:`server.media.access`).
Uploads count against daily quotas per account and per school (:mod:`server.media.quota`):
413 ``quota_exceeded`` before the body is read when nothing is left, else once its size is known.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

from starlette.concurrency import iterate_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

from server import media as media_domain
from server.api.http import authenticate, limit, ok, path_id, services_of
from server.api.openapi import describe
from server.db.models import Media
from server.errors import bad_request, not_found, validation_error
from server.language.interface import N_
from server.media import files, processing, quota, recordings
from server.media.storage import Storage

UPLOADS_PER_MINUTE = 60
CACHE_SECONDS = 24 * 3600
MAX_CAPTION = 500


def _caption(value: object) -> str | None:
    """The optional ``caption`` form field: plain text of at most 500 characters, else 422."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise validation_error(N_("'caption' is text."), fields={"caption": "not text"})
    text = value.strip()
    if len(text) > MAX_CAPTION:
        raise validation_error(
            f"A caption can be at most {MAX_CAPTION} characters.", fields={"caption": "too long"}
        )
    return text or None


@describe(
    summary="Upload a photo (JPEG, PNG, WebP), a PDF, or a video or audio recording with a caption",
    request={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                        "caption": {
                            "type": "string",
                            "maxLength": MAX_CAPTION,
                            "description": "A video's or audio recording's caption (plain text)",
                        },
                    },
                }
            }
        },
    },
)
async def upload(request: Request) -> Response:
    principal = await authenticate(request)
    await limit(request, "upload", str(principal.id), UPLOADS_PER_MINUTE)
    services = services_of(request)
    settings = services.settings
    await quota.check_room(services, principal)
    # Starlette's multipart parser spools each file to a temporary file on disk past 1 MiB,
    # so even a 200 MiB recording streams through without being held in memory.
    async with request.form(max_files=1, max_fields=4) as form:
        upload_file = form.get("file")
        caption = _caption(form.get("caption"))
        if not isinstance(upload_file, UploadFile):
            raise files.unsupported("Send the file as the multipart field 'file'.", "required")
        size = upload_file.size or 0
        if size == 0:
            raise files.unsupported("That file is empty.", "empty")
        await upload_file.seek(0)
        head = await upload_file.read(16)
        recording = media_domain.is_recording(head)
        max_bytes = settings.max_recording_bytes if recording else settings.max_upload_bytes
        if size > max_bytes:
            raise media_domain.too_large(max_bytes)
        await quota.charge_upload(services, principal, size)
        storage = media_domain.storage_of(services)
        async with services.transaction() as session:
            if recording:
                stored = await media_domain.store_recording(
                    session,
                    principal,
                    storage,
                    upload_file.file,
                    size,
                    upload_file.filename,
                    settings.max_recording_seconds,
                    caption=caption,
                )
            else:
                stored = await media_domain.store_upload(
                    session, principal, storage, upload_file.file, size, upload_file.filename
                )
    if recording and services.recordings is not None:
        services.recordings.kick()
    return ok(media_domain.media_shape(stored), 201)


def _variant(storage: Storage, found: Media, size: str) -> tuple[str, str] | None:
    """The storage name and content type to send, or None when the file has gone missing.

    A recording is served only once it is ready (its kept copy exists from then on);
    ``size=poster`` is a video's poster frame, under the same key and access rules.
    """
    if found.status != "ready":
        return None
    if size == "poster":
        name = processing.poster_name(found.key)
        return (name, recordings.POSTER_JPEG) if found.has_poster and storage.exists(name) else None
    if size == "display" and found.kind == "image":
        name = files.display_name(found.key)
        if storage.exists(name):
            with storage.open(name) as head:
                return name, files.sniff(head.read(16)) or "application/octet-stream"
    return (found.key, found.content_type) if storage.exists(found.key) else None


def _tag(key: str, name: str) -> str:
    return "o" if name == key else name.rsplit(".", 1)[-1][:1]


def _chunks(storage: Storage, name: str) -> Iterator[bytes]:
    with storage.open(name) as source:
        while chunk := source.read(256 * 1024):
            yield chunk


@describe(
    summary="Download a file you may see (needs its key `k` from the URL)",
    responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}},
    query={"size": {"enum": ["original", "display"]}},
)
async def download(request: Request) -> Response:
    principal = await authenticate(request)
    media_id = path_id(request)
    key = request.query_params.get("k", "")
    size = request.query_params.get("size", "original")
    if size not in ("original", "display", "poster"):
        raise bad_request(N_("'size' is 'original', 'display' or 'poster'."), field="size")
    services = services_of(request)
    async with services.read() as session:
        found = await media_domain.find_viewable(session, principal, media_id, key)
    storage = media_domain.storage_of(services)
    chosen = await asyncio.to_thread(_variant, storage, found, size)
    if chosen is None:
        raise not_found(N_("That file"))
    name, content_type = chosen
    headers = {
        "Cache-Control": f"private, max-age={CACHE_SECONDS}",
        "Cross-Origin-Resource-Policy": "same-origin",
        "ETag": f'"{found.key[:12]}-{_tag(found.key, name)}"',
    }
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    path: Path | None = storage.local_path(name)
    if path is not None:
        filename = found.file_name if found.kind == "pdf" else None
        return FileResponse(path, media_type=content_type, headers=headers, filename=filename)
    if found.kind == "pdf":
        headers["Content-Disposition"] = f'attachment; filename="{found.file_name}"'
    return StreamingResponse(
        iterate_in_threadpool(_chunks(storage, name)), media_type=content_type, headers=headers
    )


routes = [
    Route("/api/media", upload, methods=["POST"]),
    Route("/api/media/{id:int}", download, methods=["GET"]),
]
