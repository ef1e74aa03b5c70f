"""Points for the school's values (P1, P3, P20): awarding, undoing, a pupil's points, the class board.

An award to one pupil, a group or a whole class is one transaction, and each
pupil's award is announced on that pupil's own ``student:{id}`` channel (so a
family hears only about its own child) and on the class's staff channel. Undo is
for mistakes: only the giver, within ten minutes. Parents never get a class
board (P20); they read their own child's points only.

Dates in ``from``/``to`` are days in the school's time zone; weeks start on Monday.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.db.models import Award, School, SchoolClass, Skill, Student, User
from server.errors import bad_request, forbidden, not_found, validation_error
from server.events import class_staff_channel, emit, student_channel
from server.language.interface import N_
from server.points.skills import check_points, get_skill, skill_shape
from server.school import audit
from server.school.access import names_for_classes
from server.stories.posts import clean_text
from server.timeutil import aware, iso

UNDO_WINDOW = timedelta(minutes=10)
MAX_PUPILS = 100
MAX_WEEKS = 53


@dataclass(frozen=True)
class Period:
    """A span of school days, either end open; ``start``/``end`` are the UTC instants bounding it."""

    first: date | None
    last: date | None
    zone: ZoneInfo

    @property
    def start(self) -> datetime | None:
        return _midnight(self.first, self.zone) if self.first else None

    @property
    def end(self) -> datetime | None:
        return _midnight(self.last + timedelta(days=1), self.zone) if self.last else None


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def period(first: date | None, last: date | None, timezone: str) -> Period:
    """Check a ``from``/``to`` pair (at most about a year apart) and bind it to the school's zone."""
    if first and last and first > last:
        raise bad_request(N_("'from' must not be after 'to'."), field="from")
    if first and last and (last - first).days > 400:
        raise bad_request(N_("Ask for at most 400 days at a time."), field="to")
    return Period(first, last, ZoneInfo(timezone))


async def school_period(
    session: AsyncSession, school_id: int, first: date | None, last: date | None
) -> Period:
    """:func:`period` in the school's own time zone."""
    return period(first, last, (await _school(session, school_id)).timezone)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_totals(
    awards: Iterable[tuple[datetime, int]], zone: ZoneInfo, first: date, last: date
) -> list[dict[str, Any]]:
    """Points per week (Monday to Sunday, school time) from ``first``'s week to ``last``'s, zeros included."""
    start, end = monday(first), monday(last)
    totals: dict[date, int] = {}
    week = start
    while week <= end:
        totals[week] = 0
        week += timedelta(days=7)
    for when, points in awards:
        key = monday(aware(when).astimezone(zone).date())
        if key in totals:
            totals[key] += points
    return [{"week_start": day.isoformat(), "points": value} for day, value in totals.items()]


def award_shape(award: Award, pupil_name: str, skill: Skill | None, giver: User | None) -> dict[str, Any]:
    return {
        "id": award.id,
        "student": {"id": award.student_id, "name": pupil_name},
        "class_id": award.class_id,
        "skill": {"id": skill.id, "name": skill.name, "icon": skill.icon} if skill else None,
        "points": award.points,
        "note": award.note,
        "awarded_by": {"id": giver.id, "name": giver.name} if giver else {"id": None, "name": "deleted user"},
        "created_at": iso(award.created_at),
    }


async def totals_of(session: AsyncSession, student_ids: Iterable[int]) -> dict[int, int]:
    """All-time points total per pupil (0 for none)."""
    ids = set(student_ids)
    rows = await session.execute(
        select(Award.student_id, func.sum(Award.points))
        .where(Award.student_id.in_(ids))
        .group_by(Award.student_id)
    )
    totals = dict.fromkeys(ids, 0)
    totals.update({sid: int(total or 0) for sid, total in rows})
    return totals


async def _school(session: AsyncSession, school_id: int) -> School:
    school = await session.get(School, school_id)
    assert school is not None
    return school


