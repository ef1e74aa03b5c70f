"""Devices' push subscriptions: add (or update), list, remove (``/api/push/subscriptions``).

Only the owner sees or removes a subscription; another user's id is 404. Endpoints are
checked against ``HOMEROOM_PUSH_HOSTS`` before anything is stored, and the keys must be
a P-256 public key (65 bytes, uncompressed) and a 16-byte auth secret, so a push can
never be sent somewhere else, or fail later for a malformed key.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.models import PushDelivery, PushSubscription
from server.errors import ApiError, forbidden, not_found
from server.notify.hosts import endpoint_problem
from server.notify.vapid import b64url_decode
from server.settings import Settings
from server.timeutil import iso

MAX_DEVICES = 20


def _invalid(field: str, reason: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", message, {"fields": {field: reason}})


def _key(value: Any, field: str, length: int) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise _invalid(field, "invalid", f"keys.{field} must be base64url text.")
    try:
        raw = b64url_decode(value)
    except ValueError:
        raise _invalid(field, "invalid", f"keys.{field} must be base64url text.") from None
    if len(raw) != length or (field == "p256dh" and raw[0] != 4):
        raise _invalid(field, "invalid", f"keys.{field} is not a valid key.")
    return value


def parse(body: Any, settings: Settings) -> tuple[str, str, str]:
    """``(endpoint, p256dh, auth)`` from a browser's ``PushSubscription`` JSON, or 422."""
    if not isinstance(body, dict):
        raise _invalid("body", "shape", "Send the browser's push subscription.")
    endpoint = body.get("endpoint")
    keys = body.get("keys")
    if not isinstance(endpoint, str) or not isinstance(keys, dict):
        raise _invalid("endpoint", "required", "Send endpoint and keys.")
    problem = endpoint_problem(endpoint, settings.push_hosts, development=not settings.production)
    if problem is not None:
        raise _invalid("endpoint", problem, "That push service is not allowed on this server.")
    return endpoint, _key(keys.get("p256dh"), "p256dh", 65), _key(keys.get("auth"), "auth", 16)


def shape(found: PushSubscription) -> dict[str, Any]:
    """A device as its owner sees it (the endpoint's host only: it carries a secret)."""
    from urllib.parse import urlsplit

    return {
        "id": found.id,
        "service": urlsplit(found.endpoint).hostname,
        "user_agent": found.user_agent,
        "created_at": iso(found.created_at),
        "last_sent_at": iso(found.last_sent_at),
    }


def _not_pupil(principal: Principal) -> None:
    if principal.role == "student":
        raise forbidden()


async def subscribe(
    session: AsyncSession, principal: Principal, settings: Settings, body: Any, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Store (or update) a subscription for the principal; returns it and whether it is new."""
    _not_pupil(principal)
    endpoint, p256dh, auth = parse(body, settings)
    digest = hashlib.sha256(endpoint.encode()).hexdigest()
    found = await session.scalar(select(PushSubscription).where(PushSubscription.endpoint_hash == digest))
    if found is not None:
        if found.user_id != principal.id:
            # The browser now belongs to someone else (shared family tablet): the
            # previous owner's pending pushes must not reach the new one.
            await session.execute(delete(PushDelivery).where(PushDelivery.subscription_id == found.id))
        found.user_id, found.p256dh, found.auth = principal.id, p256dh, auth
        found.user_agent = user_agent[:300]
        await session.flush()
        return found, False
    count = len(
        (
            await session.scalars(select(PushSubscription.id).where(PushSubscription.user_id == principal.id))
        ).all()
    )
    if count >= MAX_DEVICES:
        raise ApiError(409, "too_many_devices", f"At most {MAX_DEVICES} devices; remove one first.")
    found = PushSubscription(
        user_id=principal.id,
        endpoint=endpoint,
        endpoint_hash=digest,
        p256dh=p256dh,
        auth=auth,
        user_agent=user_agent[:300],
    )
    session.add(found)
    await session.flush()
    return found, True


async def devices(session: AsyncSession, principal: Principal) -> list[dict[str, Any]]:
    """The principal's subscribed devices, oldest first."""
    rows = await session.scalars(
        select(PushSubscription).where(PushSubscription.user_id == principal.id).order_by(PushSubscription.id)
    )
    return [shape(row) for row in rows]


async def unsubscribe(session: AsyncSession, principal: Principal, subscription_id: int) -> None:
    """Remove one of the principal's devices (anyone else's: 404)."""
    found = await session.get(PushSubscription, subscription_id)
    if found is None or found.user_id != principal.id:
        raise not_found("That device")
    await session.execute(delete(PushDelivery).where(PushDelivery.subscription_id == found.id))
    await session.delete(found)
