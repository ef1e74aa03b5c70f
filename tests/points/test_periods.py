"""Pure parts of points: allowed values (P1), date periods and week-by-week totals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from server.errors import ApiError
from server.points.awards import period, week_totals
from server.points.skills import check_points

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("value", "allow_negative", "ok"),
    [(1, False, True), (10, False, True), (0, False, False), (11, False, False), (-1, False, False),
     (-1, True, True), (-10, True, True), (-11, True, False), (0, True, False)],
)  # fmt: skip
def test_p1_points_values(value: int, allow_negative: bool, ok: bool) -> None:
    if ok:
        assert check_points(value, allow_negative) == value
    else:
        with pytest.raises(ApiError) as refused:
            check_points(value, allow_negative)
        assert refused.value.status == 422


def test_periods_are_school_days_in_the_school_time_zone() -> None:
    summer = period(date(2026, 6, 1), date(2026, 6, 30), "Europe/London")
    assert summer.start == datetime(2026, 5, 31, 23, 0, tzinfo=UTC)
    assert summer.end == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
    open_ended = period(None, None, "Europe/London")
    assert open_ended.start is None and open_ended.end is None


@pytest.mark.parametrize(
    ("first", "last"), [(date(2026, 3, 5), date(2026, 3, 4)), (date(2025, 1, 1), date(2026, 3, 1))]
)
def test_backwards_or_overlong_periods_are_refused(first: date, last: date) -> None:
    with pytest.raises(ApiError) as refused:
        period(first, last, "Europe/London")
    assert refused.value.status == 400


@pytest.mark.parametrize(
    ("awards", "first", "last", "expected"),
    [
        ([], date(2026, 3, 4), date(2026, 3, 4), [("2026-03-02", 0)]),
        (
            [(datetime(2026, 3, 2, 9, tzinfo=UTC), 1), (datetime(2026, 3, 8, 22, tzinfo=UTC), 2)],
            date(2026, 3, 2),
            date(2026, 3, 20),
            [("2026-03-02", 3), ("2026-03-09", 0), ("2026-03-16", 0)],
        ),
        # 23:30 UTC on Sunday 7 June is already Monday in London (BST): it counts for the new week.
        (
            [(datetime(2026, 6, 7, 23, 30, tzinfo=UTC), 5)],
            date(2026, 6, 1),
            date(2026, 6, 8),
            [("2026-06-01", 0), ("2026-06-08", 5)],
        ),
        ([(datetime(2026, 1, 1, tzinfo=UTC), 9)], date(2026, 3, 2), date(2026, 3, 2), [("2026-03-02", 0)]),
    ],
)
def test_week_totals_run_monday_to_sunday_with_empty_weeks(
    awards: list[tuple[datetime, int]], first: date, last: date, expected: list[tuple[str, int]]
) -> None:
    weeks = week_totals(awards, LONDON, first, last)
    assert [(w["week_start"], w["points"]) for w in weeks] == expected
