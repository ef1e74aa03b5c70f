"""Fanning a notification event out: who is told, on which devices, and when (no sending here).

:func:`fan_out` runs in the transaction that marks the event done. For every candidate
(:func:`server.notify.audience.candidates`) it checks the reader's preferences and
:func:`server.notify.audience.may_know`, then writes one ``push_deliveries`` row per device
and one ``email_deliveries`` row for readers who chose instant emails. Points for one child
and everything staff receive outside working hours are folded into one waiting row per
device (a batch key): a count that grows until it is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import STAFF_ROLES
from server.db.models import (
    NotificationEvent,
    NotificationPreference,
    PushDelivery,
    PushSubscription,
    School,
    SchoolClass,
    Student,
    User,
)
from server.messaging.quiet_hours import WorkingWeek, held_until
from server.notify.audience import Candidates, candidates, may_know
from server.notify.instant import queue_emails
from server.notify.kinds import channel_id, kind_of
from server.notify.preferences import push_allowed
from server.timeutil import utcnow

GATHER_RELEASED = timedelta(seconds=10)  # messages released together at opening: one summary


async def fan_out(
    session: AsyncSession, event: NotificationEvent, now: datetime, points_batch_seconds: float
) -> int:
    """Write the deliveries (push and instant email) one event implies, in the caller's transaction.

    Returns how many it queued (push deliveries new or folded into a waiting batch, and emails).
    """
    kind = kind_of(event.channel, event.type)
    if kind is None:
        return 0
    devices, prefs = await _reachable(session, candidates(event.channel, event.type, event.data))
    # Only readers with a device or instant email are loaded: most of a class has neither,
    # and a live post should not pay for loading every guardian it will not notify.
    users = await users_by_ids(session, sorted({*devices, *prefs}))
    school = await school_of(session, event.channel) if users else None
    if school is None:
        return 0
    week = WorkingWeek.of(school.working_hours, school.closure_days, school.timezone)
    opening = held_until(week, now)
    rows: list[dict[str, Any]] = []
    emails: list[tuple[int, datetime]] = []
    folded = 0
    for user in users:
        preference = prefs.get(user.id)
        subscriptions = devices.get(user.id) if push_allowed(preference, kind) else None
        wants_email = bool(user.email) and preference is not None and preference.email == "instant"
        if not subscriptions and not wants_email:
            continue
        if not await may_know(session, user, school, event.channel, event.data):
            continue
        if wants_email:
            emails.append((user.id, opening if user.role in STAFF_ROLES and opening else now))
        if not subscriptions:
            continue
        batch_key: str | None = None
        send_after = now
        if user.role in STAFF_ROLES and opening is not None:
            batch_key, send_after = "summary", opening
        elif (
            user.role in STAFF_ROLES
            and (event.data.get("message") or {}).get("delivery") == "held_quiet_hours"
        ):
            batch_key, send_after = "summary", now + GATHER_RELEASED
        elif kind == "points":
            batch_key = f"points:{channel_id(event.channel)}"
            send_after = now + timedelta(seconds=points_batch_seconds)
        for subscription_id in subscriptions:
            if batch_key is not None and await _fold(session, subscription_id, batch_key, event.id):
                folded += 1
                continue
            rows.append(
                {
                    "subscription_id": subscription_id,
                    "user_id": user.id,
                    "event_id": event.id,
                    "last_event_id": event.id,
                    "channel": event.channel,
                    "kind": "summary" if batch_key == "summary" else kind,
                    "batch_key": batch_key,
                    "count": 1,
                    "status": "pending",
                    "send_after": send_after,
                    "attempts": 0,
                    "created_at": utcnow(),
                }
            )
    queued = folded + await queue_emails(session, event.id, emails)
    if rows:
        already = set(
            (
                await session.scalars(
                    select(PushDelivery.subscription_id).where(PushDelivery.event_id == event.id)
                )
            ).all()
        )
        rows = [row for row in rows if row["subscription_id"] not in already]
        for start in range(0, len(rows), 1000):
            await session.execute(insert(PushDelivery), rows[start : start + 1000])
        queued += len(rows)
    return queued


async def _fold(session: AsyncSession, subscription_id: int, batch_key: str, event_id: int) -> bool:
    """Add an event to the device's waiting batch of the same key; False when there is none."""
    folded = await session.scalars(
        update(PushDelivery)
        .where(
            PushDelivery.subscription_id == subscription_id,
            PushDelivery.batch_key == batch_key,
            PushDelivery.status == "pending",
            PushDelivery.claimed_until.is_(None),
        )
        .values(count=PushDelivery.count + 1, last_event_id=event_id)
        .returning(PushDelivery.id)
    )
    return folded.first() is not None


async def school_of(session: AsyncSession, channel: str) -> School | None:
    """The school a channel belongs to (one query)."""
    kind, ident = channel.split(":")[0], channel_id(channel)
    if kind == "school":
        return await session.get(School, ident)
    owner: Any = {"class": SchoolClass, "student": Student}.get(kind, User)
    return await session.scalar(
        select(School).join(owner, owner.school_id == School.id).where(owner.id == ident)
    )


async def users_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[User]:
    if not ids:
        return []
    found: list[User] = []
    unique = sorted(set(ids))
    for start in range(0, len(unique), 1000):
        found += (await session.scalars(select(User).where(User.id.in_(unique[start : start + 1000])))).all()
    return found


def _reachable_query(wanted: Select[Any]) -> Select[int, int, NotificationPreference]:
    return (
        select(User.id, PushSubscription.id, NotificationPreference)
        .select_from(User)
        .outerjoin(PushSubscription, PushSubscription.user_id == User.id)
        .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(
            User.id.in_(wanted.scalar_subquery()),
            PushSubscription.id.is_not(None) | (NotificationPreference.email == "instant"),
        )
        .order_by(User.id, PushSubscription.id)
    )


_REACHABLE: dict[
    str, Select[int, int, NotificationPreference]
] = {}  # by the candidates' shape: built once each


async def _reachable(
    session: AsyncSession, wanted: Candidates
) -> tuple[dict[int, list[int]], dict[int, NotificationPreference | None]]:
    """Of the ``wanted`` users, those with a device or instant emails, in one query.

    Returns their devices (subscription ids, oldest first) and their preferences (None: the defaults).
    """
    query = _REACHABLE.get(wanted.shape)
    if query is None:
        query = _REACHABLE[wanted.shape] = _reachable_query(wanted.query)
    rows = await session.execute(query, wanted.params)
    devices: dict[int, list[int]] = {}
    prefs: dict[int, NotificationPreference | None] = {}
    for user_id, subscription_id, preference in rows:
        prefs[user_id] = preference
        if subscription_id is not None:
            devices.setdefault(user_id, []).append(subscription_id)
    return devices, prefs


async def preferences_of(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, NotificationPreference]:
    found: dict[int, NotificationPreference] = {}
    for start in range(0, len(user_ids), 1000):
        rows = await session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.user_id.in_(user_ids[start : start + 1000])
            )
        )
        found.update({p.user_id: p for p in rows})
    return found
