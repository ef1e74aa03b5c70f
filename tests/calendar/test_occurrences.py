"""When a weekly event happens and when its reminders are due: pure arithmetic, table-driven."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server.calendar.occurrences import LATE_LIMIT, Series, due_reminders, occurrences, skipped_dates

LONDON = "Europe/London"
PE = Series(
    starts_at=datetime(2026, 3, 16, 8, 45, tzinfo=UTC),  # Monday, winter time
    timezone=LONDON,
    weekly_until=date(2026, 4, 6),
    skipped=skipped_dates(["2026-03-23"], ["2026-04-06"]),
)


def test_a_one_off_event_happens_once() -> None:
    once = Series(starts_at=datetime(2026, 3, 16, 8, 45, tzinfo=UTC), timezone=LONDON)
    assert list(occurrences(once)) == [datetime(2026, 3, 16, 8, 45, tzinfo=UTC)]


def test_weekly_keeps_the_wall_clock_time_across_summer_time_and_skips_closures() -> None:
    assert list(occurrences(PE)) == [
        datetime(2026, 3, 16, 8, 45, tzinfo=UTC),
        # 23 March: exception; 29 March: clocks go forward, 08:45 London is 07:45 UTC
        datetime(2026, 3, 30, 7, 45, tzinfo=UTC),
        # 6 April: closure day
    ]


def test_a_series_is_bounded_to_a_year() -> None:
    endless = Series(starts_at=PE.starts_at, timezone=LONDON, weekly_until=date(2099, 1, 1))
    assert len(list(occurrences(endless))) == 53


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 15, 19, 59, tzinfo=UTC), []),  # not yet
        (datetime(2026, 3, 15, 20, 0, tzinfo=UTC), [datetime(2026, 3, 15, 20, 0, tzinfo=UTC)]),
        (datetime(2026, 3, 16, 8, 44, tzinfo=UTC), [datetime(2026, 3, 15, 20, 0, tzinfo=UTC)]),
        (datetime(2026, 3, 16, 8, 45, tzinfo=UTC), []),  # the occurrence has begun
        (datetime(2026, 3, 22, 20, 0, tzinfo=UTC), []),  # the evening before an exception
        # summer time: 07:45 UTC less 12h45 is 19:00 UTC, still 20:00 in London
        (datetime(2026, 3, 29, 19, 0, tzinfo=UTC), [datetime(2026, 3, 29, 19, 0, tzinfo=UTC)]),
    ],
)
def test_the_evening_before_reminder_is_due(now: datetime, expected: list[datetime]) -> None:
    due = due_reminders(PE, [int(timedelta(hours=12, minutes=45).total_seconds())], now)
    assert [d.remind_at for d in due] == expected


def test_a_reminder_missed_for_longer_than_the_limit_is_dropped_unless_allowed() -> None:
    event = Series(starts_at=datetime(2026, 3, 20, 9, 0, tzinfo=UTC), timezone=LONDON)
    week_before = [int(timedelta(days=7).total_seconds())]
    late = datetime(2026, 3, 13, 9, 0, tzinfo=UTC) + LATE_LIMIT + timedelta(minutes=1)
    assert due_reminders(event, week_before, late) == []
    assert len(due_reminders(event, week_before, late, late_limit=timedelta(days=14))) == 1
