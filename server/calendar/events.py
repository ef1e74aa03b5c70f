"""School events of a class or the whole school: who reads and changes them, and their one shape.

No HTTP here. Every change happens inside the caller's transaction, writes an audit entry
and emits its live event on the class's or school's channel (``event.created``,
``event.updated``, ``event.cancelled``), which also notifies the families (kind ``events``,
``server/notify/kinds.py``). Cancelling keeps the event, marked cancelled, so phone
calendars learn of it (``STATUS:CANCELLED`` in the feed) and pages show it struck through.

An event's title and details are translated for each reader like an activity's title and
instructions: live payloads carry every stored translation (``translations``), REST replies
are fitted to the reader by :func:`shape_for`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.calendar.occurrences import MAX_REMINDER_AHEAD, MAX_SERIES_DAYS, Series, local_date, skipped_dates
from server.db.models import School, SchoolClass, SchoolEvent, User
from server.errors import forbidden, not_found, validation_error
from server.events import class_channel, emit, school_channel
from server.language import stored
from server.language.interface import N_
from server.language.view import Routes, activity_view
from server.school import audit
from server.school.access import visible_class_ids
from server.stories.posts import clean_text
from server.timeutil import iso

MAX_TITLE = 200
MAX_DETAILS = 5000
MAX_LOCATION = 200
MAX_REMINDERS = 5
MAX_EXCEPTIONS = 100
RSVP = ("none", "attendance", "consent")
FIELDS = ("title", "details")
LIST_LIMIT = 500


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise validation_error(f"{name} needs a time zone offset.", fields={name: "no_offset"})
    return value.astimezone(UTC)


def _series(event: SchoolEvent, school: School) -> Series:
    weekly = event.repeat_until if event.recurrence == "weekly" else None
    return Series(
        starts_at=event.starts_at,
        timezone=school.timezone,
        weekly_until=weekly,
        skipped=skipped_dates(event.exceptions, school.closure_days) if weekly else frozenset(),
    )


def series_of(event: SchoolEvent, school: School) -> Series:
    """The event's occurrences as :mod:`server.calendar.occurrences` computes them."""
    return _series(event, school)


def deadline(event: SchoolEvent) -> datetime:
    """Until when guardians may answer or change their answer: ``respond_by`` if set, else the start."""
    return event.respond_by or event.starts_at


# -- shape -------------------------------------------------------------------------------------


def event_shape(event: SchoolEvent, author: User | None) -> dict[str, Any]:
    """An event in its original language (the reader's view adds ``translation``)."""
    recurrence = None
    if event.recurrence == "weekly" and event.repeat_until is not None:
        recurrence = {
            "freq": "weekly",
            "until": event.repeat_until.isoformat(),
            "exceptions": event.exceptions,
        }
    return {
        "id": event.id,
        "scope": event.scope,
        "class_id": event.class_id,
        "author": {"id": author.id, "name": author.name} if author else {"id": None, "name": "deleted user"},
        "title": event.title,
        "details": event.details,
        "lang": event.lang,
        "original": {"title": event.title, "details": event.details, "lang": event.lang},
        "location": event.location,
        "starts_at": iso(event.starts_at),
        "ends_at": iso(event.ends_at),
        "all_day": event.all_day,
        "rsvp": event.rsvp,
        "respond_by": iso(deadline(event)) if event.rsvp != "none" else None,
        "remind_at": [
            iso(event.starts_at - timedelta(seconds=s)) for s in sorted(event.reminders, reverse=True)
        ],
        "recurrence": recurrence,
        "cancelled": event.cancelled_at is not None,
        "cancelled_at": iso(event.cancelled_at),
        "created_at": iso(event.created_at),
        "edited_at": iso(event.edited_at),
    }


async def _authors(session: AsyncSession, events: Sequence[SchoolEvent]) -> dict[int, User]:
    ids = {e.author_id for e in events if e.author_id is not None}
    if not ids:
        return {}
    return {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))}


async def shape_for(
    session: AsyncSession, events: Sequence[SchoolEvent], reader: Principal, routes: Routes
) -> list[dict[str, Any]]:
    """Events as one reader reads them: title and details in their language when translated."""
    authors = await _authors(session, events)
    language = reader.user.language
    wanted = [(getattr(e, f), e.lang) for e in events for f in FIELDS if getattr(e, f)]
    hits = await stored.lookup_many(session, wanted, language) if wanted else {}
    out = []
    for event in events:
        found = {f: hit.text for f in FIELDS if (hit := hits.get((getattr(event, f), event.lang)))}
        shape = event_shape(event, authors.get(event.author_id) if event.author_id else None)
        out.append(activity_view(shape, language, found, routes=routes, fields=FIELDS))
    return out


