"""School events, replies and the calendar feed: ``/api/classes/{id}/events``, ``/api/school/events``,
``/api/events/{id}``, ``/api/events/{id}/responses``, ``/api/events/{id}/nudge``, ``/api/me/calendar``
and ``/api/calendar.ics``.

``remind_at`` takes instants before the (first) start; a weekly event reminds each occurrence
at the same distance before it. ``respond_by`` (optional) closes replies; without it replies
close when the event starts (:mod:`server.calendar.responses`). ``DELETE`` cancels: the event
stays listed with ``cancelled: true``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import InUtcRange, authenticate, ok, parse, path_id, services_of
from server.api.openapi import describe
from server.auth.principal import require_role
from server.calendar import events as calendar
from server.calendar import ical, responses
from server.db.models import School
from server.errors import bad_request, not_found, validation_error
from server.language.view import routes_of
from server.school.access import get_class

Instant = Annotated[datetime, InUtcRange]


class Recurrence(BaseModel):
    freq: Literal["weekly"]
    until: date
    exceptions: list[date] = Field(default_factory=list, max_length=calendar.MAX_EXCEPTIONS)


class EventBody(BaseModel):
    title: str = Field(max_length=calendar.MAX_TITLE)
    details: str = Field(default="", max_length=calendar.MAX_DETAILS)
    starts_at: Instant
    ends_at: Instant | None = None
    all_day: bool = False
    location: str = Field(default="", max_length=calendar.MAX_LOCATION)
    rsvp: Literal["none", "attendance", "consent"] = "none"
    respond_by: Instant | None = None
    remind_at: list[Instant] = Field(default_factory=list, max_length=calendar.MAX_REMINDERS)
    recurrence: Recurrence | None = None


class EventPatch(BaseModel):
    title: str | None = Field(default=None, max_length=calendar.MAX_TITLE)
    details: str | None = Field(default=None, max_length=calendar.MAX_DETAILS)
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    all_day: bool | None = None
    location: str | None = Field(default=None, max_length=calendar.MAX_LOCATION)
    rsvp: Literal["none", "attendance", "consent"] | None = None
    respond_by: Instant | None = None
    remind_at: list[Instant] | None = Field(default=None, max_length=calendar.MAX_REMINDERS)
    recurrence: Recurrence | None = None


class AnswerBody(BaseModel):
    answer: Literal["yes", "no"]
    note: str = Field(default="", max_length=responses.MAX_NOTE)


_CLEARABLE = ("ends_at", "respond_by", "recurrence", "details", "location")


def _range(request: Request, school: School) -> tuple[datetime | None, datetime | None]:
    """``?from=&to=`` (school-local dates, ``to`` inclusive) as UTC instants."""
    zone = ZoneInfo(school.timezone)
    bounds: list[datetime | None] = []
    for name, extra_days in (("from", 0), ("to", 1)):
        raw = request.query_params.get(name)
        if not raw:
            bounds.append(None)
            continue
        try:
            day = date.fromisoformat(raw) + timedelta(days=extra_days)
            bounds.append(datetime.combine(day, time(0), zone).astimezone(UTC))
        except (ValueError, OverflowError):
            raise bad_request(f"'{name}' must be a date (YYYY-MM-DD).", field=name) from None
    return bounds[0], bounds[1]


async def _list(request: Request, *, in_class: bool) -> Response:
    principal = await authenticate(request)
    services = services_of(request)
    async with services.read() as session:
        school = await session.get(School, principal.school_id)
        assert school is not None
        start, end = _range(request, school)
        class_id = (await get_class(session, principal, path_id(request))).id if in_class else None
        found = await calendar.list_events(session, principal.school_id, class_id, start, end)
        items = await calendar.shape_for(session, found, principal, routes_of(services))
    return ok({"items": items})


async def _create(request: Request, *, in_class: bool) -> Response:
    principal = await authenticate(request)
    require_role(principal, "staff")
    body = await parse(request, EventBody)
    services = services_of(request)
    fields = body.model_dump()
    if body.recurrence is not None:
        fields["recurrence"] = body.recurrence.model_dump()
    async with services.transaction() as session:
        school_class = await get_class(session, principal, path_id(request)) if in_class else None
        event = await calendar.create_event(session, principal, school_class, fields, services.clock())
        shape = (await calendar.shape_for(session, [event], principal, routes_of(services)))[0]
    return ok(shape, 201)


@describe(query={"from": {"format": "date"}, "to": {"format": "date"}})
async def list_class_events(request: Request) -> Response:
    """A class's events (members); ``from``/``to`` limit them to school-local dates."""
    return await _list(request, in_class=True)


@describe(creates="/api/events/{id}")
async def create_class_event(request: Request) -> Response:
    """A class event (staff)."""
    return await _create(request, in_class=True)


@describe(query={"from": {"format": "date"}, "to": {"format": "date"}})
async def list_school_events(request: Request) -> Response:
    """The school's events (members)."""
    return await _list(request, in_class=False)


@describe(creates="/api/events/{id}")
async def create_school_event(request: Request) -> Response:
    """A school event (staff)."""
    return await _create(request, in_class=False)


