"""When an event happens and when its reminders are due: pure arithmetic, no I/O.

A weekly event repeats at the same school-local wall-clock time (08:45 stays 08:45 across
a change of summer time), up to its ``repeat_until`` date, skipping its own exception dates
and the school's closure days. Reminders are kept as offsets before each occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MAX_SERIES_DAYS = 366
"""A weekly event runs for a school year at most: occurrences stay few and cheap to list."""
MAX_REMINDER_AHEAD = timedelta(days=14)
"""How long before an occurrence a reminder may be set."""
LATE_LIMIT = timedelta(hours=24)
"""A reminder missed by longer than this (the server was down) is dropped, never sent stale."""


@dataclass(frozen=True)
class Series:
    """What the arithmetic needs of an event."""

    starts_at: datetime
    timezone: str
    weekly_until: date | None = None
    skipped: frozenset[str] = frozenset()  # ISO school-local dates: exceptions and closure days


def local_date(moment: datetime, timezone: str) -> date:
    """The school-local date of an instant."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def occurrences(series: Series) -> Iterator[datetime]:
    """Every occurrence's start (UTC), in order; a one-off event has its one start."""
    zone = ZoneInfo(series.timezone)
    local = series.starts_at.astimezone(zone).replace(tzinfo=None)
    if series.weekly_until is None:
        yield series.starts_at.astimezone(UTC)
        return
    last = min(series.weekly_until, local.date() + timedelta(days=MAX_SERIES_DAYS))
    while local.date() <= last:
        if local.date().isoformat() not in series.skipped:
            yield local.replace(tzinfo=zone).astimezone(UTC)
        local += timedelta(days=7)


def occurrences_between(series: Series, start: datetime, end: datetime) -> list[datetime]:
    """Occurrences starting in ``[start, end)``."""
    found = []
    for moment in occurrences(series):
        if moment >= end:
            break
        if moment >= start:
            found.append(moment)
    return found


def skipped_dates(exceptions: Iterable[str], closure_days: Iterable[str]) -> frozenset[str]:
    """The dates a weekly event does not happen on: its own exceptions and the school's closures."""
    return frozenset(str(d) for d in (*exceptions, *closure_days))


@dataclass(frozen=True)
class Due:
    """One reminder now due: of the occurrence starting at ``occurrence_at``, set for ``remind_at``."""

    occurrence_at: datetime
    remind_at: datetime


def due_reminders(
    series: Series, offsets: Iterable[int], now: datetime, *, late_limit: timedelta = LATE_LIMIT
) -> list[Due]:
    """Reminders whose time has come (at most ``late_limit`` ago) for occurrences not yet started."""
    offsets = sorted(set(offsets))
    if not offsets:
        return []
    ahead = timedelta(seconds=max(offsets))
    due = []
    for occurrence in occurrences_between(series, now, now + ahead + timedelta(seconds=1)):
        if occurrence <= now:
            continue  # begun: too late to remind
        for offset in offsets:
            remind_at = occurrence - timedelta(seconds=offset)
            if remind_at <= now < remind_at + late_limit:
                due.append(Due(occurrence, remind_at))
    return due