async def _recipients(
    session: AsyncSession, principal: Principal, student_ids: Sequence[int] | None, class_id: int | None
) -> list[Student]:
    current = (Student.school_id == principal.school_id, Student.left_at.is_(None))
    if (student_ids is None) == (class_id is None):
        raise validation_error(N_("Send either student_ids or class_id."), fields={"student_ids": "one_of"})
    if class_id is not None:
        school_class = await session.get(SchoolClass, class_id)
        if school_class is None or school_class.school_id != principal.school_id:
            raise not_found(N_("That class"))
        pupils = list(
            (
                await session.scalars(
                    select(Student).where(Student.class_id == class_id, *current).order_by(Student.id)
                )
            ).all()
        )
        if not pupils:
            raise validation_error(N_("That class has no pupils yet."), fields={"class_id": "empty"})
        return pupils
    wanted = list(dict.fromkeys(student_ids or []))
    if not wanted or len(wanted) > MAX_PUPILS:
        raise validation_error(f"Choose between 1 and {MAX_PUPILS} pupils.", fields={"student_ids": "count"})
    found = {s.id: s for s in await session.scalars(select(Student).where(Student.id.in_(wanted), *current))}
    bad = [i for i in wanted if i not in found]
    if bad:
        raise validation_error(
            N_("Some pupils were not found."), fields={"student_ids": "unknown"}, student_ids=bad
        )
    return [found[i] for i in wanted]


def _announce(session: AsyncSession, type_: str, shape: dict[str, Any], total: int) -> None:
    data = {"award": shape, "total": total}
    emit(session, student_channel(shape["student"]["id"]), type_, data)
    if shape["class_id"] is not None:
        emit(session, class_staff_channel(shape["class_id"]), type_, data)


async def award_points(
    session: AsyncSession,
    principal: Principal,
    *,
    skill_id: int,
    student_ids: Sequence[int] | None = None,
    class_id: int | None = None,
    points: int | None = None,
    note: str = "",
    now: datetime,
) -> list[tuple[dict[str, Any], int]]:
    """Give a skill's points to pupils or a whole class (staff); returns each award with the new total."""
    require_role(principal, "staff")
    skill = await get_skill(session, principal.school_id, skill_id)
    school = await _school(session, principal.school_id)
    value = check_points(points if points is not None else skill.points, school.allow_negative_points)
    text = clean_text(note, "note", 500, required=False)
    pupils = await _recipients(session, principal, student_ids, class_id)
    awards = [
        Award(
            school_id=principal.school_id,
            student_id=pupil.id,
            class_id=pupil.class_id,
            skill_id=skill.id,
            points=value,
            note=text,
            awarded_by=principal.id,
            created_at=now,
        )
        for pupil in pupils
    ]
    session.add_all(awards)
    await session.flush()
    totals = await totals_of(session, [p.id for p in pupils])
    names = await names_for_classes(session, {p.class_id for p in pupils})
    results = []
    for award in awards:
        shape = award_shape(award, names[award.student_id], skill, principal.user)
        _announce(session, "points.awarded", shape, totals[award.student_id])
        results.append((shape, totals[award.student_id]))
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "points.awarded",
        "award",
        awards[0].id,
        award_ids=[a.id for a in awards],
        student_ids=[p.id for p in pupils],
        class_id=class_id,
        skill_id=skill.id,
        points=value,
    )
    return results


async def undo_award(
    session: AsyncSession, principal: Principal, award_id: int, now: datetime
) -> tuple[dict[str, Any], int]:
    """Take back a mistaken award: only its giver, within ten minutes (P1). Returns it and the new total."""
    require_role(principal, "staff")
    award = await session.get(Award, award_id)
    if award is None or award.school_id != principal.school_id:
        raise not_found(N_("That award"))
    if award.awarded_by != principal.id:
        raise forbidden(N_("Only the member of staff who gave an award can undo it."))
    if now - aware(award.created_at) > UNDO_WINDOW:
        raise forbidden(N_("Awards can only be undone within 10 minutes of giving them."), reason="too_late")
    pupil = await session.get(Student, award.student_id)
    skill = await session.get(Skill, award.skill_id) if award.skill_id else None
    names = await names_for_classes(session, [pupil.class_id]) if pupil else {}
    shape = award_shape(award, names.get(award.student_id, ""), skill, principal.user)
    await session.delete(award)
    await session.flush()
    total = (await totals_of(session, [award.student_id]))[award.student_id]
    _announce(session, "points.removed", shape, total)
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "points.undone",
        "award",
        award.id,
        student_id=award.student_id,
        points=award.points,
    )
    return shape, total


