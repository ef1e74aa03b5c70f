"""Classes, pupils and staff accounts: the school's structure, kept by admins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.accounts import (
    check_language,
    check_password_rules,
    find_by_email,
    normalise_email,
)
from server.auth.passwords import hash_password
from server.auth.principal import STAFF_ROLES, Principal, revoke_sessions
from server.auth.tokens import new_code
from server.db.models import SchoolClass, StaffClass, Student, User
from server.errors import conflict, not_found, validation_error
from server.language.interface import N_
from server.school import audit
from server.timeutil import utcnow

CLASS_CODE_LENGTH = 6
STUDENT_CODE_LENGTH = 6


async def _unique_code(session: AsyncSession, column: Any, length: int, *scope: Any) -> str:
    """A fresh code not yet used in ``column`` (within ``scope`` conditions)."""
    for _ in range(20):
        code = new_code(length)
        if not await session.scalar(select(func.count()).where(column == code, *scope)):
            return code
    raise RuntimeError("could not draw a unique code")


async def list_classes(
    session: AsyncSession, school_id: int, only: set[int] | None = None, *, archived: bool = False
) -> list[SchoolClass]:
    """The school's classes in their order; archived ones only when ``archived``."""
    query = select(SchoolClass).where(SchoolClass.school_id == school_id)
    if not archived:
        query = query.where(SchoolClass.archived_at.is_(None))
    if only is not None:
        query = query.where(SchoolClass.id.in_(only))
    return list((await session.scalars(query.order_by(SchoolClass.position, SchoolClass.id))).all())


async def create_class(session: AsyncSession, principal: Principal, name: str) -> SchoolClass:
    position = await session.scalar(
        select(func.coalesce(func.max(SchoolClass.position), 0)).where(
            SchoolClass.school_id == principal.school_id
        )
    )
    found = SchoolClass(
        school_id=principal.school_id,
        name=name,
        class_code=await _unique_code(session, SchoolClass.class_code, CLASS_CODE_LENGTH),
        position=(position or 0) + 1,
    )
    session.add(found)
    await session.flush()
    audit.record(session, principal.school_id, principal.id, "class.created", "class", found.id)
    return found


async def archive_class(
    session: AsyncSession, principal: Principal, found: SchoolClass, archived: bool
) -> None:
    """Archive a class with no current pupils (its leavers stay until erased), or bring it back."""
    if archived and found.archived_at is None:
        current = await session.scalar(
            select(func.count()).where(Student.class_id == found.id, Student.left_at.is_(None))
        )
        if current:
            raise conflict(
                "not_empty", "Move the pupils of this class or mark them as left first.", pupils=current
            )
        found.archived_at = utcnow()
        audit.record(session, principal.school_id, principal.id, "class.archived", "class", found.id)
    elif not archived and found.archived_at is not None:
        found.archived_at = None
        audit.record(session, principal.school_id, principal.id, "class.unarchived", "class", found.id)


def refuse_archived(found: SchoolClass) -> None:
    """409 ``archived``: an archived class takes no pupils."""
    if found.archived_at is not None:
        raise conflict("archived", "That class is archived: bring it back first.")


async def delete_class(session: AsyncSession, principal: Principal, found: SchoolClass) -> None:
    """Delete an empty class; one with pupils must have them moved or erased first."""
    pupils = await session.scalar(select(func.count()).where(Student.class_id == found.id))
    if pupils:
        raise conflict("not_empty", N_("Move or remove the pupils of this class first."), pupils=pupils)
    audit.record(session, principal.school_id, principal.id, "class.deleted", "class", found.id)
    await session.delete(found)


async def students_of(session: AsyncSession, class_id: int) -> list[Student]:
    rows = await session.scalars(
        select(Student)
        .where(Student.class_id == class_id)
        .order_by(Student.first_name, Student.last_name, Student.id)
    )
    return list(rows.all())


async def add_student(
    session: AsyncSession,
    principal: Principal,
    school_class: SchoolClass,
    *,
    first_name: str,
    last_name: str,
    photo_consent: bool,
    la_care: bool,
) -> Student:
    """Enrol a pupil in a class, with the login user behind them and a fresh pupil code."""
    refuse_archived(school_class)
    user = User(school_id=school_class.school_id, role="student", name=first_name, language="en")
    session.add(user)
    await session.flush()
    student = Student(
        school_id=school_class.school_id,
        class_id=school_class.id,
        user_id=user.id,
        first_name=first_name,
        last_name=last_name,
        photo_consent=photo_consent,
        la_care=la_care,
        student_code=await _unique_code(
            session,
            Student.student_code,
            STUDENT_CODE_LENGTH,
            Student.class_id == school_class.id,
        ),
    )
    session.add(student)
    await session.flush()
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "student.created",
        "student",
        student.id,
    )
    return student


async def update_student(
    session: AsyncSession,
    principal: Principal,
    student: Student,
    changes: dict[str, Any],
) -> Student:
    """Change a pupil's details or class; a pupil who leaves is signed out everywhere."""
    if "class_id" in changes and changes["class_id"] != student.class_id:
        target = await session.get(SchoolClass, changes["class_id"])
        if target is None or target.school_id != principal.school_id:
            raise validation_error(N_("Unknown class."), fields={"class_id": "unknown"})
        refuse_archived(target)
        taken = await session.scalar(
            select(func.count()).where(
                Student.class_id == target.id, Student.student_code == student.student_code
            )
        )
        if taken:  # pupil codes are unique within a class: draw a fresh one on a clash
            student.student_code = await _unique_code(
                session, Student.student_code, STUDENT_CODE_LENGTH, Student.class_id == target.id
            )
        student.class_id = target.id
    for field in ("first_name", "last_name", "photo_consent", "la_care", "left_at"):
        if field in changes:
            setattr(student, field, changes[field])
    if changes.get("left_at") is not None:
        await revoke_sessions(session, student.user_id, utcnow())
    if "first_name" in changes:
        user = await session.get(User, student.user_id)
        if user is not None:
            user.name = changes["first_name"]
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "student.updated",
        "student",
        student.id,
        fields=sorted(changes),
    )
    return student


