"""Quiet hours (P7): when a school's staff are at work, in the school's own time zone.

Pure, sans-I/O arithmetic over a school's working week: given its working hours
(``{"mon": ["08:00", "17:00"], …, "sun": None}``), closure days and time zone, and
an instant in UTC, answer whether staff are at work, when the next working period
opens, and when 24 working hours from now end (the reply-by time).

Working periods are defined in the school's wall-clock time and converted to UTC
day by day, so daylight-saving changes move them correctly: 08:00 in London is
08:00 UTC in winter and 07:00 UTC in summer. A wall time that does not exist (the
hour skipped in spring) maps as ``zoneinfo`` maps it with ``fold=0``; an ambiguous
one (the hour repeated in autumn) means its first occurrence. Durations are real
elapsed time. Nothing here reads a clock or a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates as babel_dates

from server.language.locale import reader_locale

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
REPLY_WITHIN = timedelta(hours=24)
# How far ahead to look for a working period: a school closed for longer than this
# (or with no working hours at all) is treated as having no quiet time.
SEARCH_DAYS = 400

Period = tuple[datetime, datetime]


@dataclass(frozen=True)
class WorkingWeek:
    """A school's working hours per weekday, its closure days and its time zone."""

    spans: tuple[tuple[time, time] | None, ...]
    closures: frozenset[date]
    zone: ZoneInfo

    @classmethod
    def of(
        cls,
        working_hours: Mapping[str, Sequence[str] | None],
        closure_days: Iterable[str] = (),
        timezone: str = "Europe/London",
    ) -> WorkingWeek:
        """Build from the school's stored settings; malformed entries count as no work."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        spans = tuple(_span(working_hours.get(key)) for key in DAY_KEYS)
        closures: set[date] = set()
        for day in closure_days:
            try:
                closures.add(date.fromisoformat(day))
            except (TypeError, ValueError):
                continue
        return cls(spans, frozenset(closures), zone)

    def periods(self, start: date, days: int = SEARCH_DAYS) -> Iterator[Period]:
        """Working periods as ``(opens, closes)`` in UTC, from local date ``start`` onwards."""
        for offset in range(days):
            day = start + timedelta(days=offset)
            span = self.spans[day.weekday()]
            if span is None or day in self.closures:
                continue
            opens = datetime.combine(day, span[0], tzinfo=self.zone).astimezone(UTC)
            closes = datetime.combine(day, span[1], tzinfo=self.zone).astimezone(UTC)
            if opens < closes:
                yield opens, closes

    def local(self, instant: datetime) -> datetime:
        """``instant`` in the school's time zone."""
        return _utc(instant).astimezone(self.zone)


def _span(value: Sequence[str] | None) -> tuple[time, time] | None:
    if not value or len(value) != 2:
        return None
    try:
        opens, closes = time.fromisoformat(value[0]), time.fromisoformat(value[1])
    except (TypeError, ValueError):
        return None
    return (opens, closes) if opens < closes else None


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def _ahead(week: WorkingWeek, instant: datetime) -> Iterator[Period]:
    """Periods that have not yet closed at ``instant``."""
    now = _utc(instant)
    for opens, closes in week.periods(week.local(now).date()):
        if closes > now:
            yield opens, closes


def is_working_time(week: WorkingWeek, instant: datetime) -> bool:
    """True while a working period is open (opening time included, closing time not)."""
    now = _utc(instant)
    for opens, _closes in _ahead(week, now):
        return opens <= now
    return False


def next_opening(week: WorkingWeek, instant: datetime) -> datetime | None:
    """When staff are next at work: ``instant`` itself during working time; None if never."""
    now = _utc(instant)
    for opens, _closes in _ahead(week, now):
        return max(opens, now)
    return None


def held_until(week: WorkingWeek, instant: datetime) -> datetime | None:
    """For a message sent at ``instant``: when to release it, or None to deliver it now."""
    opening = next_opening(week, instant)
    if opening is None or opening <= _utc(instant):
        return None
    return opening


def working_time_after(
    week: WorkingWeek, instant: datetime, amount: timedelta = REPLY_WITHIN
) -> datetime | None:
    """The instant when ``amount`` of working time has passed since ``instant`` (reply-by)."""
    now = _utc(instant)
    remaining = amount
    for opens, closes in _ahead(week, now):
        start = max(opens, now)
        available = closes - start
        if available >= remaining:
            return start + remaining
        remaining -= available
    return None


def describe(
    week: WorkingWeek, instant: datetime, now: datetime | None = None, language: str | None = None
) -> str:
    """A day and time people read: "Monday 08:00" ("lunes 08:00" in Spanish); with the date
    when a week or more away. English without ``language``."""
    when = week.local(instant)
    far = now is not None and (when.date() - week.local(now).date()).days >= 7
    if language is None or language.split("-")[0].split("_")[0] == "en":
        label = f"{DAY_NAMES[when.weekday()]} {when:%H:%M}"
        if far:
            label = f"{DAY_NAMES[when.weekday()]} {when.day} {MONTH_NAMES[when.month - 1]} {when:%H:%M}"
        return label
    locale = reader_locale(language)
    pattern = "EEEE d MMMM HH:mm" if far else "EEEE HH:mm"
    return babel_dates.format_datetime(when, pattern, locale=locale)
