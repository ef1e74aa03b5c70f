"""Points and skills: ``/api/points``, ``/api/students/{id}/points``, ``/api/classes/{id}/points`` and
the admin side of ``/api/skills`` (``GET /api/skills`` lives with the school routes).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api import replies
from server.api.http import Body, authenticate, ok, page_params, parse, path_id, services_of
from server.api.openapi import describe
from server.auth.principal import require_role
from server.errors import bad_request
from server.points import awards as points
from server.points import skills
from server.school.access import get_class, get_student

DbId = Field(ge=1, le=2**62)


class AwardBody(Body):
    skill_id: int = DbId
    student_ids: list[Annotated[int, DbId]] | None = Field(default=None, max_length=points.MAX_PUPILS)
    class_id: int | None = Field(default=None, ge=1, le=2**62)
    points: int | None = Field(default=None, ge=-1000, le=1000)
    note: str = Field(default="", max_length=2000)


class SkillBody(Body):
    name: str = Field(max_length=200)
    icon: str = Field(default="star", max_length=64)
    points: int = Field(default=1, ge=-1000, le=1000)


class SkillPatch(Body):
    name: str | None = Field(default=None, max_length=200)
    icon: str | None = Field(default=None, max_length=64)
    points: int | None = Field(default=None, ge=-1000, le=1000)


# Days far from year 1 and 9999, so the school-time midnights and week starts around them exist.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
PERIOD = {
    name: {"format": "date", "examples": ["2026-03-02"], "allowEmptyValue": True} for name in ("from", "to")
}


def _day(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"'{name}' must be a date like 2026-03-04.", field=name) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise bad_request(f"'{name}' must be between {FIRST_DAY} and {LAST_DAY}.", field=name)
    return day


@describe(creates="")  # the reply holds a list of awards, not one id
async def award(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "staff")
    body = await parse(request, AwardBody)
    services = services_of(request)
    async with services.transaction() as session:
        results = await points.award_points(
            session,
            principal,
            skill_id=body.skill_id,
            student_ids=body.student_ids,
            class_id=body.class_id,
            points=body.points,
            note=body.note,
            now=services.clock(),
        )
    return ok(
        {
            "awards": [shape for shape, _ in results],
            "totals": {str(shape["student"]["id"]): total for shape, total in results},
        },
        201,
    )


async def undo(request: Request) -> Response:
    principal = await authenticate(request)
    services = services_of(request)
    async with services.transaction() as session:
        shape, total = await points.undo_award(session, principal, path_id(request), services.clock())
    return ok({"removed": shape, "total": total})


@describe(query=PERIOD)
async def student_points(request: Request) -> Response:
    principal = await authenticate(request)
    before, limit = page_params(request)
    services = services_of(request)
    async with services.read() as session:
        pupil = await get_student(session, principal, path_id(request))
        span = await points.school_period(
            session, principal.school_id, _day(request, "from"), _day(request, "to")
        )
        today = services.clock().astimezone(span.zone).date()
        reply = await points.student_points(session, pupil, span, before=before, limit=limit, today=today)
    return ok(reply)


@describe(query=PERIOD)
async def class_points(request: Request) -> Response:
    principal = await authenticate(request)
    async with services_of(request).read() as session:
        school_class = await get_class(session, principal, path_id(request))
        span = await points.school_period(
            session, principal.school_id, _day(request, "from"), _day(request, "to")
        )
        reply = await points.class_board(session, principal, school_class, span)
    return ok(reply)


@describe(responses={201: replies.Skill})
async def create_skill(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    body = await parse(request, SkillBody)
    async with services_of(request).transaction() as session:
        skill = await skills.create_skill(
            session, principal, name=body.name, icon=body.icon, points=body.points
        )
    return ok(skills.skill_shape(skill), 201)


@describe(responses={200: replies.Skill})
async def patch_skill(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    body = await parse(request, SkillPatch)
    async with services_of(request).transaction() as session:
        skill = await skills.update_skill(
            session, principal, path_id(request), body.model_dump(exclude_unset=True)
        )
    return ok(skills.skill_shape(skill))


@describe(responses={200: replies.Deleted})
async def delete_skill(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    async with services_of(request).transaction() as session:
        await skills.archive_skill(session, principal, path_id(request))
    return ok({"deleted": True})


routes = [
    Route("/api/points", award, methods=["POST"]),
    Route("/api/points/{id:int}", undo, methods=["DELETE"]),
    Route("/api/students/{id:int}/points", student_points, methods=["GET"]),
    Route("/api/classes/{id:int}/points", class_points, methods=["GET"]),
    Route("/api/skills", create_skill, methods=["POST"]),
    Route("/api/skills/{id:int}", patch_skill, methods=["PATCH"]),
    Route("/api/skills/{id:int}", delete_skill, methods=["DELETE"]),
]
