"""The private iCalendar feed (RFC 5545) a user's phone calendar subscribes to, and its token.

The token is the feed row's id and an HMAC of its random ``nonce`` under the server's
secret key: ``GET /api/me/calendar`` can show it again (it is recomputed, never stored),
a copy of the database alone does not open anyone's feed, and revoking (``DELETE``) ends
the row so the old address answers 404 at once; the next ``GET`` makes a new one.

The document holds the school's events and the reader's classes' (staff: every class),
each with a stable ``UID`` (``event-{id}@{school}.homeroom``) and a ``SEQUENCE`` bumped
on every change, times in the school's zone (``TZID`` with its ``VTIMEZONE``), all-day
events as dates, a weekly event as one ``RRULE`` with ``EXDATE`` for its exception and
closure days, and a cancelled event kept with ``STATUS:CANCELLED`` so phones remove it.
Titles and details are in the reader's language when their translation is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.calendar.events import FIELDS, events_for_reader
from server.calendar.occurrences import MAX_SERIES_DAYS, skipped_dates
from server.db.models import CalendarFeed, School, SchoolEvent, User
from server.language import stored

MEDIA_TYPE = "text/calendar; charset=utf-8"


def _sign(secret_key: str, feed: CalendarFeed) -> str:
    mac = hmac.new(secret_key.encode(), f"calendar:{feed.id}:{feed.nonce}".encode(), hashlib.sha256)
    return f"{feed.id}.{mac.hexdigest()[:40]}"


async def feed_token(session: AsyncSession, secret_key: str, user_id: int, now: datetime) -> str:
    """The user's current feed token, made on first ask."""
    feed = await session.scalar(
        select(CalendarFeed).where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
    )
    if feed is None:
        feed = CalendarFeed(user_id=user_id, nonce=secrets.token_urlsafe(32), created_at=now)
        session.add(feed)
        await session.flush()
    return _sign(secret_key, feed)


async def revoke(session: AsyncSession, user_id: int, now: datetime) -> int:
    """End the user's feed address(es); returns how many were live."""
    result = await session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def owner_of(session: AsyncSession, secret_key: str, token: str) -> User | None:
    """The user a live token belongs to, or None (unknown, forged or revoked)."""
    feed_id, _, _mac = token.partition(".")
    if not feed_id.isdigit() or len(feed_id) > 18:
        return None
    feed = await session.get(CalendarFeed, int(feed_id))
    if feed is None or feed.revoked_at is not None:
        return None
    if not hmac.compare_digest(_sign(secret_key, feed), token):
        return None
    user = await session.get(User, feed.user_id)
    if user is None or user.suspended_at is not None:
        return None
    return user


def _uid(event: SchoolEvent) -> str:
    return f"event-{event.id}@school-{event.school_id}.homeroom"


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def _component(event: SchoolEvent, school: School, texts: dict[str, str]) -> icalendar.Event:
    zone = ZoneInfo(school.timezone)
    item = icalendar.Event()
    item.add("uid", _uid(event))
    item.add("dtstamp", (event.edited_at or event.created_at).astimezone(UTC))
    item.add("created", event.created_at.astimezone(UTC))
    item.add("sequence", event.sequence)
    item.add("summary", texts["title"])
    if texts["details"]:
        item.add("description", texts["details"])
    if event.location:
        item.add("location", event.location)
    item.add("status", "CANCELLED" if event.cancelled_at is not None else "CONFIRMED")
    start = _local(event.starts_at, zone)
    if event.all_day:
        first = start.date()
        last = _local(event.ends_at, zone).date() if event.ends_at else first
        item.add("dtstart", first)
        item.add("dtend", max(last, first) + timedelta(days=1))
    else:
        item.add("dtstart", start)
        if event.ends_at is not None:
            item.add("dtend", _local(event.ends_at, zone))
    if event.recurrence == "weekly" and event.repeat_until is not None:
        until_day = min(event.repeat_until, start.date() + timedelta(days=MAX_SERIES_DAYS))
        until: date | datetime = until_day
        if not event.all_day:
            until = datetime.combine(until_day, time(23, 59, 59), zone).astimezone(UTC)
        item.add("rrule", {"freq": "weekly", "until": until})
        skipped = skipped_dates(event.exceptions, school.closure_days)
        excluded: list[date | datetime] = []
        day = start.date()
        while day <= until_day:
            if day.isoformat() in skipped:
                excluded.append(
                    day if event.all_day else datetime.combine(day, start.timetz().replace(tzinfo=None), zone)
                )
            day += timedelta(days=7)
        if excluded:
            item.add("exdate", excluded)
    return item


async def calendar_for(session: AsyncSession, reader: User, school: School) -> bytes:
    """The reader's feed as iCalendar bytes."""
    principal = Principal(
        user=reader, session_id=0, token="", via="calendar", policy_version=school.policy_version
    )
    events = [] if principal.needs_policy else await events_for_reader(session, principal)
    wanted = [(getattr(e, f), e.lang) for e in events for f in FIELDS if getattr(e, f)]
    hits = await stored.lookup_many(session, wanted, reader.language) if wanted else {}
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Homeroom//School calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", school.name)
    cal.add("x-wr-timezone", school.timezone)
    for event in events:
        texts = {}
        for field in FIELDS:
            value = getattr(event, field)
            hit = hits.get((value, event.lang)) if value else None
            texts[field] = hit.text if hit is not None and event.lang != reader.language else value
        cal.add_component(_component(event, school, texts))
    cal.add_missing_timezones()
    document: bytes = cal.to_ical()
    return document
