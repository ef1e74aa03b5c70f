"""A pupil's guardians as the school manages them: who is linked, unlinking one, whose rights follow.

Linking lives in :mod:`server.school.onboarding` (invite codes, the guardian-request queue);
what may be seen through a link lives in :mod:`server.school.access`. Here: the list staff of
the pupil's class read, the admin's unlink (audited as ``guardian.removed``), and
:func:`family_of`, the users whose live subscriptions a change of the pupil (a move, a
leaving date, an unlink) must re-check. The re-check itself is the live layer's
(``services.access_changed``); callers run it after the change has committed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.db.models import GuardianLink, StaffClass, Student, User
from server.errors import forbidden, not_found
from server.language.interface import N_
from server.school import audit
from server.school.access import get_student
from server.timeutil import iso


async def linked(session: AsyncSession, principal: Principal, student_id: int) -> list[dict[str, Any]]:
    """The pupil's linked guardians ``{id, name, email, language, linked_at}``: admin, staff of the class."""
    require_role(principal, "staff")
    pupil = await get_student(session, principal, student_id)
    if not principal.is_admin:
        teaches = await session.get(StaffClass, (principal.id, pupil.class_id))
        if teaches is None:
            raise forbidden(N_("Only the staff of the pupil's class see their guardians."))
    rows = await session.execute(
        select(User, GuardianLink.created_at)
        .join(GuardianLink, GuardianLink.guardian_id == User.id)
        .where(GuardianLink.student_id == pupil.id)
        .order_by(GuardianLink.created_at, User.id)
    )
    return [
        {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "language": user.language,
            "linked_at": iso(linked_at),
        }
        for user, linked_at in rows.all()
    ]


async def unlink(session: AsyncSession, principal: Principal, student_id: int, guardian_id: int) -> None:
    """Remove one guardian's link to the pupil (admin); 404 unless that guardian is linked to it.

    The caller re-checks the guardian's live subscriptions once this has committed.
    """
    require_role(principal, "admin")
    pupil = await get_student(session, principal, student_id)
    link = await session.get(GuardianLink, (guardian_id, pupil.id))
    if link is None:
        raise not_found(N_("That guardian"))
    await session.delete(link)
    school, actor = principal.school_id, principal.id
    audit.record(session, school, actor, "guardian.removed", "user", guardian_id, student_id=pupil.id)


async def family_of(session: AsyncSession, pupil: Student) -> list[int]:
    """The pupil's own user and every guardian linked to them: whose rights follow the pupil."""
    guardians = await session.scalars(
        select(GuardianLink.guardian_id)
        .where(GuardianLink.student_id == pupil.id)
        .order_by(GuardianLink.guardian_id)
    )
    return [pupil.user_id, *guardians.all()]