async def get_event(request: Request) -> Response:
    """One event."""
    principal = await authenticate(request)
    services = services_of(request)
    async with services.read() as session:
        event = await calendar.get_event(session, principal, path_id(request))
        shape = (await calendar.shape_for(session, [event], principal, routes_of(services)))[0]
    return ok(shape)


async def patch_event(request: Request) -> Response:
    """Change an event (author, admin); readers learn of it live and by notification."""
    principal = await authenticate(request)
    body = await parse(request, EventPatch)
    services = services_of(request)
    changes = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None and name not in _CLEARABLE:
            raise validation_error(f"{name} cannot be null.", fields={name: "null"})
        changes[name] = value.model_dump() if isinstance(value, BaseModel) else value
    async with services.transaction() as session:
        event = await calendar.get_event(session, principal, path_id(request))
        event = await calendar.update_event(session, principal, event, changes, services.clock())
        shape = (await calendar.shape_for(session, [event], principal, routes_of(services)))[0]
    return ok(shape)


async def cancel_event(request: Request) -> Response:
    """Cancel an event (author, admin): it stays listed, marked cancelled."""
    principal = await authenticate(request)
    services = services_of(request)
    async with services.transaction() as session:
        event = await calendar.get_event(session, principal, path_id(request))
        event = await calendar.cancel_event(session, principal, event, services.clock())
        shape = (await calendar.shape_for(session, [event], principal, routes_of(services)))[0]
    return ok(shape)


async def put_response(request: Request) -> Response:
    """A guardian's answer for their child (RSVP or consent), changeable until the deadline."""
    principal = await authenticate(request)
    body = await parse(request, AnswerBody)
    services = services_of(request)
    student_id = path_id(request, "student_id")
    async with services.transaction() as session:
        event = await calendar.get_event(session, principal, path_id(request))
        shape = await responses.answer(
            session, principal, event, student_id, body.answer, body.note, services.clock()
        )
    return ok(shape)


async def list_responses(request: Request) -> Response:
    """Every pupil's answer, who has not answered, and who has no guardian account (staff)."""
    principal = await authenticate(request)
    require_role(principal, "staff")
    services = services_of(request)
    async with services.read() as session:
        event = await calendar.get_event(session, principal, path_id(request))
        found = await responses.replies_of(session, principal, event)
    return ok(found)


async def nudge(request: Request) -> Response:
    """One notification to each guardian who has not answered yet (staff)."""
    principal = await authenticate(request)
    require_role(principal, "staff")
    services = services_of(request)
    async with services.transaction() as session:
        event = await calendar.get_event(session, principal, path_id(request))
        count = await responses.nudge(session, principal, event, services.clock())
    return ok({"nudged": count})


def _feed_reply(request: Request, token: str) -> dict[str, str]:
    base = services_of(request).settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return {"token": token, "url": f"{base}/api/calendar.ics?token={token}"}


async def get_my_calendar(request: Request) -> Response:
    """The user's private feed address (made on first ask)."""
    principal = await authenticate(request)
    services = services_of(request)
    async with services.transaction() as session:
        token = await ical.feed_token(session, services.settings.secret_key, principal.id, services.clock())
    return ok(_feed_reply(request, token))


async def revoke_my_calendar(request: Request) -> Response:
    """End the user's feed address; the next ``GET /api/me/calendar`` makes a new one."""
    principal = await authenticate(request)
    services = services_of(request)
    async with services.transaction() as session:
        revoked = await ical.revoke(session, principal.id, services.clock())
    return ok({"revoked": revoked})


@describe(
    responses={200: {"description": "An iCalendar (RFC 5545) document.", "content": {"text/calendar": {}}}}
)
async def calendar_feed(request: Request) -> Response:
    """The private iCalendar feed; an unknown or revoked token is 404."""
    token = request.query_params.get("token", "")
    services = services_of(request)
    async with services.read() as session:
        reader = await ical.owner_of(session, services.settings.secret_key, token[:80])
        school = await session.get(School, reader.school_id) if reader else None
        if reader is None or school is None:
            raise not_found()
        body = await ical.calendar_for(session, reader, school)
    return Response(
        body,
        media_type=ical.MEDIA_TYPE,
        headers={
            "Cache-Control": "private, max-age=300",
            "Content-Disposition": 'inline; filename="school.ics"',
        },
    )


routes = [
    Route("/api/classes/{id:int}/events", list_class_events, methods=["GET"]),
    Route("/api/classes/{id:int}/events", create_class_event, methods=["POST"]),
    Route("/api/school/events", list_school_events, methods=["GET"]),
    Route("/api/school/events", create_school_event, methods=["POST"]),
    Route("/api/events/{id:int}", get_event, methods=["GET"]),
    Route("/api/events/{id:int}", patch_event, methods=["PATCH"]),
    Route("/api/events/{id:int}", cancel_event, methods=["DELETE"]),
    Route("/api/events/{id:int}/responses", list_responses, methods=["GET"]),
    Route("/api/events/{id:int}/responses/{student_id:int}", put_response, methods=["PUT"]),
    Route("/api/events/{id:int}/nudge", nudge, methods=["POST"]),
    Route("/api/me/calendar", get_my_calendar, methods=["GET"]),
    Route("/api/me/calendar", revoke_my_calendar, methods=["DELETE"]),
    Route("/api/calendar.ics", calendar_feed, methods=["GET"]),
]
