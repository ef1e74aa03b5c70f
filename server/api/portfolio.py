"""API.md "Portfolio and pupil area": activities, submissions and their review, portfolios, avatars."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import (
    Body,
    InUtcRange,
    JSONResponse,
    authenticate,
    changes_of,
    limit,
    ok,
    page_params,
    parse,
    path_id,
    query_int,
    services_of,
)
from server.api.openapi import describe
from server.auth.principal import Principal, require_role
from server.errors import bad_request, forbidden
from server.language.interface import N_
from server.language.view import routes_of, translated_activities, translated_comments
from server.media import discard_files
from server.portfolio import avatars
from server.portfolio import work as domain
from server.school.access import get_class, get_student, own_student

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # control characters but tab and newline


def _plain(value: str) -> str:
    """Text as stored: newlines normalised, no control characters."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(value):
        raise ValueError("Text may not contain control characters.")
    return value


def _text(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Title = Annotated[str, _text(200, 1), AfterValidator(_plain)]
LongText = Annotated[str, _text(10_000), AfterValidator(_plain)]
WorkText = Annotated[str, _text(5_000), AfterValidator(_plain)]
Comment = Annotated[str, _text(2_000), AfterValidator(_plain)]
ReturnComment = Annotated[str, _text(2_000, 1), AfterValidator(_plain)]
MediaIds = Annotated[list[Annotated[int, Field(ge=1, le=2**62)]], Field(max_length=100)]
SUBMISSIONS_PER_10_MINUTES = 30


class ActivityBody(Body):
    title: Title
    instructions: LongText = ""
    due_at: Annotated[AwareDatetime, InUtcRange] | None = None
    media_ids: MediaIds = Field(default_factory=list)


class ActivityPatch(Body):
    title: Title | None = None
    instructions: LongText | None = None
    due_at: Annotated[AwareDatetime, InUtcRange] | None = None


class SubmissionBody(Body):
    text: WorkText = ""
    media_ids: MediaIds = Field(default_factory=list)


class ApproveBody(Body):
    comment: Comment = ""


class ReturnBody(Body):
    comment: ReturnComment


class AvatarBody(Body):
    avatar: Any


def _status(request: Request) -> str | None:
    status = request.query_params.get("status") or None
    if status is not None and status not in domain.STATUSES:
        raise bad_request(f"'status' must be one of {', '.join(domain.STATUSES)}.", field="status")
    return status


def _page(items: list[dict[str, Any]], next_before: int | None) -> dict[str, Any]:
    return {"items": items, "next_before": next_before}


async def list_activities(request: Request) -> Response:
    principal = await authenticate(request)
    before, count = page_params(request)
    async with services_of(request).read() as session:
        school_class = await get_class(session, principal, path_id(request))
        found = await domain.list_activities(session, school_class, before, count, principal.id)
        items = await domain.shape_activities(session, principal, found)
        items = await translated_activities(
            session, items, principal.user.language, routes=routes_of(services_of(request))
        )
    return ok(_page(items, found[-1].id if len(found) == count else None))


@describe(creates="/api/activities/{id}")
async def create_activity(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "staff")
    body = await parse(request, ActivityBody)
    services = services_of(request)
    async with services.transaction() as session:
        school_class = await get_class(session, principal, path_id(request))
        shape = await domain.create_activity(
            session,
            principal,
            school_class,
            title=body.title,
            instructions=body.instructions,
            due_at=body.due_at,
            media_ids=body.media_ids,
            now=services.clock(),
        )
        [shape] = await translated_activities(
            session, [shape], principal.user.language, routes=routes_of(services_of(request))
        )
    return ok(shape, 201)


async def get_activity(request: Request) -> Response:
    principal = await authenticate(request)
    async with services_of(request).read() as session:
        found = await domain.get_activity(session, principal, path_id(request))
        [shape] = await domain.shape_activities(session, principal, [found])
        [shape] = await translated_activities(
            session, [shape], principal.user.language, routes=routes_of(services_of(request))
        )
    return ok(shape)


async def patch_activity(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "staff")
    body = await parse(request, ActivityPatch)
    changes = changes_of(body, clearable={"due_at": None})
    async with services_of(request).transaction() as session:
        found = await domain.get_activity(session, principal, path_id(request))
        shape = await domain.update_activity(session, principal, found, changes)
        [shape] = await translated_activities(
            session, [shape], principal.user.language, routes=routes_of(services_of(request))
        )
    return ok(shape)


async def delete_activity(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "staff")
    services = services_of(request)
    async with services.transaction() as session:
        found = await domain.get_activity(session, principal, path_id(request))
        unused = await domain.delete_activity(session, principal, found)
    await discard_files(services, unused)
    return ok({"deleted": True})


@describe(creates="/api/submissions/{id}")
async def submit(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "student")
    body = await parse(request, SubmissionBody)
    await limit(request, "submission", str(principal.id), SUBMISSIONS_PER_10_MINUTES, 600)
    services = services_of(request)
    async with services.transaction() as session:
        shape = await domain.submit(
            session,
            principal,
            path_id(request),
            text=body.text,
            media_ids=body.media_ids,
            now=services.clock(),
        )
    return ok(shape, 201)


async def _decide(request: Request, principal: Principal, decision: str, comment: str) -> Response:
    services = services_of(request)
    async with services.transaction() as session:
        shape = await domain.decide(
            session, principal, path_id(request), decision, comment=comment, now=services.clock()
        )
    return ok(shape)


async def approve(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "staff")
    body = await parse(request, ApproveBody)
    return await _decide(request, principal, "approve", body.comment)


async def return_(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "staff")
    body = await parse(request, ReturnBody)
    return await _decide(request, principal, "return", body.comment)


async def get_submission(request: Request) -> Response:
    principal = await authenticate(request)
    async with services_of(request).read() as session:
        shape = await domain.get_item(session, principal, path_id(request))
    return ok(shape)


async def class_submissions(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "staff")
    status = _status(request)
    activity_id = query_int(request, "activity_id")
    before, count = page_params(request)
    async with services_of(request).read() as session:
        school_class = await get_class(session, principal, path_id(request))
        items, next_before = await domain.class_items(
            session, school_class, status=status, activity_id=activity_id, before=before, limit=count
        )
    return ok(_page(items, next_before))


async def student_portfolio(request: Request) -> Response:
    principal = await authenticate(request)
    status = _status(request)
    before, count = page_params(request)
    async with services_of(request).read() as session:
        pupil = await get_student(session, principal, path_id(request))
        items, next_before = await domain.portfolio_of(
            session, principal, pupil, status=status, before=before, limit=count
        )
        items = await translated_comments(
            session, items, principal.user.language, routes=routes_of(services_of(request))
        )
    return ok(_page(items, next_before))


async def my_submissions(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "student")
    status = _status(request)
    before, count = page_params(request)
    async with services_of(request).read() as session:
        items, next_before = await domain.own_portfolio(
            session, principal, status=status, before=before, limit=count
        )
        items = await translated_comments(
            session, items, principal.user.language, routes=routes_of(services_of(request))
        )
    return ok(_page(items, next_before))


@describe(responses={304: {"description": "Not modified (ETag matched)"}})
async def avatar_parts(request: Request) -> Response:
    """The static parts catalogue, privately cacheable for a day and revalidated by ETag."""
    await authenticate(request)
    body, etag = avatars.catalogue_body()
    headers = {"Cache-Control": f"private, max-age={avatars.CACHE_SECONDS}", "ETag": etag}
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=JSONResponse.media_type, headers=headers)


