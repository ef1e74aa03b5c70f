"""The push outbox's workers: fan each notification event out to devices, then send them.

Exactly once, across processes: a batch of events is marked done and fanned out in one
transaction (``UPDATE … RETURNING`` over the waiting rows, skipping those another run
holds) that writes one ``push_deliveries`` row per device; the unique
``(subscription_id, event_id)`` pair would make a second fan-out of the same event write
nothing new. An event that fails alone is set aside for a lease and tried again after.
Deliveries are claimed with a lease (a conditional ``UPDATE … RETURNING``, as the live
outbox's relay does), sent, and marked. A process dying between a push and its
mark can repeat that one push after the lease; every push carries a ``Topic`` so the
push service keeps only the newest of the same topic, and the browser shows one
notification per ``tag``.

Who is told is decided twice with :func:`server.notify.audience.may_know`: when the
event is fanned out and again when each push is sent, so a guardian removed (or a
pupil who left, an account suspended) in between gets nothing. Points for the same
child are gathered for ``push_points_batch_seconds`` into one push; staff get nothing
outside the school's working hours and closure days (P7): what arrives then is gathered
into one summary sent when their hours start (messages held for quiet hours are
released at that moment and join the same summary). A push waits up to
``push_translation_wait_seconds`` for the reader's translation, then goes in the original.

Due times use the injected clock (``services.clock``); leases the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import orjson
from sqlalchemy import Select, delete, func, select, update

from server.db.models import (
    EmailDelivery,
    NotificationEvent,
    OutboxEvent,
    PushDelivery,
    PushSubscription,
    School,
)
from server.notify import render as rendering
from server.notify.audience import concerned_channel, may_know
from server.notify.fanout import fan_out, preferences_of, users_by_ids
from server.notify.hosts import endpoint_problem
from server.notify.instant import send_instant_once
from server.notify.kinds import kind_of
from server.notify.preferences import push_allowed
from server.notify.vapid import VapidKey
from server.notify.webpush import Device, Outcome, send
from server.observability import metrics
from server.services import Services
from server.settings import Settings
from server.timeutil import aware, utcnow, wait_event

log = logging.getLogger("homeroom.notify")

MAX_ATTEMPTS = 8
FAN_OUT_BATCH = 100  # notification events fanned out in one transaction
TRANSLATION_POLL = timedelta(seconds=2)  # how often a push waiting for a translation looks again
TTL = {
    "messages": 2 * 86400,
    "posts": 3 * 86400,
    "points": 86400,
    "portfolio": 3 * 86400,
    "summary": 12 * 3600,
}
URGENCY = {"messages": "high", "summary": "normal"}


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """How long to wait before the next attempt: the service's hint, else 5 s doubling to 1 h."""
    if retry_after is not None:
        return timedelta(seconds=min(max(retry_after, 1.0), 3600.0))
    return timedelta(seconds=min(5.0 * 2 ** max(attempts - 1, 0), 3600.0))


# What became of a claimed delivery before sending: status, postponed until, translation waited until.
Settled = dict[int, tuple[str, datetime | None, datetime | None]]


@dataclass
class _Job:
    """One claimed delivery ready to go: its row id, device, payload and headers."""

    delivery_id: int
    subscription_id: int
    attempts: int
    created_at: datetime
    device: Device
    payload: bytes
    ttl: int
    urgency: str
    topic: str


