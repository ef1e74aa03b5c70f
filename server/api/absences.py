"""Absence reports to the office (P8): ``/api/absences`` and ``/api/absences/{id}/acknowledge``.

``GET /api/absences?date=YYYY-MM-DD`` (default: today in the school's zone) lists the
absences covering that day; ``&format=csv`` gives the same list as a CSV file for the
register (``text/csv``, one row per pupil).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import Id, authenticate, ok, parse, path_id, services_of
from server.api.openapi import describe
from server.auth.principal import require_role
from server.calendar import absences
from server.db.models import School
from server.errors import bad_request
from server.language.view import routes_of


class AbsenceBody(BaseModel):
    student_id: Id
    from_: date = Field(alias="from")
    to: date
    reason: Literal["illness", "medical", "family", "other"]
    note: str = Field(default="", max_length=absences.MAX_NOTE)


@describe(creates="")
async def report_absence(request: Request) -> Response:
    """A guardian reports their child's absence; it goes straight to the office."""
    principal = await authenticate(request)
    body = await parse(request, AbsenceBody)
    services = services_of(request)
    async with services.transaction() as session:
        absence = await absences.report(
            session,
            principal,
            student_id=body.student_id,
            first_day=body.from_,
            last_day=body.to,
            reason=body.reason,
            note=body.note,
            now=services.clock(),
        )
        shape = (await absences.shape_for(session, [absence], principal, routes_of(services)))[0]
    return ok(shape, 201)


@describe(
    query={"date": {"format": "date"}, "format": {"enum": ["json", "csv"]}},
    responses={
        200: {
            "description": "The day's absences: JSON, or CSV with format=csv.",
            "content": {"application/json": {}, "text/csv": {}},
        }
    },
)
async def list_absences(request: Request) -> Response:
    """The absences covering a day (office, admin; a teacher: their classes'), as JSON or CSV."""
    principal = await authenticate(request)
    require_role(principal, "staff")
    services = services_of(request)
    wanted = request.query_params.get("format") or "json"
    if wanted not in ("json", "csv"):
        raise bad_request("'format' must be json or csv.", field="format")
    async with services.read() as session:
        school = await session.get(School, principal.school_id)
        assert school is not None
        raw = request.query_params.get("date")
        try:
            day = date.fromisoformat(raw) if raw else absences.school_day(services.clock(), school.timezone)
        except ValueError:
            raise bad_request("'date' must be a date (YYYY-MM-DD).", field="date") from None
        found = await absences.on_day(session, principal, day)
        items = await absences.shape_for(session, found, principal, routes_of(services))
    if wanted == "csv":
        return Response(
            absences.as_csv(day, items),
            media_type="text/csv; charset=utf-8",
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="absences-{day.isoformat()}.csv"',
            },
        )
    return ok({"date": day.isoformat(), "items": items})


async def acknowledge_absence(request: Request) -> Response:
    """The office has seen the report; the guardian is told."""
    principal = await authenticate(request)
    require_role(principal, "office", "admin")
    services = services_of(request)
    async with services.transaction() as session:
        absence = await absences.get_absence(session, principal, path_id(request))
        absence = await absences.acknowledge(session, principal, absence, services.clock())
        shape = (await absences.shape_for(session, [absence], principal, routes_of(services)))[0]
    return ok(shape)


routes = [
    Route("/api/absences", list_absences, methods=["GET"]),
    Route("/api/absences", report_absence, methods=["POST"]),
    Route("/api/absences/{id:int}/acknowledge", acknowledge_absence, methods=["POST"]),
]
