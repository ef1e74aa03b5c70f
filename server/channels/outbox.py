"""Publishing the transactional outbox: at once after commit, and a relay for whatever is left.

``emit()`` writes an ``outbox_events`` row in the transaction of the change it announces,
holding a short lease (``claimed_until``) for the committing process. Right after the
commit :meth:`OutboxPublisher.publish_committed` (``services.after_commit``) publishes the
rows: the fast path; they are marked published in batches a moment later (the lease keeps
the relay off them meanwhile, so the request pays for no second commit). When the broker
is down the rows' lease is released and the relay takes over: every ``poll`` seconds
(sooner when kicked) it claims the oldest unpublished rows whose lease ran out with one
``UPDATE … RETURNING`` (so two processes never claim the same row), publishes them in id
order, and marks them. While the relay has a backlog, the fast path defers to it so a
channel's events stay in order.

Delivery is exactly once even when a process dies between publishing rows and marking
them: every publish carries the row's id and the broker ignores an id it has already
numbered (for the history window), so the relay's second publish of such a row is a
no-op. Leases are therefore only there to save work, and are short: a dead process's
rows go out on another within ``lease`` seconds (possibly after newer rows of the same
channel that were published meanwhile, the one case where a channel's order can bend).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from server.channels.broker import Broker, BrokerUnavailable
from server.db.engine import rowcount
from server.db.models import OutboxEvent
from server.observability import metrics
from server.services import Services
from server.timeutil import aware, utcnow, wait_event

log = logging.getLogger("homeroom.outbox")

MARK_EVERY = 0.1  # seconds between batched "published" updates of fast-path rows


class OutboxPublisher:
    """The fast path after commit and the relay loop, for one process."""

    def __init__(
        self,
        services: Services,
        broker: Broker,
        *,
        poll: float = 1.0,
        lease: float = 5.0,
        batch: int = 200,
    ) -> None:
        self.services = services
        self.broker = broker
        self.poll = poll
        self.lease = timedelta(seconds=lease)
        self.batch = batch
        self._backlog = False
        self._kick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._marker: asyncio.Task[None] | None = None
        self._to_mark: list[int] = []
        self._marks_waiting = asyncio.Event()

    def start(self) -> None:
        """Start the relay loop and the marker of published rows."""
        self._task = asyncio.create_task(self._run(), name="homeroom-outbox-relay")
        self._marker = asyncio.create_task(self._mark_forever(), name="homeroom-outbox-marker")

    async def stop(self) -> None:
        """Stop the relay loop; mark what was published."""
        for task in (self._task, self._marker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._marker = None
        await self.flush_marks()

    def kick(self) -> None:
        """Run the relay now rather than at its next tick."""
        self._kick.set()

    async def publish_committed(self, rows: list[OutboxEvent]) -> None:
        """The fast path: publish a transaction's events right after its commit; never raises."""
        try:
            await self._publish_committed(rows)
        except Exception:
            log.exception("outbox: fast path failed; the relay will publish once the lease runs out")

    async def _publish_committed(self, rows: list[OutboxEvent]) -> None:
        if self._backlog:
            await self._release([row.id for row in rows])
            self.kick()
            return
        published, failed = await self._publish(rows)
        if published:
            # Marked in batches, off the request: the row's lease keeps the relay away meanwhile.
            self._to_mark += published
            self._marks_waiting.set()
        if failed:
            self._backlog = True
            await self._release(failed)
            self.kick()

    async def _publish(self, rows: Sequence[OutboxEvent]) -> tuple[list[int], list[int]]:
        published: list[int] = []
        for index, row in enumerate(rows):
            try:
                await self.broker.publish(
                    row.channel, row.type, row.data, aware(row.created_at).isoformat(), event_id=row.id
                )
            except BrokerUnavailable as exc:
                log.warning("outbox: broker unavailable (%s); the relay will retry", exc)
                return published, [r.id for r in rows[index:]]
            published.append(row.id)
            metrics.EVENTS_PUBLISHED.inc()
        return published, []

    async def flush_marks(self) -> None:
        """Mark every row published so far by the fast path."""
        ids, self._to_mark = self._to_mark, []
        self._marks_waiting.clear()
        if ids:
            await self._mark(ids)

    async def _mark_forever(self) -> None:
        while True:
            await self._marks_waiting.wait()
            await asyncio.sleep(MARK_EVERY)
            try:
                await self.flush_marks()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: could not mark published rows (their lease will run out)")

    async def _mark(self, ids: list[int]) -> None:
        async with self.services.db.session() as session:
            await session.execute(
                update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(published_at=utcnow())
            )
            await session.commit()

    async def _release(self, ids: list[int]) -> None:
        if not ids:
            return
        try:
            async with self.services.db.session() as session:
                await session.execute(
                    update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(claimed_until=None)
                )
                await session.commit()
        except Exception:
            log.exception("outbox: could not release %d rows (their lease will run out)", len(ids))

    async def relay_once(self) -> int:
        """Claim and publish one batch of leftover rows; returns how many were published."""
        now = utcnow()
        async with self.services.db.session() as session:
            candidates = (
                select(OutboxEvent.id)
                .where(
                    OutboxEvent.published_at.is_(None),
                    (OutboxEvent.claimed_until.is_(None)) | (OutboxEvent.claimed_until < now),
                )
                .order_by(OutboxEvent.id)
                .limit(self.batch)
            )
            ids = list((await session.scalars(candidates)).all())
            metrics.OUTBOX_BACKLOG.set(len(ids))
            if not ids:
                self._backlog = False
                return 0
            claimed = await session.scalars(
                update(OutboxEvent)
                .where(
                    OutboxEvent.id.in_(ids),
                    OutboxEvent.published_at.is_(None),
                    (OutboxEvent.claimed_until.is_(None)) | (OutboxEvent.claimed_until < now),
                )
                .values(claimed_until=now + self.lease)
                .returning(OutboxEvent.id)
            )
            mine = sorted(claimed.all())
            await session.commit()
            if not mine:
                return 0
            rows = list(
                (
                    await session.scalars(
                        select(OutboxEvent).where(OutboxEvent.id.in_(mine)).order_by(OutboxEvent.id)
                    )
                )
                .unique()
                .all()
            )
        published, failed = await self._publish(rows)
        if published:
            await self._mark(published)
        if failed:
            self._backlog = True
            await self._release(failed)
            raise BrokerUnavailable("relay could not publish")
        return len(published)

    async def prune(self, older_than: timedelta) -> int:
        """Delete rows published before ``older_than`` ago (events hold family data: keep them briefly)."""
        async with self.services.db.session() as session:
            result = await session.execute(
                delete(OutboxEvent).where(
                    OutboxEvent.published_at.is_not(None), OutboxEvent.published_at < utcnow() - older_than
                )
            )
            await session.commit()
        return rowcount(result)

    async def pending(self) -> int:
        """Committed events not yet published."""
        async with self.services.db.session() as session:
            count = await session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
            )
        return int(count or 0)

    async def _run(self) -> None:
        delay = self.poll
        while True:
            await wait_event(self._kick, delay)
            self._kick.clear()
            try:
                while await self.relay_once() >= self.batch:
                    pass
                delay = self.poll
            except BrokerUnavailable:
                delay = min(0.25, self.poll)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: relay failed; retrying")
                delay = self.poll
