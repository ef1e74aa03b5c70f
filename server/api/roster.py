"""``/api/roster/import``: a roster CSV previewed, then confirmed (API.md "Setting up a school").

Thin: the file is read by :mod:`server.school.roster_file`, planned and applied by
:mod:`server.school.roster_import`. Row errors are stored in English and put into the
reader's language when shown.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import authenticate, ok, path_id, services_of
from server.api.openapi import describe
from server.auth.principal import Principal, require_role
from server.errors import ApiError, validation_error
from server.language.interface import text
from server.school import roster_import
from server.school.roster_file import UnreadableFile, read

MAX_FILE_BYTES = 4 * 1024 * 1024
MODES = ("partial", "full")


def _shown(principal: Principal, import_id: int, mode: str, preview: dict[str, Any]) -> dict[str, Any]:
    language = principal.user.language
    errors = [{"row": e["row"], "message": text(language, e["message"])} for e in preview["errors"]]
    return {"import_id": import_id, "mode": mode, "preview": {**preview, "errors": errors}}


@describe(
    summary="Preview a roster import from a CSV file (nothing is written)",
    request={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "contentMediaType": "text/csv"}},
                }
            }
        },
    },
    query={"mode": {"enum": list(MODES)}},
)
async def preview_import(request: Request) -> Response:
    """``POST /api/roster/import`` (multipart ``file``; ``?mode=full`` marks missing pupils as left)."""
    principal = await authenticate(request)
    require_role(principal, "admin")
    mode = request.query_params.get("mode", "partial")
    if mode not in MODES:
        raise validation_error("mode is 'partial' or 'full'.", fields={"mode": "unknown"})
    async with request.form(max_files=1, max_fields=2) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise validation_error(
                "Send the CSV file as the multipart field 'file'.", fields={"file": "required"}
            )
        data = await upload.read(MAX_FILE_BYTES + 1)
        name = upload.filename or ""
    if len(data) > MAX_FILE_BYTES:
        raise ApiError(
            413, "too_large", "A roster file can be at most 4 MiB.", {"limit_bytes": MAX_FILE_BYTES}
        )
    try:
        parsed = read(data)
    except UnreadableFile as exc:
        raise validation_error(
            text(principal.user.language, str(exc)), fields={"file": "unreadable"}
        ) from None
    services = services_of(request)
    async with services.transaction() as session:
        stored = await roster_import.preview(session, principal, parsed, mode, name, services.clock())
    return ok(_shown(principal, stored.id, mode, stored.plan["preview"]))


async def confirm_import(request: Request) -> Response:
    """``POST /api/roster/import/{id}/confirm``: apply that preview in one transaction."""
    principal = await authenticate(request)
    require_role(principal, "admin")
    services = services_of(request)
    async with services.transaction() as session:
        applied = await roster_import.confirm(session, principal, path_id(request), services.clock())
        mode = applied.mode
    for user_id in dict.fromkeys(applied.affected_users):  # moved or left: their access follows at once
        await services.access_changed(user_id)
    return ok(_shown(principal, path_id(request), mode, applied.preview))


routes = [
    Route("/api/roster/import", preview_import, methods=["POST"]),
    Route("/api/roster/import/{id:int}/confirm", confirm_import, methods=["POST"]),
]
