"""Creating a school with its first admin (``python -m server create-school``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.accounts import check_password_rules, find_by_email, normalise_email
from server.auth.passwords import hash_password
from server.db.models import School, Skill, User
from server.errors import conflict
from server.school.settings import check_timezone

DEFAULT_POLICY = """Our Homeroom code of conduct

1. Homeroom is for news, celebrations and messages between home and school. Please keep it kind.
2. Photos and posts stay in the app: do not copy, share or post them anywhere else.
3. Private matters go in a private message to your child's teacher, never in comments or stories.
4. Absence, sickness, dinners, music lessons, complaints, urgent collection changes and appointments
   go to the school office.
5. Staff read messages during working hours (Monday to Friday, 08:00 to 17:00) and reply within
   one working day.
6. Points celebrate our school ways. Please do not compare children.
7. Accounts that break this code may be suspended by the school's leaders.
"""

DEFAULT_SKILLS = (
    ("Kindness", "heart", 1),
    ("Teamwork", "team", 1),
    ("Resilience", "mountain", 1),
    ("Curiosity", "lightbulb", 1),
    ("Respect", "handshake", 1),
    ("Great effort", "star", 2),
)


async def create_school(
    session: AsyncSession,
    *,
    name: str,
    admin_name: str,
    admin_email: str,
    admin_password: str,
    timezone: str = "Europe/London",
    with_default_skills: bool = True,
) -> tuple[School, User]:
    """A new school with one admin and, by default, a starter set of school ways."""
    check_password_rules(admin_password)
    if await find_by_email(session, admin_email) is not None:
        raise conflict("already_exists", f"An account with email {admin_email} already exists.")
    school = School(
        name=name,
        timezone=check_timezone(timezone),
        policy_text=DEFAULT_POLICY,
        policy_version=1,
    )
    session.add(school)
    await session.flush()
    admin = User(
        school_id=school.id,
        role="admin",
        name=admin_name,
        email=normalise_email(admin_email),
        password_hash=await hash_password(admin_password),
    )
    session.add(admin)
    if with_default_skills:
        session.add_all(Skill(school_id=school.id, name=n, icon=i, points=p) for n, i, p in DEFAULT_SKILLS)
    await session.flush()
    return school, admin
