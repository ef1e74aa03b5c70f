"""Quiet-hours arithmetic (P7): working time, next opening and reply-by, across time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.db.models import DEFAULT_WORKING_HOURS
from server.messaging.quiet_hours import (
    WorkingWeek,
    describe,
    held_until,
    is_working_time,
    next_opening,
    working_time_after,
)

LONDON = WorkingWeek.of(DEFAULT_WORKING_HOURS, [], "Europe/London")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# (sent at, working?, next opening, reply by) — London, Mon–Fri 08:00–17:00.
LONDON_CASES = [
    # Friday evening in winter (GMT): seen Monday 08:00; 24 working hours = Mon 9 + Tue 9 + Wed 6.
    ("2026-03-06T18:30+00:00", False, "2026-03-09T08:00+00:00", "2026-03-11T14:00+00:00"),
    # Mid-morning Monday: working; 7 h Monday, 9 h Tuesday, 8 h Wednesday.
    ("2026-03-09T10:00+00:00", True, "2026-03-09T10:00+00:00", "2026-03-11T16:00+00:00"),
    # Opening time counts as working, closing time does not.
    ("2026-03-09T08:00+00:00", True, "2026-03-09T08:00+00:00", "2026-03-11T14:00+00:00"),
    ("2026-03-09T17:00+00:00", False, "2026-03-10T08:00+00:00", "2026-03-12T14:00+00:00"),
    # Early morning before opening, and a Sunday.
    ("2026-03-10T06:59+00:00", False, "2026-03-10T08:00+00:00", "2026-03-12T14:00+00:00"),
    ("2026-03-08T12:00+00:00", False, "2026-03-09T08:00+00:00", "2026-03-11T14:00+00:00"),
    # Spring forward (Sunday 29 March 2026): Monday 08:00 BST is 07:00 UTC.
    ("2026-03-27T18:00+00:00", False, "2026-03-30T07:00+00:00", "2026-04-01T13:00+00:00"),
    # Summer time: 17:30 BST is 16:30 UTC, already after hours.
    ("2026-06-10T16:30+00:00", False, "2026-06-11T07:00+00:00", "2026-06-15T13:00+00:00"),
    # Wednesday 16:30 BST: half an hour left, then Thursday 9, Friday 9, Monday 5.5 (13:30 BST).
    ("2026-06-10T15:30+00:00", True, "2026-06-10T15:30+00:00", "2026-06-15T12:30+00:00"),
    # Fall back (Sunday 25 October 2026): Friday 08:00 BST, Monday 08:00 GMT.
    ("2026-10-23T20:00+00:00", False, "2026-10-26T08:00+00:00", "2026-10-28T14:00+00:00"),
    # Reply-by spanning the change: Friday 15:00 BST (14:00 UTC) + 2 h Fri, 9 Mon, 9 Tue, 4 Wed.
    ("2026-10-23T14:00+00:00", True, "2026-10-23T14:00+00:00", "2026-10-28T12:00+00:00"),
]


@pytest.mark.parametrize(("sent", "working", "opening", "reply_by"), LONDON_CASES)
def test_p7_london_working_week(sent: str, working: bool, opening: str, reply_by: str) -> None:
    when = utc(sent)
    assert is_working_time(LONDON, when) is working
    assert next_opening(LONDON, when) == utc(opening)
    assert held_until(LONDON, when) == (None if working else utc(opening))
    assert working_time_after(LONDON, when) == utc(reply_by)


CLOSURES = WorkingWeek.of(DEFAULT_WORKING_HOURS, ["2026-03-09", "2026-03-10", "not-a-date"], "Europe/London")
SHORT_FRIDAY = WorkingWeek.of(
    {**DEFAULT_WORKING_HOURS, "wed": None, "fri": ["08:00", "12:00"]}, [], "Europe/London"
)
NEW_YORK = WorkingWeek.of(DEFAULT_WORKING_HOURS, [], "America/New_York")
SYDNEY = WorkingWeek.of(DEFAULT_WORKING_HOURS, [], "Australia/Sydney")

OTHER_CASES = [
    # Closure days on Monday and Tuesday push the opening to Wednesday.
    (CLOSURES, "2026-03-06T18:30+00:00", "2026-03-11T08:00+00:00", "2026-03-13T14:00+00:00"),
    # No Wednesday hours and a half-day Friday: Tue 17:00 → Thu 08:00; 9 Thu + 4 Fri + 9 Mon + 2 Tue.
    (SHORT_FRIDAY, "2026-03-10T17:30+00:00", "2026-03-12T08:00+00:00", "2026-03-17T10:00+00:00"),
    (SHORT_FRIDAY, "2026-03-13T12:30+00:00", "2026-03-16T08:00+00:00", "2026-03-19T14:00+00:00"),
    # New York moves its clocks on 8 March 2026, three weeks before London.
    (NEW_YORK, "2026-03-06T23:30+00:00", "2026-03-09T12:00+00:00", "2026-03-11T18:00+00:00"),
    # Sydney leaves summer time on Sunday 5 April 2026: Friday 08:00 is 21:00 UTC the day before,
    # Monday 08:00 is 22:00 UTC on Sunday.
    (SYDNEY, "2026-04-03T07:00+00:00", "2026-04-05T22:00+00:00", "2026-04-08T04:00+00:00"),
]


@pytest.mark.parametrize(("week", "sent", "opening", "reply_by"), OTHER_CASES)
def test_p7_closures_custom_hours_and_other_zones(
    week: WorkingWeek, sent: str, opening: str, reply_by: str
) -> None:
    assert next_opening(week, utc(sent)) == utc(opening)
    assert working_time_after(week, utc(sent)) == utc(reply_by)


def test_p7_a_school_with_no_working_hours_never_holds() -> None:
    closed = WorkingWeek.of(dict.fromkeys(DEFAULT_WORKING_HOURS), [], "Europe/London")
    when = utc("2026-03-06T18:30+00:00")
    assert is_working_time(closed, when) is False
    assert next_opening(closed, when) is None
    assert held_until(closed, when) is None
    assert working_time_after(closed, when) is None


def test_p7_hours_across_the_skipped_hour_count_real_time() -> None:
    # Sunday hours 00:00–03:00 on the night London skips 01:00–02:00 hold two real hours.
    only_sunday_night = {day: None for day in DEFAULT_WORKING_HOURS} | {"sun": ["00:00", "03:00"]}
    night = WorkingWeek.of(only_sunday_night, [], "Europe/London")
    start = utc("2026-03-29T00:00+00:00")
    assert working_time_after(night, start, timedelta(hours=2)) == utc("2026-03-29T02:00+00:00")
    # The third hour starts the next Sunday at 00:00 BST, 23:00 UTC on Saturday.
    assert working_time_after(night, start, timedelta(hours=3)) == utc("2026-04-05T00:00+00:00")


def test_p7_naive_instants_are_utc_and_malformed_hours_mean_no_work() -> None:
    odd = WorkingWeek.of(
        {"mon": ["9am", "5pm"], "tue": ["08:00"], "wed": ["17:00", "08:00"]}, [], "Nowhere/City"
    )
    assert next_opening(odd, datetime(2026, 3, 9, 10, 0)) is None
    assert next_opening(LONDON, datetime(2026, 3, 9, 10, 0)) == utc("2026-03-09T10:00+00:00")


@pytest.mark.parametrize(
    ("instant", "now", "label"),
    [
        ("2026-03-09T08:00+00:00", "2026-03-06T18:30+00:00", "Monday 08:00"),
        ("2026-03-30T07:00+00:00", "2026-03-27T18:00+00:00", "Monday 08:00"),
        ("2026-04-13T07:00+00:00", "2026-04-03T18:00+00:00", "Monday 13 April 08:00"),
        ("2026-03-11T14:00+00:00", None, "Wednesday 14:00"),
    ],
)
def test_p7_times_are_told_in_the_schools_own_time(instant: str, now: str | None, label: str) -> None:
    assert describe(LONDON, utc(instant), utc(now) if now else None) == label
