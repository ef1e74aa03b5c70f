"""Writing a school's rows directly: the one way the demo, the benchmarks and the tests build schools.

These skip the API's checks and audit rows on purpose (they seed an empty school), but write
the same rows the API would: codes drawn like real ones, sessions stored hashed. Every helper
adds to the caller's session and flushes when ids are needed; many rows at once are added
together, so a benchmark's thousands of parents cost one round trip per kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.tokens import digest, new_code, new_token
from server.db.models import GuardianLink, School, SchoolClass, Session, Skill, StaffClass, Student, User
from server.school.provisioning import DEFAULT_POLICY
from server.school.roster import CLASS_CODE_LENGTH, STUDENT_CODE_LENGTH
from server.timeutil import utcnow


async def add_school(session: AsyncSession, name: str, *, policy: str = DEFAULT_POLICY) -> School:
    """A school with the default code of conduct (version 1) and nothing else."""
    school = School(name=name, policy_text=policy, policy_version=1)
    session.add(school)
    await session.flush()
    return school


async def add_skills(
    session: AsyncSession, school: School, skills: Sequence[tuple[str, str, int]]
) -> list[Skill]:
    """School ways as (name, icon, points)."""
    rows = [Skill(school_id=school.id, name=name, icon=icon, points=points) for name, icon, points in skills]
    session.add_all(rows)
    await session.flush()
    return rows


async def add_class(
    session: AsyncSession,
    school: School,
    name: str,
    *,
    staff: Sequence[User] = (),
    code: str | None = None,
    position: int = 0,
) -> SchoolClass:
    """A class with a random class code (or ``code``), taught by ``staff``."""
    found = SchoolClass(
        school_id=school.id, name=name, class_code=code or new_code(CLASS_CODE_LENGTH), position=position
    )
    session.add(found)
    await session.flush()
    session.add_all(StaffClass(user_id=member.id, class_id=found.id) for member in staff)
    return found


async def add_users(
    session: AsyncSession,
    school: School,
    role: str,
    names: Sequence[str],
    *,
    emails: Sequence[str | None] | None = None,
    password_hash: str | None = None,
    language: str = "en",
) -> list[User]:
    """Accounts of one role; parents have accepted the school's current code of conduct."""
    accepted = school.policy_version if role == "parent" else None
    rows = [
        User(
            school_id=school.id,
            role=role,
            name=name,
            email=emails[index] if emails else None,
            password_hash=password_hash,
            language=language,
            policy_accepted_version=accepted,
        )
        for index, name in enumerate(names)
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def add_user(
    session: AsyncSession,
    school: School,
    role: str,
    name: str,
    *,
    email: str | None = None,
    password_hash: str | None = None,
    language: str = "en",
) -> User:
    """One account (see :func:`add_users`)."""
    [user] = await add_users(
        session, school, role, [name], emails=[email], password_hash=password_hash, language=language
    )
    return user


async def add_pupils(
    session: AsyncSession,
    school_class: SchoolClass,
    names: Sequence[tuple[str, str]],
    *,
    photo_consent: bool = True,
    la_care: bool = False,
    taken: set[str] | None = None,
) -> list[Student]:
    """Pupils (first name, surname) of one class, each with a pupil account and a code unique in the class.

    ``taken`` holds the class's codes so far when its pupils are added a few at a time (it is updated).
    """
    users = [User(school_id=school_class.school_id, role="student", name=first) for first, _ in names]
    session.add_all(users)
    await session.flush()
    taken = set() if taken is None else taken
    codes: list[str] = []
    while len(codes) < len(names):
        code = new_code(STUDENT_CODE_LENGTH)
        if code not in taken:
            taken.add(code)
            codes.append(code)
    pupils = [
        Student(
            school_id=school_class.school_id,
            class_id=school_class.id,
            user_id=user.id,
            first_name=first,
            last_name=last,
            photo_consent=photo_consent,
            la_care=la_care,
            student_code=code,
        )
        for user, (first, last), code in zip(users, names, codes, strict=True)
    ]
    session.add_all(pupils)
    await session.flush()
    return pupils


def link_guardians(session: AsyncSession, links: Sequence[tuple[User, Student]]) -> None:
    """Make each user a guardian of the pupil beside them."""
    session.add_all(GuardianLink(guardian_id=user.id, student_id=pupil.id) for user, pupil in links)


def sign_in(
    session: AsyncSession, users: Sequence[User], *, days: float = 1, now: datetime | None = None
) -> list[str]:
    """A session for each user (stored hashed, as sign-in does); returns their bearer tokens."""
    expires = (now or utcnow()) + timedelta(days=days)
    tokens = [new_token() for _ in users]
    session.add_all(
        Session(user_id=user.id, token_hash=digest(token), expires_at=expires)
        for user, token in zip(users, tokens, strict=True)
    )
    return tokens
