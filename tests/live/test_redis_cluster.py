"""``redis+cluster://``: the broker, presence, rate limits and the translation queue on a real Redis Cluster.

The cluster (3 masters, 3 replicas) is started by the ``redis_cluster`` fixture. The first
tests use the parts in-process; then two server processes deliver a stream of events over
channels spread across the three masters; the last test kills the master serving a
channel mid-stream and checks that no reader loses an event without being told
(``recovered: false``), while the readers of a channel on another master notice nothing.
It runs last because it leaves the cluster with one master fewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from websockets.exceptions import ConnectionClosed

from server.auth.ratelimit import RedisRateLimiter
from server.channels.broker import Published
from server.channels.broker_cluster import ClusterBroker
from server.language.stored import RedisLock
from server.presence.base import SESSION_FULL
from server.presence.redis import RedisPresence
from server.redis_clients import cluster_client
from server.settings import Settings
from server.translation.queue import Job, RedisQueue, create_queue
from tests.factories import World, make_world
from tests.live.client import LiveClient
from tests.live.emitter import emit_events, number, payloads
from tests.live.redis_cluster import LocalCluster
from tests.live.servers import LiveServer, live_database, running_servers, shared_services, unique_prefix

pytestmark = pytest.mark.live


class Listener:
    """What the hub would be told, kept in lists, with a way to wait for the next arrivals."""

    def __init__(self) -> None:
        self.events: list[Published] = []
        self.controls: list[dict[str, Any]] = []
        self.reconnects = 0
        self._arrived = asyncio.Condition()

    def on_event(self, event: Published) -> None:
        self.events.append(event)
        asyncio.get_running_loop().create_task(self._notify())

    def on_control(self, message: dict[str, Any]) -> None:
        self.controls.append(message)
        asyncio.get_running_loop().create_task(self._notify())

    def on_reconnect(self) -> None:
        self.reconnects += 1

    async def _notify(self) -> None:
        async with self._arrived:
            self._arrived.notify_all()

    async def wait(self, events: int = 0, controls: int = 0, deadline: float = 5.0) -> None:
        async with asyncio.timeout(deadline), self._arrived:
            await self._arrived.wait_for(
                lambda: len(self.events) >= events and len(self.controls) >= controls
            )


@contextlib.asynccontextmanager
async def running_broker(url: str, prefix: str) -> AsyncIterator[tuple[ClusterBroker, Listener]]:
    broker = ClusterBroker(url, prefix, history_size=50, history_ttl=3600)
    listener = Listener()
    broker.listen(listener)
    await broker.start()
    try:
        yield broker, listener
    finally:
        await broker.stop()


def master_ports(cluster: RedisCluster, keys: list[str]) -> set[int]:
    found = set()
    for key in keys:
        node = cluster.get_node_from_key(key)
        assert node is not None
        found.add(int(node.port))
    return found


def spread_channels(prefix: str, cluster: RedisCluster, count: int = 3) -> list[str]:
    """``count`` class channels whose slots are served by ``count`` different masters."""
    chosen: dict[int, str] = {}
    for ident in range(1, 10_000):
        channel = f"class:{ident}"
        [port] = master_ports(cluster, [f"{{{prefix}:{channel}}}:meta"])
        chosen.setdefault(port, channel)
        if len(chosen) == count:
            return list(chosen.values())
    raise AssertionError("the cluster has fewer masters than asked for")


async def test_broker_numbers_keeps_history_and_fans_out_across_shards(redis_cluster: LocalCluster) -> None:
    prefix = unique_prefix()
    async with (
        running_broker(redis_cluster.url, prefix) as (one, heard_one),
        running_broker(redis_cluster.url, prefix) as (two, heard_two),
    ):
        cluster = one._client()
        channels = spread_channels(prefix, cluster)
        for channel in channels:
            await one.subscribe(channel)
            await two.subscribe(channel)
        assert len(one._links) == 3  # a pub/sub link per master serving a subscribed slot

        for n in range(5):
            for channel in channels:
                await (one if n % 2 else two).publish(channel, "report.created", {"n": n}, event_id=100 + n)
        # The same outbox row published again (a relay after a crash) is a no-op: the same seq.
        assert await one.publish(channels[0], "report.created", {"n": 0}, event_id=100) == 1
        for heard in (heard_one, heard_two):
            await heard.wait(events=15)
            for channel in channels:
                got = [e for e in heard.events if e.channel == channel]
                assert [(e.seq, e.data["n"]) for e in got] == [(s, s - 1) for s in range(1, 6)]
                assert len({e.epoch for e in got}) == 1

        # Every key of a channel is in its one slot; the control channel in one slot too.
        for channel in channels:
            keys = [key async for key in cluster.scan_iter(match=f"{{{prefix}:{channel}}}*", count=1000)]
            assert len(keys) >= 3 and len({key_slot(key) for key in keys}) == 1, keys

        epoch = heard_one.events[0].epoch
        recovery = await two.history(channels[0], 2, epoch)
        assert recovery.recovered and [e.seq for e in recovery.events] == [3, 4, 5]
        assert not (await two.history(channels[0], 2, "another")).recovered
        assert not (await two.history(channels[0], None, None)).recovered

        await two.control({"kind": "access", "user_id": 7})
        await heard_one.wait(controls=1)
        await heard_two.wait(controls=1)
        assert heard_one.controls == heard_two.controls == [{"kind": "access", "user_id": 7}]

        await one.forget(channels[1])
        after = await one.history(channels[1], 5, epoch)
        assert not after.recovered and after.epoch != epoch and after.seq == 0

        await one.unsubscribe(channels[2])
        await two.publish(channels[2], "report.created", {"n": 99})
        await heard_two.wait(events=16)
        assert not [e for e in heard_one.events if e.data.get("n") == 99]
        await one.ping()


async def test_presence_rate_limits_locks_and_the_translation_queue_work_on_the_cluster(
    redis_cluster: LocalCluster, tmp_path: Path
) -> None:
    prefix = unique_prefix()
    presence = RedisPresence(redis_cluster.url, prefix, ttl=30)
    client = cluster_client(redis_cluster.url)
    try:
        user = {"id": 3, "name": "Mrs Patel"}
        assert await presence.join("class:1:staff", "c1", user) is True
        assert await presence.join("class:1:staff", "c2", user) is False  # already present
        assert await presence.members("class:1:staff") == [user]
        await presence.heartbeat([("class:1:staff", "c1", 3)])
        assert await presence.leave("class:1:staff", "c1", 3) is False  # c2 still open
        assert await presence.leave("class:1:staff", "c2", 3) is True
        assert await presence.expire() == []
        assert await presence.claim_socket("c1", 3, 9, per_session=1, per_user=5) is None
        assert await presence.claim_socket("c2", 3, 9, per_session=1, per_user=5) == SESSION_FULL
        await presence.renew_sockets([("c1", 3, 9)])
        await presence.release_socket("c1", 3, 9)

        limiter = RedisRateLimiter(client, prefix)
        assert [await limiter.hit("k", 2, 60) for _ in range(2)] == [None, None]
        assert (await limiter.hit("k", 2, 60) or 0) > 0
        assert (await limiter.take("t", 1, 60))[1] is None
        assert (await limiter.take("t", 1, 60))[1] is not None
        await limiter.give_back("t")
        assert (await limiter.take("t", 1, 60))[1] is None

        lock = RedisLock(client, prefix)
        key = ("hash", "en", "pl")
        assert await lock.acquire(key, "a") and not await lock.acquire(key, "b")
        await lock.release(key, "a")
        assert not await lock.held(key)

        settings = Settings(broker_url=redis_cluster.url, redis_prefix=prefix, data_dir=tmp_path)
        queue = create_queue(settings, client)
        assert isinstance(queue, RedisQueue)
        done: list[int] = []

        async def handle(job: Job) -> None:
            done.append(job.item_id)

        await queue.start(handle, consume=True)
        try:
            await queue.put([Job("post", n, "hello", "en", "pl") for n in range(5)])
            assert await queue.drain(10)
        finally:
            await queue.stop()
        assert sorted(done) == list(range(5))
    finally:
        await presence.stop()
        await client.aclose()


def test_a_prefix_with_braces_is_refused_on_a_cluster() -> None:
    with pytest.raises(ValueError, match="may not contain"):
        ClusterBroker("redis+cluster://127.0.0.1:7000", "a{b}", 10, 60)


# Two server processes on the cluster --------------------------------------------------


@dataclass
class ClusterSite:
    cluster: LocalCluster
    servers: list[LiveServer]
    world: World
    prefix: str
    classes: list[str] = field(default_factory=list)  # class channels on three different masters


@pytest.fixture(scope="module")
async def cluster_site(
    redis_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ClusterSite]:
    tmp = tmp_path_factory.mktemp("live-cluster")
    prefix = unique_prefix()
    async with live_database("postgresql", tmp) as url, shared_services(url, tmp) as services:
        world = await make_world(services)
        client = cluster_client(redis_cluster.url)
        try:
            await client.initialize()
            masters: dict[int, str] = {}
            while len(masters) < 3:  # classes until their channels sit on all three masters
                found = await world.add_class(f"Class {secrets.token_hex(2)}")
                channel = f"class:{found.id}"
                [port] = master_ports(client, [f"{{{prefix}:{channel}}}:meta"])
                masters.setdefault(port, channel)
        finally:
            await client.aclose()
        extra = {"HOMEROOM_CODE_ATTEMPTS_PER_MINUTE": "10000"}
        async with running_servers(
            2, database_url=url, broker_url=redis_cluster.url, data_dir=tmp, redis_prefix=prefix, extra=extra
        ) as servers:
            yield ClusterSite(redis_cluster, servers, world, prefix, list(masters.values()))


@pytest.mark.slow
async def test_two_processes_on_the_cluster_deliver_every_event_in_order(cluster_site: ClusterSite) -> None:
    a, b = cluster_site.servers
    world = cluster_site.world
    channels = cluster_site.classes
    async with (
        LiveClient.connect(a.ws_url, world.teacher.token) as on_a,
        LiveClient.connect(b.ws_url, world.office.token) as on_b,
    ):
        answers = {}
        for channel in channels:
            answers[channel] = [await on_a.subscribe(channel), await on_b.subscribe(channel)]
            assert [answer["op"] for answer in answers[channel]] == ["subbed", "subbed"], answers[channel]
        for start in range(0, 30, 10):  # three transactions, interleaving the channels
            for channel in channels:
                await emit_events(world.services, channel, "report.created", payloads(10, start))
        for client, index in ((on_a, 0), (on_b, 1)):
            try:
                events = [await client.wait_for(lambda f: f["op"] == "event", 20) for _ in range(90)]
            except TimeoutError:
                raise AssertionError(f"{client.frames[-5:]}\n{a.log()[-3000:]}\n{b.log()[-3000:]}") from None
            for channel in channels:
                got = [e for e in events if e["channel"] == channel]
                first = answers[channel][index]["seq"] + 1
                assert [number(e) for e in got] == list(range(30))
                assert [e["seq"] for e in got] == list(range(first, first + 30))


class Witness:
    """A reader that stays on a channel, reconnecting with ``since``/``epoch``; keeps every frame in order.

    ``sessions`` holds, per connection, the ``subbed`` answer, the events replayed before it
    and the live events after it. After ``recovered: false`` a real client reloads through
    the REST API and goes on from the answer's ``seq``; this one does the same (minus the reload).
    """

    def __init__(self, server: LiveServer, token: str, channel: str) -> None:
        self.server, self.token, self.channel = server, token, channel
        self.sessions: list[dict[str, Any]] = []
        self.since: int | None = None
        self.epoch: str | None = None
        self._progress = asyncio.Condition()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(AssertionError, OSError, ConnectionClosed, TimeoutError):
                async with LiveClient.connect(self.server.ws_url, self.token) as client:
                    answer = await client.subscribe(self.channel, since=self.since, epoch=self.epoch)
                    if answer["op"] == "subbed":
                        replay = [
                            f for f in client.frames[: client.frames.index(answer)] if f["op"] == "event"
                        ]
                        session: dict[str, Any] = {"answer": answer, "replay": replay, "live": []}
                        self.sessions.append(session)
                        self.since = answer["seq"]
                        self.epoch = answer["epoch"]
                        await self._notify()
                        while True:
                            frame = await client.wait_for(lambda f: f["op"] == "event", 3600)
                            session["live"].append(frame)
                            self.since = frame["seq"]
                            await self._notify()
            await asyncio.sleep(0.05)  # reconnect back-off

    async def _notify(self) -> None:
        async with self._progress:
            self._progress.notify_all()

    def reports(self) -> set[int]:
        return {
            number(e) for s in self.sessions for e in s["replay"] + s["live"] if e["type"] == "report.created"
        }

    def told_not_recovered(self) -> bool:
        return any(not s["answer"]["recovered"] for s in self.sessions[1:])

    async def wait_until(self, wanted: set[int], deadline: float = 30.0) -> None:
        async with asyncio.timeout(deadline), self._progress:
            await self._progress.wait_for(lambda: wanted <= self.reports())

    async def wait_new_epoch(self, deadline: float = 30.0) -> None:
        """Wait until the reader has resubscribed into an epoch other than its first one."""
        async with asyncio.timeout(deadline), self._progress:
            await self._progress.wait_for(
                lambda: any(
                    s["answer"]["epoch"] != self.sessions[0]["answer"]["epoch"] for s in self.sessions
                )
            )

    async def wait_subscribed(self, deadline: float = 10.0) -> None:
        async with asyncio.timeout(deadline), self._progress:
            await self._progress.wait_for(lambda: bool(self.sessions))

    def check_nothing_lost_silently(self) -> None:
        """Every session's events are contiguous; a recovered one continues exactly where the last ended."""
        last: tuple[str, int] | None = None
        for index, session in enumerate(self.sessions):
            answer = session["answer"]
            events = session["replay"] + session["live"]
            if index > 0 and answer["recovered"]:
                assert last is not None and answer["epoch"] == last[0], (index, answer, last)
                expected_first = last[1] + 1
            else:
                assert not session["replay"], session  # nothing replayed without recovery
                expected_first = answer["seq"] + 1
            seqs = [e["seq"] for e in events]
            assert seqs == list(range(expected_first, expected_first + len(seqs))), (index, answer, seqs)
            last = (answer["epoch"], seqs[-1] if seqs else expected_first - 1)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@pytest.mark.slow
