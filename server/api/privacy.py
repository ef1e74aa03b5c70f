"""``GET /api/me/export``, ``DELETE /api/me`` and ``GET /api/audit``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import Field
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from server.api.http import Body, authenticate, limit, ok, page_params, parse, query_int, services_of
from server.api.openapi import describe
from server.auth.passwords import verify_password
from server.auth.principal import require_role
from server.db.models import AuditEntry, User
from server.errors import bad_request, conflict, forbidden
from server.language.interface import N_
from server.media.uploads import discard_files, storage_of
from server.privacy import erasure, export
from server.school import audit, audit_names


class EraseBody(Body):
    password: str = Field(min_length=1, max_length=1024)


def _filename(user_id: int, suffix: str) -> str:
    return f'attachment; filename="homeroom-export-{user_id}.{suffix}"'


@describe(
    summary="Everything the server holds about the user, as JSON or a zip",
    query={"format": {"enum": ["json", "zip"]}},
    responses={
        200: {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/zip": {"schema": {"type": "string"}},
            }
        }
    },
)
async def export_me(request: Request) -> Response:
    principal = await authenticate(request)
    services = services_of(request)
    fmt = request.query_params.get("format", "json")
    if fmt not in ("json", "zip"):
        raise bad_request(N_("'format' must be json or zip."), field="format")
    await limit(request, "export", str(principal.id), 5, 600.0)
    async with services.transaction() as session:
        audit.record(
            session, principal.school_id, principal.id, "user.exported", "user", principal.id, format=fmt
        )
    headers = {"Cache-Control": "no-store", "Content-Disposition": _filename(principal.id, fmt)}
    if fmt == "zip":
        spool = await export.zip_export(services, storage_of(services), principal)
        return StreamingResponse(export.read_chunks(spool), media_type="application/zip", headers=headers)
    return StreamingResponse(
        export.stream_export(services, principal), media_type="application/json", headers=headers
    )


async def erase_me(request: Request) -> Response:
    principal = await authenticate(request)
    body = await parse(request, EraseBody)
    services = services_of(request)
    await limit(request, "erase", str(principal.id), 5)
    if principal.user.role == "student":
        raise forbidden(N_("A pupil's account is erased by the school."))
    if not await verify_password(principal.user.password_hash, body.password):
        raise forbidden(N_("That password is not right."), field="password")
    try:
        async with services.transaction() as session:
            user = await session.get(User, principal.id)
            if user is None:
                raise forbidden()
            keys = await erasure.erase_account(session, user)
    except erasure.EraseRefused as refused:
        if refused.reason == "last_admin":
            raise conflict(
                "last_admin", N_("The school's last admin cannot be erased; add another admin first.")
            ) from None
        raise forbidden(N_("A pupil's account is erased by the school.")) from None
    await discard_files(services, keys)
    await services.access_changed(principal.id)
    return ok({"deleted": True})


def _when(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"'{name}' must be an ISO 8601 date-time.", field=name) from None
    if value.tzinfo is None:
        raise bad_request(f"'{name}' must carry a time zone.", field=name)
    try:
        value.astimezone(UTC)  # compared with the UTC times stored
    except OverflowError:
        raise bad_request(f"'{name}' is outside the years 1 to 9999 in UTC.", field=name) from None
    return value


def _shape(entry: AuditEntry, names: dict[tuple[str, int], str]) -> dict[str, Any]:
    target_kind = entry.target_type if entry.target_type in ("user", "student", "class") else ""
    pupil = entry.details.get("student_id") if isinstance(entry.details, dict) else None
    return {
        "id": entry.id,
        "actor_id": entry.actor_id,
        "actor": None
        if entry.actor_id is None
        else {"id": entry.actor_id, "name": names.get(("user", entry.actor_id))},
        "target": None
        if not target_kind or entry.target_id is None
        else {"type": target_kind, "id": entry.target_id, "name": names.get((target_kind, entry.target_id))},
        "student": None
        if not isinstance(pupil, int)
        else {"id": pupil, "name": names.get(("student", pupil))},
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "details": entry.details,
        "created_at": entry.created_at,
    }


@describe(query={name: {"format": "date-time", "allowEmptyValue": True} for name in ("from", "to")})
async def list_audit(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    before, count = page_params(request)
    query = select(AuditEntry).where(AuditEntry.school_id == principal.school_id)
    action = request.query_params.get("action")
    if action:
        if len(action) > 64:
            raise bad_request(N_("'action' is too long."), field="action")
        query = query.where(AuditEntry.action == action)
    target_type = request.query_params.get("target_type")
    if target_type:
        if len(target_type) > 32:
            raise bad_request(N_("'target_type' is too long."), field="target_type")
        query = query.where(AuditEntry.target_type == target_type)
    actor_id = query_int(request, "actor_id")
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    start, end = _when(request, "from"), _when(request, "to")
    if start is not None:
        query = query.where(AuditEntry.created_at >= start)
    if end is not None:
        query = query.where(AuditEntry.created_at < end)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    async with services_of(request).read() as session:
        entries = (await session.scalars(query.order_by(AuditEntry.id.desc()).limit(count))).all()
        names = await audit_names.names_for(session, principal.school_id, entries)
    return ok({"items": [_shape(e, names) for e in entries]})


async def list_audit_actions(request: Request) -> Response:
    """``GET /api/audit/actions`` (admin): the actions the school's log holds, for filtering."""
    principal = await authenticate(request)
    require_role(principal, "admin")
    async with services_of(request).read() as session:
        found = await audit_names.actions(session, principal.school_id)
    return ok({"items": found})


routes = [
    Route("/api/me/export", export_me, methods=["GET"]),
    Route("/api/me", erase_me, methods=["DELETE"]),
    Route("/api/audit", list_audit, methods=["GET"]),
    Route("/api/audit/actions", list_audit_actions, methods=["GET"]),
]
