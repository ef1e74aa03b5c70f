"""Signing in and out, and a user's own profile.

No HTTP here: functions take a database session and return model objects or
raise :class:`server.errors.ApiError`.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.passwords import MAX_LENGTH, MIN_LENGTH, hash_password, verify_password
from server.auth.principal import Principal, revoke_sessions
from server.auth.tokens import normalise_code
from server.db.models import SchoolClass, Session, Student, User
from server.errors import ApiError, validation_error
from server.language.interface import N_
from server.language.languages import is_known
from server.timeutil import utcnow

WRONG_LOGIN = "That email and password do not match an account."
WRONG_CURRENT_PASSWORD = "Your current password is needed to set a new one."


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


async def check_login(session: AsyncSession, email: str, password: str) -> User:
    """The staff member or parent with these credentials; 401 otherwise, 403 when suspended."""
    found = await find_by_email(session, email)
    user = found if found is not None and found.role != "student" else None
    if not await verify_password(user.password_hash if user else None, password) or user is None:
        raise ApiError(401, "unauthenticated", WRONG_LOGIN)
    if user.suspended_at is not None:
        raise ApiError(
            403,
            "suspended",
            N_("This account is suspended. Please contact the school office."),
        )
    return user


async def check_pupil_login(session: AsyncSession, class_code: str, student_code: str) -> User:
    """The pupil with this class code and pupil code; 401 otherwise."""
    row = (
        await session.execute(
            select(User, Student)
            .join(Student, Student.user_id == User.id)
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .where(
                SchoolClass.class_code == normalise_code(class_code),
                Student.student_code == normalise_code(student_code),
            )
        )
    ).one_or_none()
    if row is None or row[1].left_at is not None:
        raise ApiError(
            401,
            "unauthenticated",
            N_("Those codes do not match a pupil. Ask your teacher for your card."),
        )
    user = row[0]
    if user.suspended_at is not None:
        raise ApiError(403, "suspended", N_("This account is suspended. Please ask your teacher."))
    return user


async def end_session(session: AsyncSession, principal: Principal) -> None:
    """Revoke the session the request came through."""
    db_session = await session.get(Session, principal.session_id)
    if db_session is not None and db_session.revoked_at is None:
        db_session.revoked_at = utcnow()


def is_wrong_current_password(error: ApiError) -> bool:
    """Whether ``error`` is :func:`update_profile` refusing a wrong current password."""
    return error.status == 403 and error.message == WRONG_CURRENT_PASSWORD


def check_password_rules(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ApiError(
            422,
            "validation_error",
            f"Passwords need {MIN_LENGTH} to {MAX_LENGTH} characters.",
            {"fields": {"password": "length"}},
            template=N_("Passwords need {min} to {max} characters."),
            values={"min": str(MIN_LENGTH), "max": str(MAX_LENGTH)},
        )


def check_language(language: str) -> None:
    if not is_known(language):
        raise validation_error(
            N_("Choose a language from GET /api/languages."), fields={"language": "unknown"}
        )


async def update_profile(
    session: AsyncSession,
    principal: Principal,
    *,
    name: str | None,
    language: str | None,
    password: str | None,
    current_password: str | None,
) -> User:
    """Change a user's own name, language or password (the last ends their other sessions)."""
    user = await session.get(User, principal.id)
    assert user is not None
    if name is not None:
        if principal.role == "student":
            raise ApiError(403, "forbidden", N_("Pupils' names are set by the school."))
        user.name = name
    if language is not None:
        check_language(language)
        user.language = language
    if password is not None:
        if principal.role == "student":
            raise ApiError(403, "forbidden", N_("Pupils sign in with their codes, not a password."))
        check_password_rules(password)
        if not await verify_password(user.password_hash, current_password or ""):
            raise ApiError(403, "forbidden", WRONG_CURRENT_PASSWORD, {"field": "current_password"})
        user.password_hash = await hash_password(password)
        await revoke_sessions(session, user.id, utcnow(), except_id=principal.session_id)
    return user
