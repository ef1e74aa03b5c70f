"""Suspension (P10): an admin blocks an account; its sessions end and its live connections close.

The change is committed first; then :meth:`Services.access_changed` tells the
live layer, which closes the user's connections in every process. Sign-in is
refused with 403 ``suspended`` by :mod:`server.auth.accounts` and every token of the
user has been revoked, so nothing the user still holds works.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role, revoke_sessions
from server.db.models import User
from server.errors import forbidden, not_found
from server.language.interface import N_
from server.messaging.writes import write
from server.school import audit
from server.services import Services
from server.timeutil import iso


def shape(user: User) -> dict[str, Any]:
    """A user's suspension state as admins see it."""
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "suspended": user.suspended_at is not None,
        "suspended_at": iso(user.suspended_at),
        "suspended_reason": user.suspended_reason,
    }


async def _target(session: AsyncSession, principal: Principal, user_id: int) -> User:
    require_role(principal, "admin")
    if user_id == principal.id:
        raise forbidden(N_("You cannot suspend or unsuspend your own account."))
    found = await session.get(User, user_id)
    if found is None or found.school_id != principal.school_id:
        raise not_found(N_("That user"))
    return found


async def suspend(services: Services, principal: Principal, user_id: int, reason: str) -> dict[str, Any]:
    """Suspend a user of the admin's school: sessions revoked, connections closed, login refused."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        user = await _target(session, principal, user_id)
        now = services.clock()
        if user.suspended_at is None:
            user.suspended_at = now
            user.suspended_reason = reason
            audit.record(session, principal.school_id, principal.id, "user.suspended", "user", user.id)
        ended = await revoke_sessions(session, user.id, now)
        if ended:
            audit.record(
                session,
                principal.school_id,
                principal.id,
                "sessions.revoked",
                "user",
                user.id,
                count=len(ended),
            )
        return shape(user)

    result = await write(services, work)
    await services.access_changed(user_id)
    return result


async def unsuspend(services: Services, principal: Principal, user_id: int) -> dict[str, Any]:
    """Lift a suspension; the user signs in again (their old sessions stay ended)."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        user = await _target(session, principal, user_id)
        if user.suspended_at is not None:
            user.suspended_at = None
            user.suspended_reason = None
            audit.record(session, principal.school_id, principal.id, "user.unsuspended", "user", user.id)
        return shape(user)

    result = await write(services, work)
    await services.access_changed(user_id)
    return result
