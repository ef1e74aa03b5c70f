"""The school's values ("school ways") that points are given for, kept by admins (P1).

A skill is never deleted while awards point at it: deleting archives it, so a
pupil's history keeps its name. Points per skill are positive unless the school
has turned ``allow_negative_points`` on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.db.models import School, Skill
from server.errors import conflict, not_found, validation_error
from server.language.interface import N_
from server.school import audit
from server.stories.posts import clean_text

MAX_POINTS = 10
_ICON = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


def check_points(value: int, allow_negative: bool, field: str = "points") -> int:
    """A points value a school may use: 1…10, or -10…-1 too where negative points are allowed (P1)."""
    if value == 0 or abs(value) > MAX_POINTS:
        raise validation_error(f"{field} must be between 1 and {MAX_POINTS}.", fields={field: "out_of_range"})
    if value < 0 and not allow_negative:
        raise validation_error(
            N_("Points celebrate the school's values; this school does not take points away."),
            fields={field: "negative_not_allowed"},
        )
    return value


def skill_shape(skill: Skill) -> dict[str, Any]:
    return {"id": skill.id, "name": skill.name, "icon": skill.icon, "points": skill.points}


async def _allow_negative(session: AsyncSession, school_id: int) -> bool:
    return bool(await session.scalar(select(School.allow_negative_points).where(School.id == school_id)))


async def get_skill(session: AsyncSession, school_id: int, skill_id: int) -> Skill:
    """A current (not archived) skill of the school, else 404."""
    skill = await session.get(Skill, skill_id)
    if skill is None or skill.school_id != school_id or skill.archived:
        raise not_found(N_("That skill"))
    return skill


async def _check_unique(session: AsyncSession, school_id: int, name: str, except_id: int | None) -> None:
    query = select(Skill.id).where(
        Skill.school_id == school_id,
        Skill.archived.is_(False),
        func.lower(Skill.name) == name.lower(),
    )
    if except_id is not None:
        query = query.where(Skill.id != except_id)
    if await session.scalar(query.limit(1)) is not None:
        raise conflict("already_exists", N_("The school already has a skill with that name."))


def _icon(value: str) -> str:
    if not _ICON.match(value):
        raise validation_error(N_("icon is a short lowercase name like 'heart'."), fields={"icon": "invalid"})
    return value


async def create_skill(
    session: AsyncSession, principal: Principal, *, name: str, icon: str, points: int
) -> Skill:
    """Add a school way (admin)."""
    require_role(principal, "admin")
    clean = clean_text(name, "name", 100)
    await _check_unique(session, principal.school_id, clean, None)
    skill = Skill(
        school_id=principal.school_id,
        name=clean,
        icon=_icon(icon),
        points=check_points(points, await _allow_negative(session, principal.school_id)),
    )
    session.add(skill)
    await session.flush()
    audit.record(
        session, principal.school_id, principal.id, "skill.created", "skill", skill.id, points=skill.points
    )
    return skill


async def update_skill(
    session: AsyncSession, principal: Principal, skill_id: int, changes: Mapping[str, Any]
) -> Skill:
    """Rename a skill, change its icon or points (admin); past awards keep the points they gave."""
    require_role(principal, "admin")
    skill = await get_skill(session, principal.school_id, skill_id)
    if changes.get("name") is not None:
        clean = clean_text(changes["name"], "name", 100)
        await _check_unique(session, principal.school_id, clean, skill.id)
        skill.name = clean
    if changes.get("icon") is not None:
        skill.icon = _icon(changes["icon"])
    if changes.get("points") is not None:
        skill.points = check_points(changes["points"], await _allow_negative(session, principal.school_id))
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "skill.updated",
        "skill",
        skill.id,
        fields=sorted(k for k, v in changes.items() if v is not None),
    )
    return skill


async def archive_skill(session: AsyncSession, principal: Principal, skill_id: int) -> None:
    """Retire a skill (admin): it leaves the list, awards already given keep it."""
    require_role(principal, "admin")
    skill = await get_skill(session, principal.school_id, skill_id)
    skill.archived = True
    audit.record(session, principal.school_id, principal.id, "skill.archived", "skill", skill.id)
