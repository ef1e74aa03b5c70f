"""Brokers: per-channel seq, history, recovery and fan-out — the same suite on memory and on real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from server.channels.broker import Broker, Published, decide_recovery
from server.channels.broker_memory import MemoryBroker
from server.channels.broker_redis import RedisBroker
from tests.channels.listeners import Listener
from tests.live.servers import unique_prefix
from tests.services import redis_url

T0 = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)


def held(first: int, last: int, epoch: str = "e1", start: datetime = T0) -> list[Published]:
    return [
        Published(
            "class:1",
            seq,
            epoch,
            "post.deleted",
            {"post_id": seq},
            (start + timedelta(seconds=seq)).isoformat(),
        )
        for seq in range(first, last + 1)
    ]


@pytest.mark.parametrize(
    ("since", "client_epoch", "events", "recovered", "replayed"),
    [
        (None, None, held(1, 10), False, []),  # a first subscription: nothing to recover
        (10, "e1", held(1, 10), True, []),  # up to date
        (7, "e1", held(1, 10), True, [8, 9, 10]),
        (0, "e1", held(1, 10), True, list(range(1, 11))),
        (2, "e1", held(5, 10), False, []),  # history no longer reaches back: all or nothing
        (4, "e1", held(5, 10), True, [5, 6, 7, 8, 9, 10]),
        (7, "e2", held(1, 10), False, []),  # another epoch: seq restarted
        (7, None, held(1, 10), False, []),  # no epoch given: never guess
        (11, "e1", held(1, 10), False, []),  # ahead of the channel
        (7, "e1", held(1, 7) + held(9, 10), False, []),  # a hole in the middle
    ],
)
def test_recovery_is_all_or_nothing(
    since: int | None, client_epoch: str | None, events: list[Published], recovered: bool, replayed: list[int]
) -> None:
    answer = decide_recovery(10, "e1", since, client_epoch, events)
    assert answer.recovered is recovered
    assert [event.seq for event in answer.events] == replayed
    assert (answer.seq, answer.epoch) == (10, "e1")


def test_events_older_than_the_history_ttl_are_not_recovered() -> None:
    events = held(1, 10)
    assert decide_recovery(10, "e1", 5, "e1", events, oldest_allowed=T0).recovered
    assert not decide_recovery(10, "e1", 5, "e1", events, oldest_allowed=T0 + timedelta(seconds=7)).recovered


@pytest.fixture(params=["memory", "redis"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    found: Broker = (
        MemoryBroker(history_size=5, history_ttl=3600)
        if request.param == "memory"
        else RedisBroker(redis_url(), unique_prefix(), history_size=5, history_ttl=3600)
    )
    await found.start()
    yield found
    await found.stop()


async def _wait(done: asyncio.Event, got: list[Published]) -> list[Published]:
    async with asyncio.timeout(5):
        await done.wait()
    return got


async def test_seq_increases_by_one_per_channel(broker: Broker) -> None:
    assert [await broker.publish("class:1", "post.deleted", {"post_id": i}) for i in range(3)] == [1, 2, 3]
    assert await broker.publish("class:2", "post.deleted", {"post_id": 9}) == 1


async def test_subscribers_receive_events_in_order(broker: Broker) -> None:
    got: list[Published] = []
    done = asyncio.Event()

    def sink(event: Published) -> None:
        got.append(event)
        if len(got) == 20:
            done.set()

    broker.listener = Listener(on_event=sink)
    await broker.subscribe("class:1")
    for index in range(20):
        await broker.publish("class:1", "post.deleted", {"post_id": index}, ts="2026-01-01T00:00:00+00:00")
    await _wait(done, got)
    assert [event.seq for event in got] == list(range(1, 21))
    assert got[3].data == {"post_id": 3} and got[3].type == "post.deleted" and got[3].ts.startswith("2026")
    assert len({event.epoch for event in got}) == 1


async def test_history_recovers_within_its_size_and_not_beyond(broker: Broker) -> None:
    start = await broker.history("class:1", None, None)
    assert (start.seq, start.recovered) == (0, False)
    for index in range(8):
        await broker.publish("class:1", "post.deleted", {"post_id": index})
    recent = await broker.history("class:1", 5, start.epoch)
    assert recent.recovered and [event.seq for event in recent.events] == [6, 7, 8]
    assert [event.data["post_id"] for event in recent.events] == [5, 6, 7]
    too_old = await broker.history("class:1", 2, start.epoch)  # history holds the last 5: seq 4..8
    assert not too_old.recovered and too_old.events == () and too_old.seq == 8
    assert (await broker.history("class:1", 3, start.epoch)).recovered


async def test_an_event_id_is_published_once_however_often_it_is_sent(broker: Broker) -> None:
    got: list[Published] = []
    last = asyncio.Event()

    def sink(event: Published) -> None:
        if event.channel == "class:1":
            got.append(event)
        if event.data["post_id"] == "last":
            last.set()

    broker.listener = Listener(on_event=sink)
    await broker.subscribe("class:1")
    first = await broker.publish("class:1", "post.deleted", {"post_id": 1}, event_id=41)
    again = await broker.publish("class:1", "post.deleted", {"post_id": 1}, event_id=41)
    other = await broker.publish("class:1", "post.deleted", {"post_id": 2}, event_id=42)
    elsewhere = await broker.publish("class:2", "post.deleted", {"post_id": 3}, event_id=41)
    plain = [await broker.publish("class:1", "post.deleted", {"post_id": 4}) for _ in range(2)]
    await broker.publish("class:1", "post.deleted", {"post_id": "last"})
    await _wait(last, got)
    assert (first, again, other, elsewhere, plain) == (1, 1, 2, 1, [3, 4])
    assert [event.data["post_id"] for event in got] == [1, 2, 4, 4, "last"]  # no id: no de-duplication
    history = await broker.history("class:1", 0, got[0].epoch)
    assert [event.seq for event in history.events] == [1, 2, 3, 4, 5]


async def test_a_forgotten_channel_starts_a_new_epoch_and_recovers_nothing(broker: Broker) -> None:
    for index in range(3):
        await broker.publish("class:1", "post.deleted", {"post_id": index})
    await broker.publish("class:2", "post.deleted", {"post_id": 9})
    old = await broker.history("class:1", None, None)
    await broker.forget("class:1")
    assert not (await broker.history("class:1", 1, old.epoch)).recovered
    assert await broker.publish("class:1", "post.deleted", {"post_id": 3}) == 1
    fresh = await broker.history("class:1", 0, None)
    assert fresh.epoch != old.epoch and fresh.seq == 1
    assert (await broker.history("class:2", None, None)).seq == 1  # other channels untouched


async def test_control_messages_reach_this_process(broker: Broker) -> None:
    got: list[dict[str, object]] = []
    done = asyncio.Event()
    broker.listener = Listener(on_control=lambda message: (got.append(message), done.set()))  # type: ignore[func-returns-value]
    await broker.control({"kind": "access", "user_id": 7})
    async with asyncio.timeout(5):
        await done.wait()
    assert got == [{"kind": "access", "user_id": 7}]


async def test_two_redis_brokers_share_seq_and_fan_out() -> None:
    prefix = unique_prefix()
    one, two = (RedisBroker(redis_url(), prefix, 100, 3600) for _ in range(2))
    await one.start()
    await two.start()
    try:
        got: list[Published] = []
        done = asyncio.Event()

        def sink(event: Published) -> None:
            got.append(event)
            if len(got) == 10:
                done.set()

        two.listener = Listener(on_event=sink)
        await two.subscribe("class:1")
        seqs = [
            await (one if i % 2 else two).publish("class:1", "post.deleted", {"post_id": i})
            for i in range(10)
        ]
        await _wait(done, got)
        assert seqs == list(range(1, 11)) and [event.seq for event in got] == seqs
        await two.unsubscribe("class:1")
        await one.publish("class:1", "post.deleted", {"post_id": 99})
        await one.publish("class:2", "post.deleted", {"post_id": 99})
        done.clear()
        await two.subscribe("class:3")
        got.clear()
        got.extend([got_marker := Published("", 0, "", "", {}, "")] * 9)  # the next event completes ten
        await one.publish("class:3", "post.deleted", {"post_id": 3})
        await _wait(done, got)  # one connection, in order: class:1 or class:2 would have come first
        assert [event.channel for event in got if event is not got_marker] == ["class:3"]
    finally:
        await one.stop()
        await two.stop()
