"""The school's settings and its code of conduct (P7 working hours, P17 policy)."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.accounts import check_language
from server.auth.principal import Principal
from server.db.models import DEFAULT_WORKING_HOURS, PolicyAcceptance, School, User
from server.errors import not_found, validation_error
from server.language.interface import N_
from server.school import audit

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


async def get_school(session: AsyncSession, school_id: int) -> School:
    school = await session.get(School, school_id)
    if school is None:
        raise not_found(N_("That school"))
    return school


def check_working_hours(value: Any) -> dict[str, list[str] | None]:
    """Validate ``{"mon": ["08:00", "17:00"], …, "sun": null}``; missing days keep the default."""
    if not isinstance(value, dict) or not set(value) <= set(DAYS):
        raise validation_error(
            N_("working_hours maps mon…sun to [start, end] or null."),
            fields={"working_hours": "shape"},
        )
    hours: dict[str, list[str] | None] = dict(DEFAULT_WORKING_HOURS)
    for day, span in value.items():
        if span is None:
            hours[day] = None
            continue
        ok = (
            isinstance(span, list)
            and len(span) == 2
            and all(isinstance(t, str) and _HHMM.match(t) for t in span)
            and span[0] < span[1]
        )
        if not ok:
            raise validation_error(
                f'working_hours.{day} must be ["HH:MM", "HH:MM"] with start before end.',
                fields={f"working_hours.{day}": "invalid"},
            )
        hours[day] = [span[0], span[1]]
    return hours


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str) -> str:
    """An IANA time zone name the system knows ("Europe/London"); 422 otherwise."""
    if name not in _time_zones():
        raise validation_error(N_("Unknown time zone."), fields={"timezone": "unknown"})
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise validation_error(N_("Unknown time zone."), fields={"timezone": "unknown"}) from None
    return name


def check_closure_days(days: list[str]) -> list[str]:
    try:
        return sorted({date.fromisoformat(d).isoformat() for d in days})
    except ValueError:
        raise validation_error(
            N_("closure_days are ISO dates (YYYY-MM-DD)."),
            fields={"closure_days": "invalid"},
        ) from None


GLOSSARY_TERM_CHARS = 100


def check_glossary(terms: list[str]) -> list[str]:
    """The school's translation glossary: terms kept exactly, trimmed, without repeats or blanks."""
    kept: dict[str, None] = {}
    for term in terms:
        cleaned = " ".join(str(term).split())
        if len(cleaned) > GLOSSARY_TERM_CHARS:
            raise validation_error(
                f"A glossary term has at most {GLOSSARY_TERM_CHARS} characters.",
                fields={"translation_glossary": "too long"},
            )
        if cleaned:
            kept[cleaned] = None
    return list(kept)


async def update_school(session: AsyncSession, principal: Principal, changes: dict[str, Any]) -> School:
    """Apply an admin's settings change; a new policy text means a new version to accept."""
    school = await get_school(session, principal.school_id)
    if "language" in changes:
        check_language(changes["language"])
    if "working_hours" in changes:
        school.working_hours = check_working_hours(changes["working_hours"])
    if "timezone" in changes:
        school.timezone = check_timezone(changes["timezone"])
    if "closure_days" in changes:
        school.closure_days = check_closure_days(changes["closure_days"])
    if "translation_glossary" in changes:
        school.translation_glossary = check_glossary(changes["translation_glossary"] or [])
    for field in (
        "name",
        "allow_negative_points",
        "office_phone",
        "office_email",
        "language",
    ):
        if field in changes:
            setattr(school, field, changes[field])
    version = changes.get("policy_version")
    if version is not None and version < school.policy_version:
        raise validation_error(N_("policy_version can only go up."), fields={"policy_version": "lower"})
    if "policy_text" in changes and changes["policy_text"] != school.policy_text:
        school.policy_text = changes["policy_text"]
        school.policy_version = max(version or 0, school.policy_version + 1)
    elif version is not None:
        school.policy_version = version
    audit.record(
        session,
        school.id,
        principal.id,
        "school.updated",
        "school",
        school.id,
        fields=sorted(changes),
    )
    return school


async def accept_policy(session: AsyncSession, principal: Principal, version: int) -> User:
    """Record a parent's acceptance of the current code of conduct."""
    school = await get_school(session, principal.school_id)
    if version != school.policy_version:
        raise validation_error(
            N_("That is not the current version of the code of conduct."),
            fields={"version": "not current"},
            policy_version=school.policy_version,
        )
    user = await session.get(User, principal.id)
    assert user is not None
    user.policy_accepted_version = version
    session.add(PolicyAcceptance(user_id=user.id, version=version))
    return user
