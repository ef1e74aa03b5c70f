"""Who is asking: resolving a session token to a signed-in user, and role guards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.tokens import digest, new_token
from server.db.models import School, Session, User
from server.errors import ApiError, forbidden, unauthenticated
from server.language.interface import N_
from server.services import Services


class Role(StrEnum):
    """A user's role (API.md); the web client reads the same list (``web/js/contract.js``)."""

    ADMIN = "admin"
    TEACHER = "teacher"
    OFFICE = "office"
    PARENT = "parent"
    STUDENT = "student"


STAFF_ROLES: frozenset[str] = frozenset({Role.ADMIN.value, Role.TEACHER.value, Role.OFFICE.value})
ROLES: frozenset[str] = frozenset(role.value for role in Role)
TOUCH_EVERY = timedelta(minutes=5)
"""How stale ``last_seen_at`` may get before a request writes it: the idle timeout is measured
from it, so it is exact to within these minutes, and busy sessions write once in five minutes."""


class Viewer(Protocol):
    """Who is looking, as the access rules need it: a :class:`Principal` or a socket's :class:`SignedIn`."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...

    @property
    def school_id(self) -> int: ...

    @property
    def is_staff(self) -> bool: ...

    @property
    def is_admin(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class SignedIn:
    """What a live connection keeps of its principal between re-checks: ids and role, not the user's row.

    A server holds thousands of idle sockets; a loaded ``User`` with its ORM state is several
    KiB each, this is a few dozen bytes. Re-checks resolve the token again for fresh rights.
    """

    id: int
    role: str
    school_id: int
    via: str

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Principal:
    """A signed-in user and the session they came through."""

    user: User
    session_id: int
    token: str
    via: str  # "cookie" or "bearer"
    policy_version: int

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def school_id(self) -> int:
        return self.user.school_id

    @property
    def is_staff(self) -> bool:
        return self.user.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"

    def signed_in(self) -> SignedIn:
        """The slim copy a live connection keeps."""
        user = self.user
        return SignedIn(user.id, user.role, user.school_id, self.via)

    @property
    def needs_policy(self) -> bool:
        """A parent who has not accepted the school's current code of conduct (P17)."""
        return self.user.role == "parent" and (self.user.policy_accepted_version or 0) < self.policy_version


def require_role(principal: Principal, *roles: str) -> None:
    """403 unless the principal has one of ``roles`` (``"staff"`` means any staff role)."""
    allowed = set(roles)
    if "staff" in allowed:
        allowed |= STAFF_ROLES
    if principal.role not in allowed:
        raise forbidden()


async def start_session(services: Services, session: AsyncSession, user: User, user_agent: str = "") -> str:
    """Create a session row for ``user`` and return the token (shown once, stored hashed)."""
    token = new_token()
    now = services.clock()
    session.add(
        Session(
            user_id=user.id,
            token_hash=digest(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(days=services.settings.session_days),
            user_agent=user_agent[:300],
        )
    )
    return token


# The user as an entity (callers read its fields), the session's few columns as plain values;
# built once, as every request asks it and building a statement costs as much as running it.
_SIGNED_IN = (
    select(
        User,
        Session.id,
        Session.revoked_at,
        Session.expires_at,
        Session.last_seen_at,
        School.policy_version,
    )
    .join(Session, Session.user_id == User.id)
    .join(School, School.id == User.school_id)
    .where(Session.token_hash == bindparam("token_hash"))
)


async def resolve_token(services: Services, token: str, via: str) -> Principal:
    """The principal behind a token; 401 when unknown, expired, idle or revoked, 403 when suspended."""
    now = services.clock()
    async with services.read() as session:
        row = (await session.execute(_SIGNED_IN, {"token_hash": digest(token)})).one_or_none()
    if row is None:
        raise unauthenticated(N_("Your session has ended; please sign in again."))
    user, session_id, revoked_at, expires_at, last_seen_at, policy_version = row
    idle_for = timedelta(days=services.settings.session_idle_days)
    if revoked_at is not None or expires_at <= now or now - last_seen_at > idle_for:
        raise unauthenticated(N_("Your session has ended; please sign in again."))
    if user.suspended_at is not None:
        raise ApiError(
            403,
            "suspended",
            N_("This account is suspended. Please contact the school office."),
        )
    if now - last_seen_at > TOUCH_EVERY:
        async with services.transaction() as session:
            await session.execute(update(Session).where(Session.id == session_id).values(last_seen_at=now))
    return Principal(
        user=user,
        session_id=session_id,
        token=token,
        via=via,
        policy_version=policy_version,
    )


async def revoke_sessions(
    session: AsyncSession, user_id: int, now: object, *, except_id: int | None = None
) -> list[int]:
    """Revoke every live session of a user (optionally keeping one); returns their ids."""
    query = select(Session.id).where(Session.user_id == user_id, Session.revoked_at.is_(None))
    if except_id is not None:
        query = query.where(Session.id != except_id)
    ids = list((await session.scalars(query)).all())
    if ids:
        await session.execute(update(Session).where(Session.id.in_(ids)).values(revoked_at=now))
    return ids