async def rotate_student_code(session: AsyncSession, principal: Principal, student: Student) -> list[int]:
    """Give a pupil a fresh login code: the old one stops working and their sessions end.

    Returns the ids of the sessions ended; the caller closes the pupil's live connections
    after the commit. The audit entry names the pupil, never either code.
    """
    # The pupil's row still holds the old code here, so the draw can never return it.
    student.student_code = await _unique_code(
        session, Student.student_code, STUDENT_CODE_LENGTH, Student.class_id == student.class_id
    )
    ended = await revoke_sessions(session, student.user_id, utcnow())
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "student.code_rotated",
        "student",
        student.id,
        sessions_ended=len(ended),
    )
    return ended


async def erase_student(session: AsyncSession, principal: Principal, student: Student) -> None:
    """Permanently remove a pupil; their rows go with them through ON DELETE CASCADE."""
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "student.erased",
        "student",
        student.id,
    )
    user = await session.get(User, student.user_id)
    await session.delete(student)
    await session.flush()
    if user is not None:
        await session.delete(user)


async def list_staff(session: AsyncSession, school_id: int) -> list[tuple[User, list[int]]]:
    users = list(
        (
            await session.scalars(
                select(User)
                .where(User.school_id == school_id, User.role.in_(STAFF_ROLES))
                .order_by(User.name)
            )
        ).all()
    )
    links = await session.execute(
        select(StaffClass.user_id, StaffClass.class_id).where(StaffClass.user_id.in_([u.id for u in users]))
    )
    by_user: dict[int, list[int]] = {}
    for user_id, class_id in links:
        by_user.setdefault(user_id, []).append(class_id)
    return [(u, sorted(by_user.get(u.id, []))) for u in users]


async def _check_class_ids(session: AsyncSession, school_id: int, class_ids: Sequence[int]) -> list[int]:
    wanted = set(class_ids)
    if not wanted:
        return []
    found = set(
        (
            await session.scalars(
                select(SchoolClass.id).where(SchoolClass.school_id == school_id, SchoolClass.id.in_(wanted))
            )
        ).all()
    )
    if found != wanted:
        raise validation_error(N_("Unknown class."), fields={"class_ids": sorted(wanted - found)})
    return sorted(found)


async def create_staff(
    session: AsyncSession,
    principal: Principal,
    *,
    name: str,
    email: str,
    role: str,
    password: str,
    class_ids: Sequence[int],
    language: str = "en",
) -> tuple[User, list[int]]:
    check_password_rules(password)
    check_language(language)
    if await find_by_email(session, email) is not None:
        raise conflict("already_exists", N_("An account with that email already exists."))
    classes = await _check_class_ids(session, principal.school_id, class_ids)
    user = User(
        school_id=principal.school_id,
        role=role,
        name=name,
        email=normalise_email(email),
        password_hash=await hash_password(password),
        language=language,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise conflict("already_exists", N_("An account with that email already exists.")) from None
    session.add_all(StaffClass(user_id=user.id, class_id=c) for c in classes)
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "staff.created",
        "user",
        user.id,
        role=role,
    )
    return user, classes


async def update_staff(
    session: AsyncSession, principal: Principal, staff_id: int, changes: dict[str, Any]
) -> tuple[User, list[int]]:
    user = await session.get(User, staff_id)
    if user is None or user.school_id != principal.school_id or user.role not in STAFF_ROLES:
        raise not_found(N_("That member of staff"))
    if "role" in changes and changes["role"] != "admin" and user.role == "admin":
        admins = await session.scalar(
            select(func.count()).where(User.school_id == user.school_id, User.role == "admin")
        )
        if (admins or 0) <= 1:
            raise conflict("last_admin", N_("The school needs at least one admin."))
    if "email" in changes:
        other = await find_by_email(session, changes["email"])
        if other is not None and other.id != user.id:
            raise conflict("already_exists", N_("An account with that email already exists."))
        user.email = normalise_email(changes["email"])
    for field in ("name", "role"):
        if field in changes:
            setattr(user, field, changes[field])
    if "language" in changes:
        check_language(changes["language"])
        user.language = changes["language"]
    if "password" in changes:
        check_password_rules(changes["password"])
        user.password_hash = await hash_password(changes["password"])
        if user.id != principal.id:  # a password reset by an admin signs the old holder out
            await revoke_sessions(session, user.id, utcnow())
    if "class_ids" in changes:
        classes = await _check_class_ids(session, principal.school_id, changes["class_ids"])
        await session.execute(delete(StaffClass).where(StaffClass.user_id == user.id))
        session.add_all(StaffClass(user_id=user.id, class_id=c) for c in classes)
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "staff.updated",
        "user",
        user.id,
        fields=sorted(changes),
    )
    links = await session.scalars(select(StaffClass.class_id).where(StaffClass.user_id == user.id))
    return user, sorted(links.all())
