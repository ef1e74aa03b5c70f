"""Dates and times in the reader's locale, with Babel.

API payloads keep ISO 8601 timestamps (the contract); these helpers give the text a
person reads beside them, in the reader's language and the school's timezone:
"mardi 4 mars 2026 à 08:15", "4 Mar 2026, 08:15", "in 3 hours".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates

DEFAULT_LOCALE = "en_GB"
# A bare language code names a locale with that country's conventions where it matters to families here.
_REGIONAL = {"en": "en_GB", "pt": "pt_PT", "zh": "zh_Hans_CN", "pa": "pa_Guru_IN", "sr": "sr_Latn"}


def reader_locale(language: str | None) -> Locale:
    """The Babel locale for a reader's language code; British English when unknown."""
    code = (language or "").replace("-", "_").strip()
    for candidate in (_REGIONAL.get(code), code, DEFAULT_LOCALE):
        if not candidate:
            continue
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(DEFAULT_LOCALE)


def _zone(timezone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(timezone or "Europe/London")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/London")


def format_datetime(
    moment: datetime, language: str | None, timezone: str | None, width: str = "medium"
) -> str:
    """A date and time as the reader writes it, in the school's timezone."""
    return babel_dates.format_datetime(moment, width, tzinfo=_zone(timezone), locale=reader_locale(language))


def format_date(moment: datetime, language: str | None, timezone: str | None, width: str = "full") -> str:
    """A date as the reader writes it ("Tuesday, 4 March 2026"), in the school's timezone."""
    local = moment.astimezone(_zone(timezone))
    return babel_dates.format_date(local.date(), width, locale=reader_locale(language))


def format_time(moment: datetime, language: str | None, timezone: str | None, width: str = "short") -> str:
    """A time of day as the reader writes it ("08:15", "8:15 AM"), in the school's timezone."""
    return babel_dates.format_time(moment, width, tzinfo=_zone(timezone), locale=reader_locale(language))


def format_relative(moment: datetime, now: datetime, language: str | None) -> str:
    """How long ago or until, in the reader's language ("3 hours ago", "in 2 days")."""
    delta: timedelta = moment - now
    return babel_dates.format_timedelta(
        delta, granularity="minute", add_direction=True, locale=reader_locale(language)
    )


def localized(moment: datetime | None, language: str | None, timezone: str | None) -> dict[str, str] | None:
    """An ISO timestamp with its reader-facing text: ``{"iso": ..., "text": ...}``."""
    if moment is None:
        return None
    return {"iso": moment.isoformat(), "text": format_datetime(moment, language, timezone)}
