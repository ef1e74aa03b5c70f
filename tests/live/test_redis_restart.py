"""Redis restarted mid-stream: the server keeps running, reconnects, and no committed event is lost.

Each test runs its own ``redis-server``. With an append-only file history survives the
restart and clients recover every event; without persistence the channel's epoch changes
and clients are told ``recovered: false`` (they reload through the REST API).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.factories import World, make_world
from tests.live.client import LiveClient
from tests.live.emitter import emit_events, number, payloads
from tests.live.servers import LiveServer, RedisServer, live_database, running_servers, shared_services

pytestmark = [pytest.mark.live, pytest.mark.slow]


class Follower:
    """A client that stays on a channel, reconnecting with ``since`` whenever it is disconnected."""

    def __init__(self, server: LiveServer, token: str, channel: str) -> None:
        self.server, self.token, self.channel = server, token, channel
        self.events: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []
        self.since: int | None = None
        self.epoch: str | None = None
        self._progress = asyncio.Condition()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(AssertionError, OSError, ConnectionClosed, TimeoutError):
                async with LiveClient.connect(self.server.ws_url, self.token) as client:
                    answer = await client.subscribe(self.channel, since=self.since, epoch=self.epoch)
                    for frame in client.frames[: client.frames.index(answer)]:
                        await self._add(frame)
                    self.answers.append(answer)
                    if not answer["recovered"]:
                        self.since = answer["seq"]
                    self.epoch = answer["epoch"]
                    async with self._progress:
                        self._progress.notify_all()
                    while True:
                        await self._add(await client.wait_for(lambda f: f["op"] == "event", 3600))
            await asyncio.sleep(0.05)

    async def _add(self, frame: dict[str, Any]) -> None:
        if frame["op"] == "event" and (self.since is None or frame["seq"] > self.since):
            self.events.append(frame)
            self.since = frame["seq"]
            async with self._progress:
                self._progress.notify_all()

    def reports(self) -> list[int]:
        return [number(e) for e in self.events if e["type"] == "report.created"]

    async def wait_reports(self, count: int, deadline: float = 20.0) -> None:
        """Wait until ``count`` distinct reports arrived (a duplicate does not count)."""
        async with asyncio.timeout(deadline), self._progress:
            await self._progress.wait_for(lambda: len(set(self.reports())) >= count and bool(self.answers))

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@pytest.fixture
async def redis_stack(
    tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[RedisServer, LiveServer, World]]:
    redis = RedisServer(tmp_path / "redis", persistent=request.param)
    await redis.start()
    try:
        async with live_database("sqlite", tmp_path) as url, shared_services(url, tmp_path) as services:
            world = await make_world(services)
            async with running_servers(1, database_url=url, broker_url=redis.url, data_dir=tmp_path) as (
                server,
            ):
                yield redis, server, world
    finally:
        await redis.stop()


@pytest.mark.parametrize("redis_stack", [True], indirect=True, ids=["persistent"])
async def test_redis_restart_with_persistence_loses_no_event(
    redis_stack: tuple[RedisServer, LiveServer, World],
) -> None:
    redis, server, world = redis_stack
    channel = f"school:{world.school.id}"
    follower = Follower(server, world.teacher.token, channel)
    try:
        await follower.wait_reports(0)
        await emit_events(world.services, channel, "report.created", payloads(20))
        await follower.wait_reports(20)
        await redis.restart()
        await emit_events(world.services, channel, "report.created", payloads(20, 20))
        await emit_events(world.services, channel, "report.created", payloads(20, 40))
        await follower.wait_reports(60)
    except TimeoutError:
        raise AssertionError(f"{follower.answers} {follower.reports()}\n{server.log()[-3000:]}") from None
    finally:
        await follower.stop()
    assert "reconnected to Redis" in server.log()
    assert follower.reports() == list(range(60))
    seqs = [e["seq"] for e in follower.events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert all(answer["recovered"] for answer in follower.answers[1:])
    assert {answer["epoch"] for answer in follower.answers} == {follower.answers[0]["epoch"]}


@pytest.mark.parametrize("redis_stack", [False], indirect=True, ids=["no-persistence"])
async def test_redis_restart_without_persistence_says_not_recovered(
    redis_stack: tuple[RedisServer, LiveServer, World],
) -> None:
    redis, server, world = redis_stack
    channel = f"school:{world.school.id}"
    async with LiveClient.connect(server.ws_url, world.teacher.token) as client:
        subbed = await client.subscribe(channel)
        await emit_events(world.services, channel, "report.created", payloads(5))
        await client.events(channel, 5)
        await redis.restart()
        await emit_events(world.services, channel, "report.created", payloads(5, 5))
        assert await client.closed_with(deadline=15) == 1012
    async with LiveClient.connect(server.ws_url, world.teacher.token) as client:
        answer = await client.subscribe(channel, since=subbed["seq"] + 5, epoch=subbed["epoch"])
        assert answer["recovered"] is False and answer["epoch"] != subbed["epoch"]
    assert "reconnected to Redis" in server.log()
