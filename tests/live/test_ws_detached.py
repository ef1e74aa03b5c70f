"""Sockets detached from their ASGI task (``serve``'s protocol): frames, idle closes, failures, leaving.

The server runs in this process with exactly ``serve``'s uvicorn options, so the test can
look inside: once a socket is admitted no ASGI task is left for it, yet its frames are
answered in order, an unsubscribed socket still closes when idle, a frame whose handling
fails closes the socket with 1011, and a socket that leaves is forgotten by the hub.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from server.app import create_app
from server.channels import endpoint
from server.channels.part import LivePart
from server.channels.uvicorn_ws import HomeroomWSProtocol
from server.cli.main import uvicorn_options
from server.db.migrate import upgrade
from server.services import Services
from tests.conftest import make_settings
from tests.factories import World, make_world
from tests.live.client import LiveClient
from tests.live.servers import free_port

pytestmark = pytest.mark.live

IDLE_SECONDS = 1.0


@dataclass
class InProcess:
    url: str
    server: uvicorn.Server
    services: Services
    world: World

    @property
    def live(self) -> LivePart:
        assert self.services.live is not None
        return self.services.live

    def sockets(self) -> list[HomeroomWSProtocol]:
        return [c for c in self.server.server_state.connections if isinstance(c, HomeroomWSProtocol)]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[InProcess]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'detached.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = make_settings(tmp_path, url, ws_idle_seconds=IDLE_SECONDS)
    app = create_app(settings)
    options = uvicorn_options(settings) | {"log_level": "warning"}
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", **options))
    task = asyncio.create_task(server.serve())
    await _until(lambda: server.started or task.done(), "the server starts")
    assert not task.done(), "the in-process server did not start"
    services: Services = app.state.services
    try:
        yield InProcess(f"ws://127.0.0.1:{port}/ws", server, services, await make_world(services))
    finally:
        server.should_exit = True
        await task


async def _until(condition: Callable[[], Any], what: str, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.02)


async def test_an_admitted_socket_keeps_no_asgi_task_and_answers_its_frames_in_order(site: InProcess) -> None:
    channel = f"school:{site.world.school.id}"
    async with LiveClient.connect(site.url, site.world.teacher.token) as client:
        assert (await client.subscribe(channel))["op"] == "subbed"
        assert [s.detached for s in site.sockets()] == [True]
        await _until(lambda: not site.server.server_state.tasks, "the ASGI task has ended")
        # A burst of frames arrives together: the answers come back in the order sent.
        for n in range(5):
            await client.send({"op": "ping", "ref": f"p{n}"})
        await client.send({"op": "unsub", "channel": channel, "ref": "u"})
        await client.send({"op": "sub", "channel": channel, "ref": "s"})
        refs = [(await client.wait_for(lambda f: f.get("ref") is not None))["ref"] for _ in range(7)]
        assert refs == ["p0", "p1", "p2", "p3", "p4", "u", "s"]
        assert site.live.hub is not None
        assert [len(c.channels) for c in site.live.hub.all_connections()] == [1]
    await _until(lambda: not list(site.live.hub.all_connections()), "the hub forgets the socket")  # type: ignore[union-attr]


async def test_a_detached_socket_with_no_subscription_closes_when_idle(site: InProcess) -> None:
    channel = f"school:{site.world.school.id}"
    async with LiveClient.connect(site.url, site.world.teacher.token) as never:
        assert await never.closed_with(deadline=IDLE_SECONDS + 5) == 1000
    async with LiveClient.connect(site.url, site.world.teacher.token) as left:
        assert (await left.subscribe(channel))["op"] == "subbed"
        started = time.monotonic()
        await left.send({"op": "unsub", "channel": channel, "ref": "u"})
        await left.wait_for(lambda f: f.get("ref") == "u")
        assert await left.closed_with(deadline=IDLE_SECONDS + 5) == 1000
        assert time.monotonic() - started >= IDLE_SECONDS * 0.9
    async with LiveClient.connect(site.url, site.world.teacher.token) as reader:
        assert (await reader.subscribe(channel))["op"] == "subbed"
        with pytest.raises(TimeoutError):  # subscribed: it stays open past the idle time
            await reader.closed_with(deadline=IDLE_SECONDS * 2)
        await reader.send({"op": "ping", "ref": "still"})
        await reader.wait_for(lambda f: f.get("ref") == "still")


async def test_a_frame_whose_handling_fails_closes_the_socket_with_1011(
    site: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any) -> None:
        raise RuntimeError("a bug in subscribing")

    monkeypatch.setattr(endpoint, "_subscribe", broken)
    async with LiveClient.connect(site.url, site.world.teacher.token) as client:
        await client.send({"op": "ping", "ref": "before"})
        await client.wait_for(lambda f: f.get("ref") == "before")
        await client.sub(f"school:{site.world.school.id}")
        assert await client.closed_with() == 1011
    await _until(lambda: not list(site.live.hub.all_connections()), "the hub forgets the socket")  # type: ignore[union-attr]
    await _until(lambda: not site.sockets(), "the socket is gone")


async def test_a_flood_of_frames_on_a_detached_socket_is_closed_with_4029(site: InProcess) -> None:
    async with LiveClient.connect(site.url, site.world.teacher.token) as client:
        for n in range(200):
            await client.send({"op": "ping", "ref": n})
        assert await client.closed_with() == 4029