def _within(query: Any, span: Period) -> Any:
    if span.start is not None:
        query = query.where(Award.created_at >= span.start)
    if span.end is not None:
        query = query.where(Award.created_at < span.end)
    return query


async def student_points(
    session: AsyncSession,
    pupil: Student,
    span: Period,
    *,
    before: int | None,
    limit: int,
    today: date,
) -> dict[str, Any]:
    """A pupil's total, the period's total, per-skill breakdown, week-by-week totals and history."""
    mine = Award.student_id == pupil.id
    total = (await totals_of(session, [pupil.id]))[pupil.id]
    by_skill = await session.execute(
        _within(
            select(Award.skill_id, func.sum(Award.points), func.count()).where(mine).group_by(Award.skill_id),
            span,
        )
    )
    breakdown = list(by_skill.all())
    skills = {
        s.id: s
        for s in await session.scalars(
            select(Skill).where(Skill.id.in_([sid for sid, _, _ in breakdown if sid is not None]))
        )
    }
    instants = list(
        (await session.execute(_within(select(Award.created_at, Award.points).where(mine), span))).all()
    )
    last = span.last or today
    first = span.first or min((aware(w).astimezone(span.zone).date() for w, _ in instants), default=last)
    first = max(first, monday(last) - timedelta(weeks=MAX_WEEKS - 1))
    history_query = _within(select(Award).where(mine), span)
    if before is not None:
        history_query = history_query.where(Award.id < before)
    history = list((await session.scalars(history_query.order_by(Award.id.desc()).limit(limit))).all())
    givers = await _users(session, {a.awarded_by for a in history if a.awarded_by})
    history_skills = await _skills(session, {a.skill_id for a in history if a.skill_id})
    name = (await names_for_classes(session, [pupil.class_id]))[pupil.id]
    return {
        "student": {"id": pupil.id, "name": name},
        "total": total,
        "from": span.first.isoformat() if span.first else None,
        "to": span.last.isoformat() if span.last else None,
        "period_total": sum(points for _, points in instants),
        "skills": sorted(
            (
                {
                    "skill": skill_shape(skills[sid]) if sid in skills else None,
                    "points": int(points or 0),
                    "count": count,
                }
                for sid, points, count in breakdown
            ),
            key=lambda row: (-row["points"], row["skill"]["name"] if row["skill"] else "~"),
        ),
        "weeks": week_totals(instants, span.zone, first, last),
        "history": [
            award_shape(a, name, history_skills.get(a.skill_id or 0), givers.get(a.awarded_by or 0))
            for a in history
        ],
        "next_before": history[-1].id if len(history) == limit else None,
    }


async def _users(session: AsyncSession, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))}


async def _skills(session: AsyncSession, ids: set[int]) -> dict[int, Skill]:
    if not ids:
        return {}
    return {s.id: s for s in await session.scalars(select(Skill).where(Skill.id.in_(ids)))}


async def class_board(
    session: AsyncSession, principal: Principal, school_class: SchoolClass, span: Period
) -> dict[str, Any]:
    """Every pupil's points in a class, by name, never ranked: staff and the class's own pupils (P20)."""
    if principal.role == "parent":
        raise forbidden(N_("Parents see their own child's points, not a class board."))
    if not (principal.is_staff or principal.role == "student"):
        raise forbidden()
    pupils = list(
        (
            await session.scalars(
                select(Student).where(Student.class_id == school_class.id, Student.left_at.is_(None))
            )
        ).all()
    )
    rows = await session.execute(
        _within(
            select(Award.student_id, func.sum(Award.points))
            .where(Award.student_id.in_([p.id for p in pupils]))
            .group_by(Award.student_id),
            span,
        )
    )
    sums = {sid: int(total or 0) for sid, total in rows}
    names = await names_for_classes(session, [school_class.id])
    items: list[dict[str, Any]] = sorted(
        (
            {
                "student": {"id": p.id, "name": names[p.id], "avatar": p.avatar},
                "total": sums.get(p.id, 0),
            }
            for p in pupils
        ),
        key=lambda item: (item["student"]["name"].casefold(), item["student"]["id"]),
    )
    return {
        "class_id": school_class.id,
        "from": span.first.isoformat() if span.first else None,
        "to": span.last.isoformat() if span.last else None,
        "class_total": sum(sums.values()),
        "items": items,
    }
