"""Who may see which class and pupil: the one place those rules live.

Used by the HTTP routes and the websocket access rules alike. Anything a user may
not see is reported as 404 ``not_found``, never 403, so ids of other families'
children do not leak.

A guardian's children are the pupils linked to them that have not left: from the moment
a pupil's ``left_at`` is set, their guardians lose the pupil and its class exactly as if
unlinked (API.md "Guardians and leavers"), on every path that asks here. ``left_at`` is
not compared with the clock: a pupil marked as leaving has left, as their own sign-in
already treats them. Staff keep seeing a leaver until the retention job erases them (P18).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Viewer
from server.db.models import GuardianLink, SchoolClass, StaffClass, Student, User
from server.errors import not_found
from server.language.interface import N_
from server.school.names import display_names


def children_ids(guardian_id: int) -> Select[int]:
    """SQL: the ids of a guardian's children: pupils linked to them that have not left."""
    return (
        select(GuardianLink.student_id)
        .join(Student, Student.id == GuardianLink.student_id)
        .where(GuardianLink.guardian_id == guardian_id, Student.left_at.is_(None))
    )


async def children_of(session: AsyncSession, guardian_id: int) -> list[Student]:
    """A guardian's children (linked, not left), by class then first name."""
    rows = await session.scalars(
        select(Student)
        .join(GuardianLink, GuardianLink.student_id == Student.id)
        .where(GuardianLink.guardian_id == guardian_id, Student.left_at.is_(None))
        .order_by(Student.class_id, Student.first_name, Student.id)
    )
    return list(rows.all())


async def is_guardian_of(session: AsyncSession, guardian_id: int, student_id: int) -> bool:
    """Whether the pupil is one of the guardian's children (linked and not left)."""
    found = await session.scalar(children_ids(guardian_id).where(GuardianLink.student_id == student_id))
    return found is not None


async def guardians_of(session: AsyncSession, student_id: int) -> list[User]:
    """Every guardian linked to a pupil, a leaver's included (whose rights must be re-checked)."""
    rows = await session.scalars(
        select(User)
        .join(GuardianLink, GuardianLink.guardian_id == User.id)
        .where(GuardianLink.student_id == student_id)
        .order_by(User.id)
    )
    return list(rows.all())


async def own_student(session: AsyncSession, user_id: int) -> Student | None:
    """The pupil record of a user with role ``student``."""
    return await session.scalar(select(Student).where(Student.user_id == user_id))


async def visible_class_ids(session: AsyncSession, principal: Viewer) -> set[int]:
    """Classes whose story the user may read: all (staff), children's (parent), own (pupil)."""
    if principal.is_staff:
        rows = await session.scalars(
            select(SchoolClass.id).where(SchoolClass.school_id == principal.school_id)
        )
        return set(rows.all())
    if principal.role == "parent":
        return {child.class_id for child in await children_of(session, principal.id)}
    pupil = await own_student(session, principal.id)
    return {pupil.class_id} if pupil else set()


async def visible_student_ids(session: AsyncSession, principal: Viewer) -> set[int] | None:
    """Pupils whose own data the user may read; None means every pupil of the school (staff)."""
    if principal.is_staff:
        return None
    if principal.role == "parent":
        return set((await session.scalars(children_ids(principal.id))).all())
    pupil = await own_student(session, principal.id)
    return {pupil.id} if pupil else set()


# Built once: nearly every request about a class or a pupil asks one of these, and building a
# statement costs about as much as running it (``session.get`` builds one each time).
_CLASS_BY_ID = select(SchoolClass).where(SchoolClass.id == bindparam("id"))
_STUDENT_BY_ID = select(Student).where(Student.id == bindparam("id"))


async def get_class(session: AsyncSession, principal: Viewer, class_id: int) -> SchoolClass:
    """A class the user may see, else 404."""
    found = (await session.scalars(_CLASS_BY_ID, {"id": class_id})).one_or_none()
    if found is None or found.school_id != principal.school_id:
        raise not_found(N_("That class"))
    if not principal.is_staff and class_id not in await visible_class_ids(session, principal):
        raise not_found(N_("That class"))
    return found


async def get_student(session: AsyncSession, principal: Viewer, student_id: int) -> Student:
    """A pupil whose data the user may see (staff, their guardians, the pupil), else 404."""
    found = (await session.scalars(_STUDENT_BY_ID, {"id": student_id})).one_or_none()
    if found is None or found.school_id != principal.school_id:
        raise not_found(N_("That pupil"))
    allowed = await visible_student_ids(session, principal)
    if allowed is not None and student_id not in allowed:
        raise not_found(N_("That pupil"))
    return found


async def sees_pupil_codes(session: AsyncSession, principal: Viewer, class_id: int) -> bool:
    """Whether the user may see the login codes of the pupils of a class: admins and its own staff.

    A pupil's code is their whole sign-in (P5), so it goes no wider than the people who
    print the class's login cards: other teachers and the office see the pupil without it.
    """
    if principal.is_admin:
        return True
    if not principal.is_staff:
        return False
    assigned = await session.scalar(
        select(StaffClass.class_id).where(StaffClass.user_id == principal.id, StaffClass.class_id == class_id)
    )
    return assigned is not None


async def names_for_classes(session: AsyncSession, class_ids: Iterable[int]) -> dict[int, str]:
    """Display names (P11) of every pupil in the given classes, by pupil id."""
    ids = set(class_ids)
    if not ids:
        return {}
    rows = (await session.execute(select(Student).where(Student.class_id.in_(ids)))).scalars().all()
    by_class: dict[int, list[Student]] = {}
    for pupil in rows:
        by_class.setdefault(pupil.class_id, []).append(pupil)
    names: dict[int, str] = {}
    for classmates in by_class.values():
        names.update(display_names(classmates))
    return names


async def display_name(session: AsyncSession, student: Student) -> str:
    """One pupil's display name, computed against their classmates."""
    return (await names_for_classes(session, [student.class_id]))[student.id]


def shown_in_photos() -> ColumnElement[bool]:
    """SQL: the pupil may appear in photos (P12): photo consent given and not in local-authority care.

    Checked when media is attached, and again on every read: a post whose photos tag a pupil
    whose consent was later withdrawn (or who came into care) no longer shows those photos to
    anyone, and its files are no longer served through it; they come back if consent does.
    """
    return and_(Student.photo_consent.is_(True), Student.la_care.is_(False))