async def patch_avatar(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "student")
    body = await parse(request, AvatarBody)
    avatar = avatars.check_avatar(body.avatar)
    async with services_of(request).transaction() as session:
        pupil = await own_student(session, principal.id)
        if pupil is None:
            raise forbidden(N_("Only pupils have an avatar."))
        await avatars.set_avatar(session, pupil, avatar)
    return ok({"student_id": pupil.id, "avatar": avatar})


routes = [
    Route("/api/classes/{id:int}/activities", list_activities, methods=["GET"]),
    Route("/api/classes/{id:int}/activities", create_activity, methods=["POST"]),
    Route("/api/classes/{id:int}/submissions", class_submissions, methods=["GET"]),
    Route("/api/activities/{id:int}", get_activity, methods=["GET"]),
    Route("/api/activities/{id:int}", patch_activity, methods=["PATCH"]),
    Route("/api/activities/{id:int}", delete_activity, methods=["DELETE"]),
    Route("/api/activities/{id:int}/submissions", submit, methods=["POST"]),
    Route("/api/submissions/{id:int}", get_submission, methods=["GET"]),
    Route("/api/submissions/{id:int}/approve", approve, methods=["POST"]),
    Route("/api/submissions/{id:int}/return", return_, methods=["POST"]),
    Route("/api/students/{id:int}/portfolio", student_portfolio, methods=["GET"]),
    Route("/api/me/submissions", my_submissions, methods=["GET"]),
    Route("/api/me/avatar", patch_avatar, methods=["PATCH"]),
    Route("/api/avatar-parts", avatar_parts, methods=["GET"]),
]