class PushWorker:
    """Fans notification events out and sends pushes; one per process (a ``Part``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        ticking: bool = True,
        poll: float = 1.0,
        lease: float = 60.0,
        batch: int = 1000,
    ) -> None:
        self.settings = settings
        self.ticking = ticking
        self.poll = poll
        self.lease = timedelta(seconds=lease)
        self.batch = batch
        self.vapid: VapidKey | None = None
        self.services: Services | None = None
        self.client: aiohttp.ClientSession | None = None
        self._kick = asyncio.Event()
        self._full = False
        self._task: asyncio.Task[None] | None = None

    async def start(self, services: Services) -> None:
        """Load the VAPID key, hook commits (to start at once), and begin ticking."""
        self.services = services
        self.vapid = VapidKey(self.settings)
        services.push = self
        # As many kept-alive connections as pushes in flight: no reconnecting within a burst.
        self.client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.settings.push_concurrency),
            timeout=aiohttp.ClientTimeout(total=15.0),
            # Push services need no cookies; keeping none also keeps one's from another's.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        if self.ticking:
            self._task = asyncio.create_task(self._run(), name="homeroom-push")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.services is not None and self.services.push is self:
            self.services.push = None
        if self.client is not None:
            await self.client.close()

    async def after_commit(self, rows: list[OutboxEvent]) -> None:
        """A commit listener: work at once when the batch holds something that notifies."""
        if any(kind_of(row.channel, row.type) for row in rows):
            self._kick.set()

    def kick(self) -> None:
        """Work now rather than at the next tick: a full round, sending whatever is due."""
        self._full = True
        self._kick.set()

    async def _run(self) -> None:
        last_full = asyncio.get_running_loop().time()
        while True:
            await wait_event(self._kick, self.poll)
            self._kick.clear()
            # A kick (a commit that notifies) fans out, and sends only if that queued something;
            # what comes due with time (gathered points, staff summaries) waits for the next
            # full round, at least once a poll even while kicks keep coming.
            now = asyncio.get_running_loop().time()
            everything = self._full or now - last_full >= self.poll
            if everything:
                self._full, last_full = False, now
            try:
                await self.run_until_idle(everything=everything)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("push: a round failed; retrying at the next tick")

    async def run_until_idle(self, *, everything: bool = True) -> int:
        """Fan out and send until nothing is due now; returns how many pushes went out.

        ``everything=False`` skips looking for pushes and emails to send unless the fan-out
        queued some: a round after a commit need not look for deliveries due by the clock.
        """
        sent = 0
        sending = everything
        while True:
            fanned, queued = await self._fan_out_batch()
            sending = sending or queued > 0
            done = mailed = 0
            if sending:
                done = await self.send_once()
                mailed = await send_instant_once(self._services())
                sent += done
            # A batch that was not full took every waiting event: one committed since kicked
            # the worker again, so there is no need to look once more for none.
            if fanned < FAN_OUT_BATCH and not done and not mailed:
                return sent

    # -- fan-out ----------------------------------------------------------------------------

    def _services(self) -> Services:
        if self.services is None:
            raise RuntimeError("the push worker has not been started")
        return self.services

    async def fanout_once(self) -> int:
        """Claim a batch of notification events and write their deliveries; returns how many events."""
        return (await self._fan_out_batch())[0]

    async def _fan_out_batch(self) -> tuple[int, int]:
        """Fan out up to ``FAN_OUT_BATCH`` waiting events; returns (events fanned out, deliveries queued).

        Should the batch fail, each event is tried alone, so one that cannot be fanned out
        does not hold back the others; it is set aside for the lease and tried again after.
        """
        try:
            return await self._fan_out_waiting()
        except Exception:
            log.exception("push: a batch of notification events failed; trying them one at a time")
        services = self._services()
        async with services.db.session() as session:
            ids = list((await session.scalars(self._waiting(utcnow()))).all())
        fanned = queued = 0
        for event_id in ids:
            try:
                done, wrote = await self._fan_out_waiting(event_id)
                fanned, queued = fanned + done, queued + wrote
            except Exception:
                log.exception("push: could not fan out notification event %s", event_id)
                async with services.transaction() as session:
                    await session.execute(
                        update(NotificationEvent)
                        .where(NotificationEvent.id == event_id)
                        .values(claimed_until=utcnow() + self.lease)
                    )
        return fanned, queued

    @staticmethod
    def _waiting(wall: datetime, only: int | None = None) -> Select[Any]:
        """The first ``FAN_OUT_BATCH`` events waiting (not done, not set aside, not held by another run)."""
        query = select(NotificationEvent.id).where(
            NotificationEvent.done_at.is_(None),
            NotificationEvent.claimed_until.is_(None) | (NotificationEvent.claimed_until < wall),
        )
        if only is not None:
            query = query.where(NotificationEvent.id == only)
        return query.order_by(NotificationEvent.id).limit(FAN_OUT_BATCH).with_for_update(skip_locked=True)

    async def _fan_out_waiting(self, only: int | None = None) -> tuple[int, int]:
        """In one transaction: mark waiting events done and write their deliveries.

        Marking and fanning out commit together, so an event is fanned out once: a run that
        fails rolls its marks back with its deliveries, and a concurrent run skips the rows
        this one holds (PostgreSQL's ``SKIP LOCKED``; SQLite has one writer at a time).
        Returns (events, deliveries queued).
        """
        services = self._services()
        queued = 0
        async with services.transaction() as session:
            events = (
                await session.scalars(
                    update(NotificationEvent)
                    .where(
                        NotificationEvent.id.in_(self._waiting(utcnow(), only).scalar_subquery()),
                        NotificationEvent.done_at.is_(None),
                    )
                    .values(done_at=utcnow())
                    .returning(NotificationEvent)
                )
            ).all()
            for event in sorted(events, key=lambda found: found.id):
                queued += await fan_out(
                    session, event, services.clock(), self.settings.push_points_batch_seconds
                )
        return len(events), queued

    # -- sending ----------------------------------------------------------------------------

    async def send_once(self) -> int:
        """Claim the deliveries due now, send them, record what became of each; returns how many."""
        services = self._services()
        assert self.client is not None and self.vapid is not None
        now, wall = services.clock(), utcnow()
        free = (
            (PushDelivery.status == "pending")
            & (PushDelivery.send_after <= now)
            & (PushDelivery.claimed_until.is_(None) | (PushDelivery.claimed_until < wall))
        )
        async with services.db.session() as session:
            oldest = await session.scalar(select(func.min(PushDelivery.created_at)).where(free))
            metrics.PUSH_QUEUE_AGE.set((wall - aware(oldest)).total_seconds() if oldest else 0.0)
            ids = list(
                (
                    await session.scalars(
                        select(PushDelivery.id).where(free).order_by(PushDelivery.id).limit(self.batch)
                    )
                ).all()
            )
            if not ids:
                return 0
            claimed = await session.scalars(
                update(PushDelivery)
                .where(PushDelivery.id.in_(ids), free)
                .values(claimed_until=wall + self.lease)
                .returning(PushDelivery.id)
            )
            mine = sorted(claimed.all())
            await session.commit()
        if not mine:
            return 0
        jobs, settled = await self._prepare(mine)
        outcomes = await self._deliver(jobs)
        await self._record(jobs, outcomes, settled)
        return sum(1 for outcome in outcomes if outcome.result == "sent")

    async def _prepare(self, ids: Sequence[int]) -> tuple[list[_Job], Settled]:
        """Check each claimed delivery again and render it; returns jobs, and rows settled here."""
        services = self._services()
        now = services.clock()
        wait = timedelta(seconds=self.settings.push_translation_wait_seconds)
        minimal = self.settings.push_content == "minimal"
        jobs: list[_Job] = []
        settled: dict[
            int, tuple[str, datetime | None, datetime | None]
        ] = {}  # id -> (status, postponed until)
        rendered: dict[tuple[int, int, int, str], bytes] = {}
        async with services.read() as session:
            deliveries = list(
                (await session.scalars(select(PushDelivery).where(PushDelivery.id.in_(ids)))).all()
            )
            subscriptions = {
                s.id: s
                for s in await session.scalars(
                    select(PushSubscription).where(
                        PushSubscription.id.in_({d.subscription_id for d in deliveries})
                    )
                )
            }
            users = {u.id: u for u in await users_by_ids(session, [d.user_id for d in deliveries])}
            events = {
                e.id: e
                for e in await session.scalars(
                    select(NotificationEvent).where(
                        NotificationEvent.id.in_({d.last_event_id for d in deliveries})
                    )
                )
            }
            prefs = await preferences_of(session, list(users))
            schools = {
                s.id: s
                for s in await session.scalars(
                    select(School).where(School.id.in_({u.school_id for u in users.values()}))
                )
            }
            allowed: dict[tuple[int, str, str | None], bool] = {}
            for delivery in deliveries:
                user = users.get(delivery.user_id)
                subscription = subscriptions.get(delivery.subscription_id)
                event = events.get(delivery.last_event_id)
                school = schools.get(user.school_id) if user else None
                if user is None or subscription is None or event is None or school is None:
                    settled[delivery.id] = ("dropped", None, None)
                    continue
                summary = delivery.batch_key == "summary"
                key = (user.id, delivery.channel, concerned_channel(delivery.channel, event.data, school))
                if key not in allowed:
                    allowed[key] = await may_know(session, user, school, delivery.channel, event.data)
                if not allowed[key] or (not summary and not push_allowed(prefs.get(user.id), delivery.kind)):
                    settled[delivery.id] = ("dropped", None, None)
                    continue
                if endpoint_problem(
                    subscription.endpoint, self.settings.push_hosts, development=not self.settings.production
                ):
                    settled[delivery.id] = ("failed", None, None)
                    continue
                translated: str | None = None
                found = None if minimal or summary else rendering.written(event)
                if found is not None:
                    translated = await rendering.in_reader_language(session, user, found)
                    if translated is None:
                        ready_by = aware(delivery.wait_until) if delivery.wait_until else now + wait
                        if ready_by > now:
                            # Look again shortly: the translation usually lands within seconds.
                            settled[delivery.id] = (
                                "pending",
                                min(now + TRANSLATION_POLL, ready_by),
                                ready_by,
                            )
                            continue
                        translated = found.text
                cache = (event.id, user.id, delivery.count, delivery.kind)
                if cache not in rendered:
                    payload = await rendering.render(
                        session,
                        user,
                        event,
                        school_name=school.name,
                        count=delivery.count,
                        summary=summary,
                        minimal=minimal,
                        translated=translated,
                    )
                    rendered[cache] = orjson.dumps(payload)
                tag = orjson.loads(rendered[cache]).get("tag", "homeroom")
                jobs.append(
                    _Job(
                        delivery_id=delivery.id,
                        subscription_id=subscription.id,
                        attempts=delivery.attempts,
                        created_at=aware(delivery.created_at),
                        device=Device(subscription.endpoint, subscription.p256dh, subscription.auth),
                        payload=rendered[cache],
                        ttl=TTL.get(delivery.kind, 86400),
                        urgency=URGENCY.get(delivery.kind, "normal"),
                        topic=_topic(tag),
                    )
                )
        return jobs, settled

    async def _deliver(self, jobs: Sequence[_Job]) -> list[Outcome]:
        assert self.client is not None and self.vapid is not None
        client, vapid = self.client, self.vapid
        gate = asyncio.Semaphore(self.settings.push_concurrency)

        async def one(job: _Job) -> Outcome:
            async with gate:
                try:
                    return await send(
                        client,
                        vapid,
                        job.device,
                        job.payload,
                        ttl=job.ttl,
                        urgency=job.urgency,
                        topic=job.topic,
                    )
                except Exception:
                    log.exception("push: sending failed")
                    return Outcome("retry")

        return list(await asyncio.gather(*(one(job) for job in jobs)))

    async def _record(
        self,
        jobs: Sequence[_Job],
        outcomes: Sequence[Outcome],
        settled: Settled,
    ) -> None:
        services = self._services()
        now, wall = services.clock(), utcnow()
        by_status: dict[str, list[int]] = {"sent": [], "failed": [], "dropped": []}
        gone: set[int] = set()
        retries: list[tuple[int, int, datetime]] = []
        postponed: list[tuple[int, datetime, datetime | None]] = []
        for delivery_id, (status, until, wait_until) in settled.items():
            if status == "pending" and until is not None:
                postponed.append((delivery_id, until, wait_until))
            else:
                by_status[status].append(delivery_id)
        for job, outcome in zip(jobs, outcomes, strict=True):
            if outcome.result == "sent":
                by_status["sent"].append(job.delivery_id)
                metrics.PUSH_SENT.inc()
                metrics.PUSH_LATENCY.observe(max((wall - job.created_at).total_seconds(), 0.0))
            elif outcome.result == "gone":
                gone.add(job.subscription_id)
                metrics.PUSH_FAILED.labels("gone").inc()
            elif outcome.result == "retry" and job.attempts + 1 < MAX_ATTEMPTS:
                retries.append(
                    (job.delivery_id, job.attempts + 1, now + backoff(job.attempts + 1, outcome.retry_after))
                )
                metrics.PUSH_RETRIED.inc()
            else:
                by_status["failed"].append(job.delivery_id)
                metrics.PUSH_FAILED.labels("refused" if outcome.result == "failed" else "gave_up").inc()
        async with services.transaction() as session:
            for status, ids in by_status.items():
                for start in range(0, len(ids), 1000):
                    await session.execute(
                        update(PushDelivery)
                        .where(PushDelivery.id.in_(ids[start : start + 1000]))
                        .values(status=status, finished_at=wall, claimed_until=None)
                    )
            sent_subscriptions = {
                j.subscription_id for j, o in zip(jobs, outcomes, strict=True) if o.result == "sent"
            }
            if sent_subscriptions:
                await session.execute(
                    update(PushSubscription)
                    .where(PushSubscription.id.in_(sent_subscriptions))
                    .values(last_sent_at=wall)
                )
            for delivery_id, attempts, when in retries:
                await session.execute(
                    update(PushDelivery)
                    .where(PushDelivery.id == delivery_id)
                    .values(attempts=attempts, send_after=when, claimed_until=None)
                )
            for delivery_id, when, wait_until in postponed:
                await session.execute(
                    update(PushDelivery)
                    .where(PushDelivery.id == delivery_id)
                    .values(send_after=when, wait_until=wait_until, claimed_until=None)
                )
            if gone:
                await session.execute(delete(PushDelivery).where(PushDelivery.subscription_id.in_(gone)))
                await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))

    async def prune(self, older_than: timedelta = timedelta(days=2)) -> None:
        """Forget finished deliveries and fanned-out events after a while (they name families)."""
        services = self._services()
        cutoff = utcnow() - older_than
        async with services.transaction() as session:
            await session.execute(
                delete(PushDelivery).where(
                    PushDelivery.status != "pending", PushDelivery.finished_at < cutoff
                )
            )
            await session.execute(
                delete(EmailDelivery).where(
                    EmailDelivery.status != "pending", EmailDelivery.finished_at < cutoff
                )
            )
            # Events still referenced by a waiting push or email (a summary held over a holiday) stay.
            await session.execute(
                delete(NotificationEvent).where(
                    NotificationEvent.done_at < cutoff,
                    NotificationEvent.id.not_in(select(PushDelivery.event_id)),
                    NotificationEvent.id.not_in(select(EmailDelivery.event_id)),
                )
            )


async def prune_push(services: Services) -> None:
    """The periodic job: forget finished pushes of more than two days ago."""
    if services.push is not None:
        await services.push.prune()


def _topic(tag: str) -> str:
    """A ``Topic`` header value (RFC 8030: at most 32 URL-safe base64 characters)."""
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in tag)
    return cleaned[:32] or "homeroom"
