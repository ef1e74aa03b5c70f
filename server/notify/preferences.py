"""Each reader's notification choices (``GET/PUT /api/me/notifications``) and their defaults.

Defaults, as a school would want them: every kind of push on (a parent who allows
notifications in the browser wants to hear about their child), email off until the
reader chooses instant emails or the daily digest.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.models import NotificationPreference
from server.errors import ApiError, forbidden
from server.notify.kinds import EMAIL_CHOICES, PUSH_KINDS
from server.timeutil import utcnow


def push_allowed(found: NotificationPreference | None, kind: str) -> bool:
    """Whether the reader wants pushes of ``kind`` (a summary counts as always wanted)."""
    if found is None or kind == "summary":
        return True
    return bool(found.push.get(kind, True))


def shape(found: NotificationPreference | None) -> dict[str, Any]:
    """``{"push": {kind: bool, ...}, "email": "off" | "instant" | "daily"}``."""
    push = {kind: push_allowed(found, kind) for kind in PUSH_KINDS}
    return {"push": push, "email": found.email if found else "off"}


def _check(body: Any) -> tuple[dict[str, bool] | None, str | None]:
    if not isinstance(body, dict) or not set(body) <= {"push", "email"}:
        raise ApiError(422, "validation_error", "Send push and/or email.", {"fields": {"body": "shape"}})
    push = body.get("push")
    if push is not None and (
        not isinstance(push, dict)
        or not set(push) <= set(PUSH_KINDS)
        or not all(isinstance(v, bool) for v in push.values())
    ):
        raise ApiError(
            422,
            "validation_error",
            "push is a map of kinds to true or false.",
            {"fields": {"push": "invalid"}},
        )
    email = body.get("email")
    if email is not None and email not in EMAIL_CHOICES:
        raise ApiError(
            422, "validation_error", "email is off, instant or daily.", {"fields": {"email": "invalid"}}
        )
    return push, email


def _not_pupil(principal: Principal) -> None:
    if principal.role == "student":
        raise forbidden()


async def get_preferences(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """The reader's choices, defaults filled in."""
    _not_pupil(principal)
    return shape(await session.get(NotificationPreference, principal.id))


async def set_preferences(session: AsyncSession, principal: Principal, body: Any) -> dict[str, Any]:
    """Change some choices; what is not sent stays as it was."""
    _not_pupil(principal)
    push, email = _check(body)
    found = await session.get(NotificationPreference, principal.id)
    if found is None:
        found = NotificationPreference(user_id=principal.id, push={}, email="off")
        session.add(found)
    if push is not None:
        found.push = {**(found.push or {}), **push}
    if email is not None:
        found.email = email
    found.updated_at = utcnow()
    await session.flush()
    return shape(found)


async def unsubscribe_email(session: AsyncSession, user_id: int) -> None:
    """Switch a reader's email to off (the one-click unsubscribe of RFC 8058)."""
    found = await session.get(NotificationPreference, user_id)
    if found is None:
        session.add(NotificationPreference(user_id=user_id, push={}, email="off"))
    else:
        found.email = "off"
        found.updated_at = utcnow()
