"""Names for an audit log page: who acted and what they acted on, as an admin may read them.

The log itself keeps ids and facts only (:mod:`server.school.audit`); the names are looked
up when a page is read, so an erased pupil or account shows as gone rather than being
kept by the log. Admins see every pupil of the school (P19), so pupils appear by their
display name (P11); classes by name; accounts by name.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import AuditEntry, SchoolClass, Student, User
from server.school.access import names_for_classes


async def names_for(
    session: AsyncSession, school_id: int, entries: Sequence[AuditEntry]
) -> dict[tuple[str, int], str]:
    """``{("user", id): name, ("student", id): name, ("class", id): name}`` for the entries."""
    users = {e.actor_id for e in entries if e.actor_id} | {
        e.target_id for e in entries if e.target_type == "user" and e.target_id
    }
    pupils = {e.target_id for e in entries if e.target_type == "student" and e.target_id}
    pupils |= {e.details["student_id"] for e in entries if isinstance(e.details.get("student_id"), int)}
    classes = {e.target_id for e in entries if e.target_type == "class" and e.target_id}
    names: dict[tuple[str, int], str] = {}
    if users:
        for user_id, name in await session.execute(
            select(User.id, User.name).where(User.id.in_(users), User.school_id == school_id)
        ):
            names[("user", user_id)] = name
    if pupils:
        rows = await session.execute(
            select(Student.id, Student.class_id).where(Student.id.in_(pupils), Student.school_id == school_id)
        )
        by_class = dict(rows.all())
        shown = await names_for_classes(session, set(by_class.values()))
        for pupil_id in by_class:
            if pupil_id in shown:
                names[("student", pupil_id)] = shown[pupil_id]
    if classes:
        for class_id, name in await session.execute(
            select(SchoolClass.id, SchoolClass.name).where(
                SchoolClass.id.in_(classes), SchoolClass.school_id == school_id
            )
        ):
            names[("class", class_id)] = name
    return names


async def actions(session: AsyncSession, school_id: int) -> list[str]:
    """Every action the school's log holds, for the filter."""
    rows = await session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.school_id == school_id)
        .distinct()
        .order_by(AuditEntry.action)
    )
    return list(rows.all())
