"""Password reset by email: a single-use token, stored hashed, valid for one hour.

Requesting a reset never says whether the address is known (the route answers 202 either
way and the email is sent off the request, so timing says nothing either). Pupils have no
password and suspended accounts stay suspended: neither gets a reset. Confirming sets the
new password, uses the token up (and every other outstanding one of that account), and
ends every session of the account.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.accounts import check_password_rules, find_by_email
from server.auth.passwords import hash_password
from server.auth.principal import revoke_sessions
from server.auth.tokens import digest, new_token
from server.db.engine import rowcount
from server.db.models import PasswordReset, User
from server.errors import ApiError

VALID_FOR = timedelta(hours=1)


async def start_reset(session: AsyncSession, email: str, now: datetime) -> tuple[User, str] | None:
    """A new reset token for the account with that email, or None when there is none to reset."""
    user = await find_by_email(session, email)
    if user is None or user.role == "student" or user.suspended_at is not None or not user.email:
        return None
    token = new_token()
    session.add(
        PasswordReset(user_id=user.id, token_hash=digest(token), created_at=now, expires_at=now + VALID_FOR)
    )
    return user, token


def _invalid() -> ApiError:
    return ApiError(
        422,
        "validation_error",
        "That reset link has expired or was already used; ask for a new one.",
        {"fields": {"token": "invalid"}},
    )


async def finish_reset(session: AsyncSession, token: str, password: str, now: datetime) -> User:
    """Set the new password for a valid token; ends every session. 422 for a bad token."""
    check_password_rules(password)
    found = await session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == digest(token)).with_for_update()
    )
    if found is None or found.used_at is not None or found.expires_at <= now:
        raise _invalid()
    used = await session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == found.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    if not rowcount(used):
        raise _invalid()
    user = await session.get(User, found.user_id)
    if user is None or user.suspended_at is not None:
        raise _invalid()
    await session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    user.password_hash = await hash_password(password)
    await revoke_sessions(session, user.id, now)
    return user
