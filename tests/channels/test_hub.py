"""The hub: one rendering per variant, bounded non-blocking delivery, gap-free joins, gap repair."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from server.channels.broker import Published
from server.channels.broker_memory import MemoryBroker
from server.channels.connection import Connection
from server.channels.hub import Hub
from server.channels.protocol import Frame
from server.channels.render import Rendering, Variant
from tests.channels.listeners import Listener


class FakeOutlet:
    """Records frames; refuses once ``limit`` frames are pending (a reader that stopped reading)."""

    def __init__(self, limit: int = 10_000) -> None:
        self.frames: list[Frame] = []
        self.limit = limit
        self.closed: tuple[int, str] | None = None

    def write(self, frame: Frame) -> bool:
        if len(self.frames) >= self.limit:
            return False
        self.frames.append(frame)
        return True

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def docs(self) -> list[dict[str, Any]]:
        return [json.loads(frame.payload) for frame in self.frames]

    def events(self) -> list[dict[str, Any]]:
        return [doc for doc in self.docs() if doc["op"] == "event"]


def connect(
    hub: Hub, language: str = "en", staff: bool = False, limit: int = 10_000
) -> tuple[Connection, FakeOutlet]:
    outlet = FakeOutlet(limit)
    conn = Connection(
        outlet,
        user_id=len(hub.all_connections()) + 1,
        school_id=1,
        role="teacher" if staff else "parent",
        session_id=1,
        token="t",
        variant=Variant(language, staff),
        user={},
    )
    hub.add(conn)
    return conn, outlet


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    broker = MemoryBroker(history_size=100, history_ttl=3600)
    await broker.start()
    found = Hub(broker)
    yield found
    await found.close(1001, "")
    await broker.stop()


async def settle(hub: Hub, channel: str, seq: int) -> None:
    """Wait until the hub has fanned out ``seq`` on ``channel`` (memory broker delivers with call_soon)."""
    async with asyncio.timeout(5):
        while hub._channels[channel].seq != seq or hub._channels[channel].repairing is not None:  # noqa: ASYNC110
            await asyncio.sleep(0.001)


@pytest.fixture
def counted_renderer(hub: Hub) -> Iterator[list[Variant]]:
    calls: list[Variant] = []

    def render(data: dict[str, Any], variant: Variant) -> dict[str, Any]:
        calls.append(variant)
        return {**data, "text": data["translations"].get(variant.language, data["text"])}

    hub.rendering = Rendering({"post.updated": render})
    yield calls
    hub.rendering = Rendering()


async def test_each_event_is_rendered_and_encoded_once_per_variant(
    hub: Hub, counted_renderer: list[Variant]
) -> None:
    readers = (
        [connect(hub, "es") for _ in range(3)]
        + [connect(hub, "en") for _ in range(3)]
        + [connect(hub, "en", True)]
    )
    for conn, _ in readers:
        await hub.subscribe(conn, "class:1", None, None)
    data = {"post": {}, "text": "Hello", "translations": {"es": "Hola"}}
    await hub.broker.publish("class:1", "post.updated", data)
    await settle(hub, "class:1", 1)
    assert sorted(counted_renderer, key=repr) == sorted(
        [Variant("es", False), Variant("en", False), Variant("en", True)], key=repr
    )
    texts = [outlet.events()[0]["data"]["text"] for _, outlet in readers]
    assert texts == ["Hola"] * 3 + ["Hello"] * 4
    spanish = [outlet.frames[-1] for _, outlet in readers[:3]]
    assert spanish[0] is spanish[1] is spanish[2]  # the same encoded bytes for every reader of a variant


async def test_audience_sends_an_event_only_to_that_language(hub: Hub) -> None:
    spanish, to_es = connect(hub, "es")
    english, to_en = connect(hub, "en")
    for conn in (spanish, english):
        await hub.subscribe(conn, "class:1", None, None)
    await hub.broker.publish(
        "class:1",
        "post.translated",
        {"post_id": 1, "lang": "es", "text": "Hola", "audience": {"language": "es"}},
    )
    await hub.broker.publish("class:1", "post.deleted", {"post_id": 2})
    await settle(hub, "class:1", 2)
    assert [e["type"] for e in to_es.events()] == ["post.translated", "post.deleted"]
    assert to_es.events()[0]["data"] == {"post_id": 1, "lang": "es", "text": "Hola"}
    assert [e["type"] for e in to_en.events()] == ["post.deleted"]


async def test_overflow_closes_only_that_connection_with_4008(hub: Hub) -> None:
    slow, slow_outlet = connect(hub, limit=3)
    others = [connect(hub) for _ in range(20)]
    for conn in [slow, *(c for c, _ in others)]:
        await hub.subscribe(conn, "class:1", None, None)
    for index in range(10):
        await hub.broker.publish("class:1", "post.deleted", {"post_id": index})
    await settle(hub, "class:1", 10)
    assert slow_outlet.closed is not None and slow_outlet.closed[0] == 4008
    assert slow.closed and len(slow_outlet.frames) == 3
    for conn, outlet in others:
        assert not conn.closed and [e["seq"] for e in outlet.events()] == list(range(1, 11))


async def test_subscribing_with_since_replays_then_answers_then_goes_live(hub: Hub) -> None:
    watcher, _ = connect(hub)
    first = await hub.subscribe(watcher, "class:1", None, None)
    for index in range(5):
        await hub.broker.publish("class:1", "post.deleted", {"post_id": index})
    await settle(hub, "class:1", 5)
    late, outlet = connect(hub)
    # Publish while the late reader is joining: it must get each event once, after its replay.
    joining = asyncio.create_task(hub.subscribe(late, "class:1", 2, first.epoch, ref=7))
    publishing = asyncio.create_task(hub.broker.publish("class:1", "post.deleted", {"post_id": 5}))
    await asyncio.gather(joining, publishing)
    await hub.broker.publish("class:1", "post.deleted", {"post_id": 6})
    await settle(hub, "class:1", 7)
    docs = outlet.docs()
    subbed = next(doc for doc in docs if doc["op"] == "subbed")
    assert subbed["recovered"] is True and subbed["ref"] == 7
    assert [doc["seq"] for doc in docs if doc["op"] == "event"] == [3, 4, 5, 6, 7]
    assert docs.index(subbed) in (3, 4)  # after the replay of 3..5 (and of 6 if it was already published)


async def test_a_gap_is_filled_from_history_before_newer_events(hub: Hub) -> None:
    conn, outlet = connect(hub)
    await hub.subscribe(conn, "class:1", None, None)
    lost: list[Published] = []

    def lossy(event: Published) -> None:  # pub/sub dropped event 2 (e.g. Redis went away)
        if event.seq == 2 and not lost:
            lost.append(event)
            return
        hub.on_event(event)

    hub.broker.listener = Listener(on_event=lossy)
    for index in range(4):
        await hub.broker.publish("class:1", "post.deleted", {"post_id": index})
    await settle(hub, "class:1", 4)
    assert lost and [e["seq"] for e in outlet.events()] == [1, 2, 3, 4]


async def test_lost_history_closes_readers_so_they_resubscribe(hub: Hub) -> None:
    conn, outlet = connect(hub)
    await hub.subscribe(conn, "class:1", None, None)
    await hub.broker.publish("class:1", "post.deleted", {"post_id": 1})
    await settle(hub, "class:1", 1)
    hub.broker._channels.clear()  # type: ignore[attr-defined]  # history gone: a new epoch
    await hub.broker.publish("class:1", "post.deleted", {"post_id": 2})
    async with asyncio.timeout(5):
        while outlet.closed is None:  # noqa: ASYNC110 - polled with a deadline
            await asyncio.sleep(0.001)
    assert outlet.closed[0] == 1012


async def test_the_last_reader_leaving_forgets_the_channel(hub: Hub) -> None:
    one, _ = connect(hub)
    two, _ = connect(hub)
    await hub.subscribe(one, "class:1", None, None)
    await hub.subscribe(two, "class:1", None, None)
    assert hub.subscribers("class:1") == 2
    assert hub.unsubscribe(one, "class:1") and not hub.unsubscribe(one, "class:1")
    assert hub.remove(two) == ["class:1"]
    assert hub.subscribers("class:1") == 0 and hub.connections_of(two.user_id) == []


async def test_a_reader_who_changes_language_is_rendered_for_anew(
    hub: Hub, counted_renderer: list[Variant]
) -> None:
    conn, outlet = connect(hub, "en")
    await hub.subscribe(conn, "class:1", None, None)
    data = {"post": {}, "text": "Hello", "translations": {"es": "Hola"}}
    await hub.broker.publish("class:1", "post.updated", data)
    await settle(hub, "class:1", 1)
    hub.regroup(conn, Variant("es", False))
    await hub.broker.publish("class:1", "post.updated", data)
    await settle(hub, "class:1", 2)
    assert [e["data"]["text"] for e in outlet.events()] == ["Hello", "Hola"]


async def test_a_failing_renderer_costs_only_its_own_readers(hub: Hub) -> None:
    def fragile(data: dict[str, Any], variant: Variant) -> dict[str, Any]:
        if variant.language == "xx":
            raise ValueError("broken translation")
        return data

    hub.rendering = Rendering({"post.updated": fragile})
    try:
        broken, to_broken = connect(hub, "xx")
        fine, to_fine = connect(hub, "en")
        for conn in (broken, fine):
            await hub.subscribe(conn, "class:1", None, None)
        await hub.broker.publish("class:1", "post.updated", {"post": {"id": 1}})
        await hub.broker.publish("class:1", "post.deleted", {"post_id": 1})
        await settle(hub, "class:1", 2)
        assert [e["type"] for e in to_fine.events()] == ["post.updated", "post.deleted"]
        assert [e["type"] for e in to_broken.events()] == ["post.deleted"]
    finally:
        hub.rendering = Rendering()
