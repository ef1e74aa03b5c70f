"""The transactional outbox: fast path after commit, the relay when the broker was down, never twice."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from server.channels.broker import BrokerUnavailable, Published
from server.channels.broker_memory import MemoryBroker
from server.channels.outbox import OutboxPublisher
from server.db.models import OutboxEvent
from server.events import emit
from server.services import Services
from server.timeutil import utcnow
from tests.channels.listeners import Listener


class RecordingBroker(MemoryBroker):
    """A memory broker that records what it published and can be switched off."""

    def __init__(self) -> None:
        super().__init__(1000, 3600)
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.down = False

    async def publish(
        self,
        channel: str,
        type_: str,
        data: dict[str, Any],
        ts: str | None = None,
        event_id: int | None = None,
    ) -> int:
        if self.down:
            raise BrokerUnavailable("switched off")
        self.published.append((channel, data))
        return await super().publish(channel, type_, data, ts, event_id)


@pytest.fixture
async def quiet_relay(services: Services) -> AsyncIterator[None]:
    """Pause the app's own relay so only the publishers under test claim rows."""
    live = services.live
    await live.outbox.stop()
    yield
    live.outbox.start()


async def make_publisher(services: Services) -> tuple[OutboxPublisher, RecordingBroker, Services]:
    broker = RecordingBroker()
    await broker.start()
    publisher = OutboxPublisher(services, broker)
    return publisher, broker, dataclasses.replace(services, commit_listeners=[publisher.publish_committed])


def fresh_channel() -> str:
    """A channel no other test uses."""
    return f"class:{secrets.randbelow(10**12) + 1}"


async def emit_rows(services: Services, channel: str, count: int) -> list[int]:
    async with services.transaction() as session:
        rows = [emit(session, channel, "post.deleted", {"post_id": n}) for n in range(count)]
        await session.flush()
        return [row.id for row in rows]


async def rows(services: Services, ids: list[int]) -> list[OutboxEvent]:
    async with services.read() as session:
        return list((await session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(ids)))).all())


async def test_committed_events_are_published_at_once_and_marked(
    services: Services, quiet_relay: None
) -> None:
    publisher, broker, local = await make_publisher(services)
    channel = fresh_channel()
    ids = await emit_rows(local, channel, 3)
    assert [data["post_id"] for ch, data in broker.published if ch == channel] == [0, 1, 2]
    assert all(
        row.published_at is None and row.claimed_until is not None for row in await rows(services, ids)
    )
    await publisher.flush_marks()  # batched a moment after the commit
    assert all(row.published_at is not None for row in await rows(services, ids))


async def test_broker_down_leaves_rows_to_the_relay_which_publishes_them_in_order(
    services: Services, quiet_relay: None
) -> None:
    publisher, broker, local = await make_publisher(services)
    channel = fresh_channel()
    broker.down = True
    ids = await emit_rows(local, channel, 4)
    assert all(row.published_at is None and row.claimed_until is None for row in await rows(services, ids))
    later = await emit_rows(local, channel, 2)  # while the backlog waits, the fast path defers to it
    assert broker.published == []
    broker.down = False
    while await publisher.relay_once():
        pass
    assert [data["post_id"] for ch, data in broker.published if ch == channel] == [0, 1, 2, 3, 0, 1]
    assert all(row.published_at is not None for row in await rows(services, ids + later))


async def test_two_relays_never_publish_the_same_row_twice(services: Services, quiet_relay: None) -> None:
    one, broker_one, local = await make_publisher(services)
    two, broker_two, _ = await make_publisher(services)
    channel = fresh_channel()
    broker_one.down = True
    ids = await emit_rows(local, channel, 60)
    broker_one.down = False
    one.batch = two.batch = 7

    async def drain(publisher: OutboxPublisher) -> None:
        while await publisher.relay_once():  # noqa: ASYNC110 - yield so the two relays interleave
            await asyncio.sleep(0)

    await asyncio.gather(drain(one), drain(two))
    published = [
        data["post_id"]
        for broker in (broker_one, broker_two)
        for ch, data in broker.published
        if ch == channel
    ]
    assert sorted(published) == list(range(60))
    assert all(row.published_at is not None for row in await rows(services, ids))


async def test_published_rows_are_pruned_after_the_history_window(
    services: Services, quiet_relay: None
) -> None:
    publisher, _, local = await make_publisher(services)
    old, recent = await emit_rows(local, fresh_channel(), 2)
    await publisher.flush_marks()
    async with services.transaction() as session:
        long_ago = utcnow() - timedelta(days=3)
        await session.execute(update(OutboxEvent).where(OutboxEvent.id == old).values(published_at=long_ago))
    assert await publisher.prune(timedelta(days=2)) >= 1
    assert [row.id for row in await rows(services, [old, recent])] == [recent]


async def test_rows_published_but_never_marked_are_not_delivered_twice(
    services: Services, quiet_relay: None
) -> None:
    """A process dies after publishing and before its batched mark: the relay's retry is a no-op."""
    publisher, broker, local = await make_publisher(services)
    delivered: list[int] = []
    sentinel = asyncio.Event()

    def sink(event: Published) -> None:
        delivered.append(event.seq)
        if event.data["post_id"] == 99:
            sentinel.set()

    broker.listener = Listener(on_event=sink)
    channel = fresh_channel()
    ids = await emit_rows(local, channel, 3)
    publisher._to_mark.clear()  # the crash: the marks are lost with the process
    async with services.transaction() as session:  # ... and its lease runs out
        await session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(claimed_until=None))
    assert await publisher.relay_once() == 3  # the relay publishes them again ...
    assert all(row.published_at is not None for row in await rows(services, ids))
    await broker.publish(channel, "post.deleted", {"post_id": 99})
    async with asyncio.timeout(5):
        await sentinel.wait()
    assert delivered == [1, 2, 3, 4]  # ... and the broker numbered and delivered each once
    assert len(broker.published) == 7
