"""Finding 12: live connections per user are capped; the extra socket is refused with 4029.

A single process with the default caps (5 sockets per session, 10 per user), then two
processes sharing Redis and PostgreSQL with small caps and a short presence TTL: the caps
hold across processes, a closed socket frees its slot, and so does a killed process
(its slots lapse once it stops renewing them).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from server.settings import Settings
from tests.factories import Actor, World
from tests.live.client import LiveClient
from tests.live.conftest import Site
from tests.live.servers import live_database, running_servers, shared_services, start_server, unique_prefix
from tests.services import redis_url

pytestmark = pytest.mark.live

REFUSED = 4029
PER_SESSION = 2
PER_USER = 3
TTL_SECONDS = 4.0  # renewed every 4/3 s, so a slot outlives its last renewal by 2.6 s or more


@pytest.fixture(scope="module")
async def single_site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    """One process with the memory broker and the default caps."""
    tmp = tmp_path_factory.mktemp("cap-single")
    async with (
        live_database("sqlite", tmp) as url,
        shared_services(url, tmp) as services,
        running_servers(1, database_url=url, broker_url="memory://", data_dir=tmp) as found,
    ):
        yield Site(found, services, url, "memory://", "")


@pytest.fixture(scope="module")
async def capped_site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    """Two processes on PostgreSQL and Redis, with small caps and a short presence TTL."""
    tmp = tmp_path_factory.mktemp("cap-redis")
    prefix, broker = unique_prefix(), redis_url()
    extra = {
        "HOMEROOM_WS_CONNECTIONS_PER_SESSION": str(PER_SESSION),
        "HOMEROOM_WS_CONNECTIONS_PER_USER": str(PER_USER),
        "HOMEROOM_PRESENCE_TTL_SECONDS": str(TTL_SECONDS),
    }
    async with (
        live_database("postgresql", tmp) as url,
        shared_services(url, tmp) as services,
        running_servers(
            2, database_url=url, broker_url=broker, data_dir=tmp, redis_prefix=prefix, extra=extra
        ) as found,
    ):
        yield Site(found, services, url, broker, prefix)


async def open_socket(stack: contextlib.AsyncExitStack, url: str, actor: Actor) -> LiveClient | int:
    """Open a socket as ``actor``: the client once the server admitted it, else its close code."""
    client = await stack.enter_async_context(LiveClient.connect(url, actor.token))
    with contextlib.suppress(Exception):  # a refused socket may be closed before the ping goes out
        await client.send({"op": "ping", "ref": "admitted"})
    frame = await client.wait_for(lambda f: f["op"] in ("pong", "error"))
    if frame["op"] == "pong":
        return client
    assert frame["code"] == "too_many_connections", frame
    return await client.closed_with() or 0


async def admitted_before(
    stack: contextlib.AsyncExitStack, deadline: float, url: str, actor: Actor
) -> LiveClient:
    """Try to open a socket until one is admitted (kept open in ``stack``); fail past ``deadline``."""
    while True:
        attempt = contextlib.AsyncExitStack()
        got = await open_socket(attempt, url, actor)
        if isinstance(got, LiveClient):
            await stack.enter_async_context(attempt)
            return got
        await attempt.aclose()
        assert time.monotonic() < deadline, "no slot was freed in time"
        await asyncio.sleep(0.05)  # the poll's interval, not a synchronisation


async def test_defaults_cap_sockets_at_five_per_session_and_ten_per_user() -> None:
    defaults = Settings()
    assert (defaults.ws_connections_per_session, defaults.ws_connections_per_user) == (5, 10)


async def test_a_sixth_socket_on_one_session_is_refused_with_4029(single_site: Site) -> None:
    world: World = await single_site.world()
    url = single_site.servers[0].ws_url
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(5):
            assert isinstance(await open_socket(stack, url, world.teacher), LiveClient)
        assert await open_socket(stack, url, world.teacher) == REFUSED
        # Another sign-in of the same user still has room of its own.
        other = await world.sign_in(world.teacher.user)
        assert isinstance(await open_socket(stack, url, other), LiveClient)


async def test_an_eleventh_socket_of_one_user_is_refused_whatever_the_session(single_site: Site) -> None:
    world: World = await single_site.world()
    url = single_site.servers[0].ws_url
    sessions = [world.office, *[await world.sign_in(world.office.user) for _ in range(2)]]
    async with contextlib.AsyncExitStack() as stack:
        for index in range(10):
            assert isinstance(await open_socket(stack, url, sessions[index % 3]), LiveClient)
        for actor in sessions:
            assert await open_socket(stack, url, actor) == REFUSED
        # Other users are not affected.
        assert isinstance(await open_socket(stack, url, world.teacher), LiveClient)


async def test_the_session_cap_holds_across_processes(capped_site: Site) -> None:
    world: World = await capped_site.world()
    a, b = capped_site.servers
    async with contextlib.AsyncExitStack() as stack:
        assert isinstance(await open_socket(stack, a.ws_url, world.teacher), LiveClient)
        assert isinstance(await open_socket(stack, b.ws_url, world.teacher), LiveClient)
        assert await open_socket(stack, a.ws_url, world.teacher) == REFUSED
        assert await open_socket(stack, b.ws_url, world.teacher) == REFUSED


async def test_the_user_cap_holds_across_processes(capped_site: Site) -> None:
    world: World = await capped_site.world()
    a, b = capped_site.servers
    first, second = world.office, await world.sign_in(world.office.user)
    async with contextlib.AsyncExitStack() as stack:
        assert isinstance(await open_socket(stack, a.ws_url, first), LiveClient)
        assert isinstance(await open_socket(stack, b.ws_url, first), LiveClient)
        assert isinstance(await open_socket(stack, a.ws_url, second), LiveClient)
        assert await open_socket(stack, b.ws_url, second) == REFUSED
        third = await world.sign_in(world.office.user)
        assert await open_socket(stack, a.ws_url, third) == REFUSED


async def test_closing_a_socket_frees_its_slot_in_every_process(capped_site: Site) -> None:
    world: World = await capped_site.world()
    a, b = capped_site.servers
    async with contextlib.AsyncExitStack() as stack:
        leaving = await open_socket(stack, a.ws_url, world.teacher)
        assert isinstance(leaving, LiveClient)
        assert isinstance(await open_socket(stack, b.ws_url, world.teacher), LiveClient)
        assert await open_socket(stack, b.ws_url, world.teacher) == REFUSED
        await leaving.close()
        # Sooner than any slot could lapse: it was given back.
        await admitted_before(stack, time.monotonic() + TTL_SECONDS / 2, b.ws_url, world.teacher)
        assert await open_socket(stack, a.ws_url, world.teacher) == REFUSED


async def test_a_killed_process_frees_its_sockets_slots_within_the_ttl(
    capped_site: Site, tmp_path_factory: pytest.TempPathFactory
) -> None:
    world: World = await capped_site.world()
    a = capped_site.servers[0]
    doomed = start_server(dict(a.env), tmp_path_factory.mktemp("cap-doomed"))  # a third process
    try:
        await doomed.wait_ready()
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(PER_SESSION):
                assert isinstance(await open_socket(stack, doomed.ws_url, world.teacher), LiveClient)
            assert await open_socket(stack, a.ws_url, world.teacher) == REFUSED
            doomed.kill()  # no goodbye: its slots stay in Redis until they lapse
            killed_at = time.monotonic()
            await admitted_before(stack, killed_at + TTL_SECONDS * 3, a.ws_url, world.teacher)
    finally:
        doomed.kill()
