"""Absence reports (P8): a guardian tells the office their child is away; the office acknowledges.

A report goes straight to the office: ``absence.reported`` on ``school:{id}:staff``, live,
and its note is translated into the office's languages (``absence.translated``). The office
(and admins) list a day's absences per class and export them as CSV for the register; the
class's own staff may read their class's. Acknowledging notifies the guardian who reported
(``absence.acknowledged`` on their ``user:{id}``, kind ``messages``). A pupil who is not the
guardian's (never linked, unlinked, or left) is 404, as everywhere else.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.db.models import Absence, SchoolClass, StaffClass, Student, User
from server.errors import forbidden, not_found, validation_error
from server.events import emit, school_staff_channel, user_channel
from server.language import stored
from server.language.interface import N_
from server.language.view import Routes, translation_status
from server.school import audit
from server.school.access import is_guardian_of, names_for_classes
from server.stories.posts import clean_text
from server.timeutil import iso

REASONS = ("illness", "medical", "family", "other")
MAX_NOTE = 1000
MAX_DAYS = 62
CSV_COLUMNS = (
    "date",
    "class",
    "pupil",
    "first_name",
    "last_name",
    "reason",
    "from",
    "to",
    "note",
    "reported_by",
    "acknowledged",
)


async def _shape(session: AsyncSession, absences: list[Absence], *, full_names: bool) -> list[dict[str, Any]]:
    pupils = {
        s.id: s
        for s in await session.scalars(
            select(Student).where(Student.id.in_({a.student_id for a in absences} or {0}))
        )
    }
    names = await names_for_classes(session, {p.class_id for p in pupils.values()})
    classes = {
        c.id: c.name
        for c in await session.scalars(
            select(SchoolClass).where(SchoolClass.id.in_({p.class_id for p in pupils.values()} or {0}))
        )
    }
    people_ids = {a.reporter_id for a in absences} | {a.acknowledged_by for a in absences}
    people = {
        u.id: u
        for u in await session.scalars(select(User).where(User.id.in_({i for i in people_ids if i} or {0})))
    }
    out = []
    for absence in absences:
        pupil = pupils.get(absence.student_id)
        student: dict[str, Any] = {"id": absence.student_id, "name": names.get(absence.student_id, "")}
        if full_names and pupil is not None:  # staff and the pupil's own family see surnames (P11)
            student |= {"first_name": pupil.first_name, "last_name": pupil.last_name}
        reporter = people.get(absence.reporter_id) if absence.reporter_id else None
        acker = people.get(absence.acknowledged_by) if absence.acknowledged_by else None
        out.append(
            {
                "id": absence.id,
                "student": student,
                "class": {"id": pupil.class_id, "name": classes.get(pupil.class_id, "")} if pupil else None,
                "from": absence.from_date.isoformat(),
                "to": absence.to_date.isoformat(),
                "reason": absence.reason,
                "note": absence.note,
                "lang": absence.lang,
                "original": {"text": absence.note, "lang": absence.lang},
                "reported_by": {"id": reporter.id, "name": reporter.name} if reporter else None,
                "created_at": iso(absence.created_at),
                "acknowledged_by": {"id": acker.id, "name": acker.name} if acker else None,
                "acknowledged_at": iso(absence.acknowledged_at),
            }
        )
    return out


async def shape_for(
    session: AsyncSession, absences: list[Absence], reader: Principal, routes: Routes
) -> list[dict[str, Any]]:
    """Absences as one reader reads them: the note in their language when its translation is stored."""
    shapes = await _shape(session, absences, full_names=True)
    language = reader.user.language
    wanted = [(a.note, a.lang) for a in absences if a.note]
    hits = await stored.lookup_many(session, wanted, language) if wanted else {}
    for shape, absence in zip(shapes, absences, strict=True):
        hit = hits.get((absence.note, absence.lang)) if absence.note else None
        route = routes.engine_for(absence.lang, language) if absence.lang != language else None
        status = translation_status(absence.lang, language, hit is not None, route is not None)
        if not absence.note:
            status = "not_needed"
        if status == "ready" and hit is not None:
            shape["note"], shape["lang"] = hit.text, language
        shape["translation"] = {"status": status}
    return shapes


async def report(
    session: AsyncSession,
    principal: Principal,
    *,
    student_id: int,
    first_day: date,
    last_day: date,
    reason: str,
    note: str,
    now: datetime,
) -> Absence:
    """A guardian's report of their child's absence, straight to the office (P8)."""
    if principal.role != "parent":
        raise forbidden("Only a pupil's guardians can report their absence.")
    pupil = await session.get(Student, student_id)
    if (
        pupil is None
        or pupil.school_id != principal.school_id
        or not await is_guardian_of(session, principal.id, student_id)
    ):
        raise not_found(N_("That pupil"))
    if reason not in REASONS:
        raise validation_error(
            "reason must be illness, medical, family or other.", fields={"reason": "invalid"}
        )
    if last_day < first_day:
        raise validation_error(N_("An absence cannot end before it starts."), fields={"to": "before_from"})
    if (last_day - first_day).days >= MAX_DAYS:
        raise validation_error(N_("An absence report can cover at most 62 days."), fields={"to": "too_long"})
    absence = Absence(
        school_id=principal.school_id,
        student_id=student_id,
        reporter_id=principal.id,
        from_date=first_day,
        to_date=last_day,
        reason=reason,
        note=clean_text(note, "note", MAX_NOTE, required=False),
        lang=principal.user.language,
        created_at=now,
    )
    session.add(absence)
    await session.flush()
    audit.record(
        session, principal.school_id, principal.id, "absence.reported", "student", student_id,
        absence_id=absence.id, reason=reason,
    )  # fmt: skip
    shape = (await _shape(session, [absence], full_names=True))[0]
    emit(session, school_staff_channel(principal.school_id), "absence.reported", {"absence": shape})
    return absence


async def _class_ids_read(session: AsyncSession, principal: Principal) -> set[int] | None:
    """Classes whose absences the user may read: every class (office, admin) or their own (teachers)."""
    require_role(principal, "staff")
    if principal.role in ("office", "admin"):
        return None
    rows = await session.scalars(select(StaffClass.class_id).where(StaffClass.user_id == principal.id))
    return set(rows.all())


async def on_day(session: AsyncSession, principal: Principal, day: date) -> list[Absence]:
    """The absences covering a school-local date, by class then pupil, that the user may read."""
    classes = await _class_ids_read(session, principal)
    query = (
        select(Absence)
        .join(Student, Student.id == Absence.student_id)
        .where(Absence.school_id == principal.school_id, Absence.from_date <= day, Absence.to_date >= day)
        .order_by(Student.class_id, Student.first_name, Student.last_name, Absence.id)
    )
    if classes is not None:
        query = query.where(Student.class_id.in_(classes or {0}))
    return list((await session.scalars(query)).all())


async def get_absence(session: AsyncSession, principal: Principal, absence_id: int) -> Absence:
    """An absence the user may read (staff as :func:`on_day`; the reporting guardian), else 404."""
    absence = await session.get(Absence, absence_id)
    if absence is None or absence.school_id != principal.school_id:
        raise not_found()
    if principal.is_staff:
        classes = await _class_ids_read(session, principal)
        pupil = await session.get(Student, absence.student_id)
        if classes is None or (pupil is not None and pupil.class_id in classes):
            return absence
    elif absence.reporter_id == principal.id:
        return absence
    raise not_found()


async def acknowledge(
    session: AsyncSession, principal: Principal, absence: Absence, now: datetime
) -> Absence:
    """The office has seen the report (office, admin); the reporting guardian is told. Idempotent."""
    if principal.role not in ("office", "admin"):
        raise forbidden("Only the school office can acknowledge absences.")
    if absence.acknowledged_at is not None:
        return absence
    absence.acknowledged_by = principal.id
    absence.acknowledged_at = now
    await session.flush()
    audit.record(
        session, principal.school_id, principal.id, "absence.acknowledged", "student", absence.student_id,
        absence_id=absence.id,
    )  # fmt: skip
    shape = (await _shape(session, [absence], full_names=True))[0]
    emit(session, school_staff_channel(principal.school_id), "absence.acknowledged", {"absence": shape})
    if absence.reporter_id is not None:
        emit(session, user_channel(absence.reporter_id), "absence.acknowledged", {"absence": shape})
    return absence


def as_csv(day: date, shapes: list[dict[str, Any]]) -> str:
    """The day's absences as CSV for the register: one row per pupil, in the school's own words."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in shapes:
        student = item["student"]
        writer.writerow(
            [
                day.isoformat(),
                (item.get("class") or {}).get("name", ""),
                student.get("name", ""),
                _cell(student.get("first_name", "")),
                _cell(student.get("last_name", "")),
                item["reason"],
                item["from"],
                item["to"],
                _cell(item["original"]["text"]),
                _cell((item.get("reported_by") or {}).get("name", "")),
                "yes" if item["acknowledged_at"] else "no",
            ]
        )
    return out.getvalue()


def _cell(value: str) -> str:
    """A spreadsheet cell that cannot run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def school_day(now: datetime, timezone: str) -> date:
    """Today in the school's zone."""
    return now.astimezone(ZoneInfo(timezone)).date()
