"""Instant notification emails, for readers who chose ``email: "instant"``.

The push worker's fan-out writes an ``email_deliveries`` row per such reader in the same
transaction as the push rows; :func:`send_instant_once` claims the due rows with a lease,
asks :func:`server.notify.audience.may_know` again, renders the same words as the push
(:func:`server.notify.render.render`, in the reader's language and honouring
``HOMEROOM_PUSH_CONTENT``), and sends one email each with the one-click unsubscribe
headers. Staff outside working hours get theirs when their hours start. A failed hand-over
to the SMTP server is retried with backoff, five times at most.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import EmailDelivery, NotificationEvent, School, User
from server.notify import render as rendering
from server.notify.audience import may_know
from server.notify.emails import instant_email
from server.notify.links import public_base
from server.notify.mail import compose, mailer_of, unsubscribe_url
from server.services import Services
from server.timeutil import utcnow

MAX_ATTEMPTS = 5
LEASE = timedelta(seconds=120)


async def queue_emails(session: AsyncSession, event_id: int, readers: list[tuple[int, datetime]]) -> int:
    """Queue one email per (reader, due time), skipping readers already queued; returns how many."""
    if not readers:
        return 0
    already = set(
        (await session.scalars(select(EmailDelivery.user_id).where(EmailDelivery.event_id == event_id))).all()
    )
    rows = [
        {"user_id": uid, "event_id": event_id, "status": "pending", "send_after": due, "attempts": 0}
        for uid, due in readers
        if uid not in already
    ]
    if rows:
        await session.execute(insert(EmailDelivery), rows)
    return len(rows)


async def send_instant_once(services: Services, *, batch: int = 100) -> int:
    """Send the instant emails due now; returns how many were handed to the SMTP server."""
    mailer = mailer_of(services)
    base = public_base(services.settings)
    if mailer is None or not mailer.configured or base is None:
        return 0
    now, wall = services.clock(), utcnow()
    free = (
        (EmailDelivery.status == "pending")
        & (EmailDelivery.send_after <= now)
        & (EmailDelivery.claimed_until.is_(None) | (EmailDelivery.claimed_until < wall))
    )
    async with services.db.session() as session:
        ids = list((await session.scalars(select(EmailDelivery.id).where(free).limit(batch))).all())
        if not ids:
            return 0
        claimed = await session.scalars(
            update(EmailDelivery)
            .where(EmailDelivery.id.in_(ids), free)
            .values(claimed_until=wall + LEASE)
            .returning(EmailDelivery.id)
        )
        mine = list(claimed.all())
        await session.commit()
    sent = 0
    minimal = services.settings.push_content == "minimal"
    for delivery_id in mine:
        status, message = "dropped", None
        async with services.read() as session:
            delivery = await session.get(EmailDelivery, delivery_id)
            user = await session.get(User, delivery.user_id) if delivery else None
            event = await session.get(NotificationEvent, delivery.event_id) if delivery else None
            school = await session.get(School, user.school_id) if user else None
            if (
                delivery
                and user
                and user.email
                and event
                and school
                and await may_know(session, user, school, event.channel, event.data)
            ):
                found = None if minimal else rendering.written(event)
                translated = await rendering.in_reader_language(session, user, found) if found else None
                if found is not None and translated is None:
                    translated = found.text
                payload = await rendering.render(
                    session, user, event, school_name=school.name, minimal=minimal, translated=translated
                )
                unsubscribe = unsubscribe_url(base, services.settings.secret_key, user.id)
                subject, body = instant_email(
                    user.language, payload["title"], payload["body"], f"{base}{payload['url']}", unsubscribe
                )
                message = compose(
                    services.settings.mail_from,
                    user.email,
                    subject,
                    body,
                    language=user.language,
                    unsubscribe=unsubscribe,
                )
        attempts = delivery.attempts if delivery else 0
        if message is not None:
            status = "sent" if await mailer.send(message) else "retry"
        async with services.transaction() as session:
            if status == "retry" and attempts + 1 < MAX_ATTEMPTS:
                await session.execute(
                    update(EmailDelivery)
                    .where(EmailDelivery.id == delivery_id)
                    .values(
                        attempts=attempts + 1,
                        send_after=now + timedelta(seconds=30 * 2**attempts),
                        claimed_until=None,
                    )
                )
            else:
                await session.execute(
                    update(EmailDelivery)
                    .where(EmailDelivery.id == delivery_id)
                    .values(
                        status="failed" if status == "retry" else status, finished_at=wall, claimed_until=None
                    )
                )
        sent += status == "sent"
    return sent
