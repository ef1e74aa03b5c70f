"""A pupil's invite codes as the school sees them: which are open, used, expired or revoked.

Codes are stored hashed (only :func:`onboarding.create_invite`'s reply shows one, once), so
the list names each invite by when it was made and what became of it. Revoking an unused
code makes it fail as an expired one would; a used code cannot be revoked (remove the
guardian instead, :mod:`server.school.guardians`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.db.models import Invite, User
from server.errors import conflict, forbidden, not_found
from server.school import audit
from server.school.access import get_student, sees_pupil_codes
from server.timeutil import iso


def status_of(invite: Invite, now: datetime) -> str:
    """``used``, ``revoked``, ``expired`` or ``open``."""
    if invite.used_at is not None:
        return "used"
    if invite.revoked_at is not None:
        return "revoked"
    return "expired" if invite.expires_at <= now else "open"


async def _may_manage(session: AsyncSession, principal: Principal, class_id: int) -> None:
    if not await sees_pupil_codes(session, principal, class_id):
        raise forbidden("Only admins and the class's own staff manage its invite codes.")


async def list_for(
    session: AsyncSession, principal: Principal, student_id: int, now: datetime
) -> list[dict[str, Any]]:
    """Every invite made for the pupil, newest first (admins and the class's staff)."""
    require_role(principal, "staff")
    pupil = await get_student(session, principal, student_id)
    await _may_manage(session, principal, pupil.class_id)
    rows = await session.execute(
        select(Invite, User.name)
        .outerjoin(User, User.id == Invite.used_by)
        .where(Invite.student_id == pupil.id)
        .order_by(Invite.id.desc())
    )
    return [
        {
            "id": invite.id,
            "status": status_of(invite, now),
            "created_at": iso(invite.created_at),
            "expires_at": iso(invite.expires_at),
            "used_at": iso(invite.used_at),
            "used_by": None if invite.used_by is None else {"id": invite.used_by, "name": name},
            "revoked_at": iso(invite.revoked_at),
        }
        for invite, name in rows.all()
    ]


async def revoke(
    session: AsyncSession, principal: Principal, invite_id: int, now: datetime
) -> dict[str, Any]:
    """Stop an unused code from working; idempotent for a revoked one, 409 for a used one."""
    require_role(principal, "staff")
    invite = await session.get(Invite, invite_id)
    if invite is None or invite.school_id != principal.school_id:
        raise not_found("That invite")
    pupil = await get_student(session, principal, invite.student_id)
    await _may_manage(session, principal, pupil.class_id)
    if invite.used_at is not None:
        raise conflict("already_used", "That code has been used; remove the guardian instead.")
    if invite.revoked_at is None:
        invite.revoked_at = now
        audit.record(session, principal.school_id, principal.id, "invite.revoked", "student", pupil.id)
    return {"id": invite.id, "status": status_of(invite, now), "revoked_at": iso(invite.revoked_at)}
