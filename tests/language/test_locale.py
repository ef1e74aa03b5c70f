"""Dates and times in the reader's locale and the school's timezone (Babel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.language.locale import (
    format_date,
    format_datetime,
    format_relative,
    format_time,
    localized,
    reader_locale,
)

MOMENT = datetime(2026, 3, 4, 8, 15, tzinfo=UTC)  # a Wednesday; 08:15 in London (GMT)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "en_GB"),
        ("es", "es"),
        ("ur", "ur"),
        ("pt", "pt_PT"),
        ("zz", "en_GB"),
        ("", "en_GB"),
        (None, "en_GB"),
    ],
)
def test_reader_language_picks_a_locale(language: str | None, expected: str) -> None:
    assert str(reader_locale(language)) == expected


@pytest.mark.parametrize(
    ("language", "needle"),
    [
        ("en", "Wednesday, 4 March 2026"),
        ("es", "miércoles, 4 de marzo de 2026"),
        ("pl", "środa, 4 marca 2026"),
    ],
)
def test_dates_are_written_the_readers_way(language: str, needle: str) -> None:
    assert format_date(MOMENT, language, "Europe/London") == needle


def test_times_follow_the_school_timezone() -> None:
    summer = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)  # 08:00 in London (BST)
    assert format_time(summer, "en", "Europe/London") == "08:00"
    assert format_time(summer, "en", "Europe/Madrid") == "09:00"
    assert format_time(summer, "en", "Not/AZone") == "08:00"  # a bad zone falls back to the default


def test_datetime_and_relative_text_are_in_the_readers_language() -> None:
    assert "mar" in format_datetime(MOMENT, "es", "Europe/London")
    assert format_relative(MOMENT + timedelta(hours=3), MOMENT, "en") == "in 3 hours"
    assert format_relative(MOMENT - timedelta(days=2), MOMENT, "es") == "hace 2 días"
    assert localized(None, "en", None) is None
    assert localized(MOMENT, "en", "Europe/London") == {
        "iso": "2026-03-04T08:15:00+00:00",
        "text": format_datetime(MOMENT, "en", "Europe/London"),
    }