async def payload(session: AsyncSession, event: SchoolEvent) -> dict[str, Any]:
    """The live payload: the original shape with every stored translation of its fields."""
    author = await session.get(User, event.author_id) if event.author_id else None
    shape = event_shape(event, author)
    shape["translations"] = {
        f: await stored.languages_of(session, getattr(event, f), event.lang) if getattr(event, f) else {}
        for f in FIELDS
    }
    return shape


def channel_of(event: SchoolEvent) -> str:
    """The story channel whose readers the event concerns."""
    if event.scope == "class" and event.class_id is not None:
        return class_channel(event.class_id)
    return school_channel(event.school_id)


async def _announce(session: AsyncSession, event: SchoolEvent, type_: str) -> None:
    emit(session, channel_of(event), type_, {"event": await payload(session, event)})


# -- reading -----------------------------------------------------------------------------------


async def may_read(session: AsyncSession, principal: Principal, event: SchoolEvent) -> bool:
    """Whether a user may see an event: the school's members; a class's only its readers."""
    if event.school_id != principal.school_id:
        return False
    if event.scope == "school" or principal.is_staff:
        return True
    return event.class_id in await visible_class_ids(session, principal)


async def get_event(session: AsyncSession, principal: Principal, event_id: int) -> SchoolEvent:
    """An event the user may see, else 404."""
    event = await session.get(SchoolEvent, event_id)
    if event is None or not await may_read(session, principal, event):
        raise not_found(N_("That event"))
    return event


async def list_events(
    session: AsyncSession,
    school_id: int,
    class_id: int | None,
    start: datetime | None,
    end: datetime | None,
) -> list[SchoolEvent]:
    """A class's events (``class_id``) or the school's, overlapping ``[start, end)``, soonest first."""
    query = select(SchoolEvent).where(SchoolEvent.school_id == school_id)
    if class_id is None:
        query = query.where(SchoolEvent.scope == "school")
    else:
        query = query.where(SchoolEvent.scope == "class", SchoolEvent.class_id == class_id)
    if end is not None:
        query = query.where(SchoolEvent.starts_at < end)
    if start is not None:
        last_day = start.date() - timedelta(days=1)
        query = query.where(
            or_(
                SchoolEvent.starts_at >= start,
                and_(SchoolEvent.ends_at.is_not(None), SchoolEvent.ends_at >= start),
                and_(SchoolEvent.recurrence.is_not(None), SchoolEvent.repeat_until >= last_day),
            )
        )
    query = query.order_by(SchoolEvent.starts_at, SchoolEvent.id).limit(LIST_LIMIT)
    return list((await session.scalars(query)).all())


async def events_for_reader(session: AsyncSession, principal: Principal) -> list[SchoolEvent]:
    """Every event a user's calendar holds: the school's, and their classes' (staff: every class)."""
    classes = await visible_class_ids(session, principal)
    query = select(SchoolEvent).where(
        SchoolEvent.school_id == principal.school_id,
        or_(SchoolEvent.scope == "school", SchoolEvent.class_id.in_(classes or {0})),
    )
    return list((await session.scalars(query.order_by(SchoolEvent.starts_at).limit(2000))).all())


# -- changes -----------------------------------------------------------------------------------


def _checked(fields: dict[str, Any], school: School) -> dict[str, Any]:
    """Validate the full set of an event's fields (after a change is applied); 422 on any fault."""
    starts = _aware(fields["starts_at"], "starts_at")
    ends = _aware(fields["ends_at"], "ends_at") if fields.get("ends_at") is not None else None
    if ends is not None and ends < starts:
        raise validation_error("An event cannot end before it starts.", fields={"ends_at": "before_start"})
    rsvp = fields.get("rsvp") or "none"
    if rsvp not in RSVP:
        raise validation_error("rsvp must be none, attendance or consent.", fields={"rsvp": "invalid"})
    respond_by = fields.get("respond_by")
    if respond_by is not None:
        respond_by = _aware(respond_by, "respond_by")
        if respond_by > starts:
            raise validation_error(
                "Replies must close before the event starts.", fields={"respond_by": "after_start"}
            )
    offsets = fields.get("reminders")
    if offsets is None:
        reminders = [_aware(r, "remind_at") for r in fields.get("remind_at") or []]
        offsets = sorted({int((starts - r).total_seconds()) for r in reminders})
    if len(offsets) > MAX_REMINDERS:
        raise validation_error(f"At most {MAX_REMINDERS} reminders.", fields={"remind_at": "too_many"})
    if any(o <= 0 or o > MAX_REMINDER_AHEAD.total_seconds() for o in offsets):
        raise validation_error(
            "Reminders must come before the event, at most 14 days before.",
            fields={"remind_at": "out_of_range"},
        )
    recurrence = fields.get("recurrence")
    repeat_until: date | None = None
    exceptions: list[str] = []
    if recurrence is not None:
        repeat_until = recurrence["until"]
        assert repeat_until is not None
        first = local_date(starts, school.timezone)
        if not first <= repeat_until <= first + timedelta(days=MAX_SERIES_DAYS):
            raise validation_error(
                "A weekly event must end within a year of its first day.",
                fields={"recurrence.until": "out_of_range"},
            )
        exceptions = sorted({d.isoformat() for d in recurrence.get("exceptions") or []})
        if len(exceptions) > MAX_EXCEPTIONS:
            raise validation_error("Too many exception dates.", fields={"recurrence.exceptions": "too_many"})
        if rsvp != "none":
            raise validation_error("A weekly event cannot ask for replies.", fields={"rsvp": "recurring"})
    return {
        "title": clean_text(fields["title"], "title", MAX_TITLE),
        "details": clean_text(fields.get("details") or "", "details", MAX_DETAILS, required=False),
        "location": clean_text(fields.get("location") or "", "location", MAX_LOCATION, required=False),
        "starts_at": starts,
        "ends_at": ends,
        "all_day": bool(fields.get("all_day")),
        "rsvp": rsvp,
        "respond_by": respond_by,
        "reminders": offsets,
        "recurrence": "weekly" if recurrence is not None else None,
        "repeat_until": repeat_until,
        "exceptions": exceptions,
    }