async def test_a_master_killed_mid_stream_loses_no_event_silently(cluster_site: ClusterSite) -> None:
    a, b = cluster_site.servers
    world = cluster_site.world
    doomed_channel, calm_channel = cluster_site.classes[0], cluster_site.classes[1]
    witnesses = [
        Witness(a, world.teacher.token, doomed_channel),
        Witness(b, world.office.token, doomed_channel),
        Witness(a, world.office.token, calm_channel),
        Witness(b, world.teacher.token, calm_channel),
    ]
    emitted = 0

    async def stream(count: int) -> None:
        nonlocal emitted
        for _ in range(count):
            for channel in (doomed_channel, calm_channel):
                await emit_events(world.services, channel, "report.created", payloads(1, emitted))
            emitted += 1
            await asyncio.sleep(0.02)  # a steady pace of posts, not a synchronisation

    try:
        for witness in witnesses:
            await witness.wait_subscribed()
        await stream(20)
        streaming = asyncio.create_task(stream(60))
        killed = await cluster_site.cluster.kill_master_of(f"{{{cluster_site.prefix}:{doomed_channel}}}:meta")
        await streaming
        # Events relayed into the new epoch before a reader resubscribed are covered by its
        # "not recovered" answer (it reloads); count from the moment every reader is back.
        for witness in witnesses[:2]:
            await witness.wait_new_epoch()
        first_after = emitted
        await stream(20)  # after the failover: these must reach everyone
        for witness in witnesses:
            await witness.wait_until(set(range(first_after, emitted)))
        for witness in witnesses[2:]:  # the calm channel's master lived: it missed nothing at all
            await witness.wait_until(set(range(emitted)))
    except TimeoutError:
        states = [(w.channel, sorted(w.reports()), [s["answer"] for s in w.sessions]) for w in witnesses]
        raise AssertionError(f"{states}\n{a.log()[-3000:]}\n{b.log()[-3000:]}") from None
    finally:
        for witness in witnesses:
            await witness.stop()

    assert killed.process.poll() is not None
    for witness in witnesses:
        witness.check_nothing_lost_silently()
        missing = set(range(emitted)) - witness.reports()
        assert not missing or witness.told_not_recovered(), (witness.channel, sorted(missing))
    # The failed-over channel started a new epoch: its readers were told to reload, not left guessing.
    for witness in witnesses[:2]:
        assert witness.told_not_recovered()
    for witness in witnesses[2:]:
        assert not witness.told_not_recovered()
    assert "reconnected to the Redis Cluster" in a.log() + b.log()
