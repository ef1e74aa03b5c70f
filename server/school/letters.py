"""Who gets an invite letter or a login card, with fresh codes: the data behind the printed PDFs.

One letter per open guardian slot: a pupil with no linked guardian gets two, with one
linked guardian one, with two none. The slot's language is the one the roster gave for a
guardian who has not joined yet (:class:`GuardianContact`), else the school's. Every
letter carries a fresh one-use invite code (made through :func:`onboarding.create_invite`,
so each is audited and stored hashed). Codes printed earlier stay valid until they expire:
a letter may already be in a book bag, and the limit of two guardians holds however many
codes exist (P15). Pupils who have left get nothing. Rendering is :mod:`server.school.letter_pdf`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.models import GuardianContact, GuardianLink, School, SchoolClass, Student, User
from server.school import onboarding
from server.school.access import names_for_classes
from server.school.onboarding import GUARDIAN_LIMIT


@dataclass(frozen=True)
class Letter:
    """One page: a guardian slot of one pupil, with its code."""

    school: str
    class_name: str
    child: str
    guardian: str
    language: str
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Card:
    """One pupil's login card."""

    school: str
    class_name: str
    child: str
    class_code: str
    student_code: str


async def _classes(session: AsyncSession, school_id: int, class_id: int | None) -> list[SchoolClass]:
    query = select(SchoolClass).where(SchoolClass.school_id == school_id)
    if class_id is not None:
        query = query.where(SchoolClass.id == class_id)
    else:
        query = query.where(SchoolClass.archived_at.is_(None))
    return list((await session.scalars(query.order_by(SchoolClass.position, SchoolClass.id))).all())


async def _pupils(session: AsyncSession, class_ids: list[int]) -> list[Student]:
    rows = await session.scalars(
        select(Student)
        .where(Student.class_id.in_(class_ids), Student.left_at.is_(None))
        .order_by(Student.first_name, Student.last_name, Student.id)
    )
    return list(rows.all())


async def make_letters(
    session: AsyncSession, principal: Principal, class_id: int | None, days: int, now: datetime
) -> list[Letter]:
    """Letters for a class (or the whole school when ``class_id`` is None), making their codes."""
    school = await session.get(School, principal.school_id)
    assert school is not None
    classes = await _classes(session, principal.school_id, class_id)
    class_names = {c.id: c.name for c in classes}
    pupils = await _pupils(session, list(class_names))
    ids = [p.id for p in pupils]
    names = await names_for_classes(session, list(class_names))
    linked: dict[int, set[str]] = {}
    if ids:
        rows = await session.execute(
            select(GuardianLink.student_id, func.lower(func.coalesce(User.email, "")))
            .join(User, User.id == GuardianLink.guardian_id)
            .where(GuardianLink.student_id.in_(ids))
        )
        for student_id, email in rows.all():
            linked.setdefault(student_id, set()).add(email)
    contacts: dict[int, list[GuardianContact]] = {}
    if ids:
        for held in await session.scalars(
            select(GuardianContact)
            .where(GuardianContact.student_id.in_(ids))
            .order_by(GuardianContact.student_id, GuardianContact.slot)
        ):
            contacts.setdefault(held.student_id, []).append(held)
    letters: list[Letter] = []
    for pupil in pupils:
        joined = linked.get(pupil.id, set())
        open_slots = GUARDIAN_LIMIT - len(joined)
        waiting = [c for c in contacts.get(pupil.id, []) if not c.email or c.email.casefold() not in joined]
        for index in range(max(open_slots, 0)):
            contact: GuardianContact | None = waiting[index] if index < len(waiting) else None
            made = await onboarding.create_invite(session, principal, pupil, days, now)
            letters.append(
                Letter(
                    school=school.name,
                    class_name=class_names[pupil.class_id],
                    child=names[pupil.id],
                    guardian=contact.name if contact else "",
                    language=(contact.language if contact and contact.language else school.language),
                    code=made.code,
                    expires_at=made.invite.expires_at,
                )
            )
    return letters


async def make_cards(session: AsyncSession, principal: Principal, class_id: int) -> list[Card]:
    """Login cards for the current pupils of a class."""
    school = await session.get(School, principal.school_id)
    assert school is not None
    classes = await _classes(session, principal.school_id, class_id)
    pupils = await _pupils(session, [c.id for c in classes])
    names = await names_for_classes(session, [c.id for c in classes])
    by_id = {c.id: c for c in classes}
    return [
        Card(school.name, by_id[p.class_id].name, names[p.id], by_id[p.class_id].class_code, p.student_code)
        for p in pupils
    ]