async def _school(session: AsyncSession, school_id: int) -> School:
    school = await session.get(School, school_id)
    assert school is not None
    return school


async def create_event(
    session: AsyncSession,
    principal: Principal,
    school_class: SchoolClass | None,
    fields: Mapping[str, Any],
    now: datetime,
) -> SchoolEvent:
    """A new class event (``school_class``) or school event (None); staff only."""
    require_role(principal, "staff")
    values = _checked(dict(fields), await _school(session, principal.school_id))
    event = SchoolEvent(
        school_id=principal.school_id,
        scope="class" if school_class else "school",
        class_id=school_class.id if school_class else None,
        author_id=principal.id,
        lang=principal.user.language,
        created_at=now,
        sequence=0,
        **values,
    )
    session.add(event)
    await session.flush()
    audit.record(
        session, principal.school_id, principal.id, "event.created", "event", event.id,
        scope=event.scope, class_id=event.class_id, rsvp=event.rsvp,
    )  # fmt: skip
    await _announce(session, event, "event.created")
    return event


def _may_change(principal: Principal, event: SchoolEvent) -> None:
    if not (principal.is_admin or (principal.is_staff and event.author_id == principal.id)):
        raise forbidden("Only the author or an admin can change this event.")


async def update_event(
    session: AsyncSession, principal: Principal, event: SchoolEvent, changes: Mapping[str, Any], now: datetime
) -> SchoolEvent:
    """Change an event (author or admin); readers learn of it live and by notification."""
    _may_change(principal, event)
    if event.cancelled_at is not None:
        raise validation_error("A cancelled event cannot be changed.", fields={"event": "cancelled"})
    current: dict[str, Any] = {
        "title": event.title,
        "details": event.details,
        "location": event.location,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "all_day": event.all_day,
        "rsvp": event.rsvp,
        "respond_by": event.respond_by,
        "reminders": event.reminders,
        "recurrence": (
            {"until": event.repeat_until, "exceptions": [date.fromisoformat(d) for d in event.exceptions]}
            if event.recurrence
            else None
        ),
    }
    merged = {**current, **changes}
    if "remind_at" in changes:  # else the reminders keep their distance from a new start
        merged.pop("reminders")
    if event.rsvp != "none" and merged.get("rsvp") != event.rsvp and "rsvp" in changes:
        raise validation_error(
            "An event's kind of reply cannot change once it asks for replies.", fields={"rsvp": "fixed"}
        )
    values = _checked(merged, await _school(session, event.school_id))
    changed = sorted(name for name, value in values.items() if getattr(event, name) != value)
    if not changed:
        return event
    if "title" in changed or "details" in changed:
        for field in FIELDS:
            if field in changed:
                await stored.forget(session, getattr(event, field), event.lang)
    for name in changed:
        setattr(event, name, values[name])
    event.sequence += 1
    event.edited_at = now
    await session.flush()
    audit.record(
        session, principal.school_id, principal.id, "event.edited", "event", event.id, fields=changed
    )
    await _announce(session, event, "event.updated")
    return event


async def cancel_event(
    session: AsyncSession, principal: Principal, event: SchoolEvent, now: datetime
) -> SchoolEvent:
    """Cancel an event (author or admin); idempotent. It stays listed, marked cancelled."""
    _may_change(principal, event)
    if event.cancelled_at is not None:
        return event
    event.cancelled_at = now
    event.sequence += 1
    await session.flush()
    audit.record(session, principal.school_id, principal.id, "event.cancelled", "event", event.id)
    await _announce(session, event, "event.cancelled")
    return event
