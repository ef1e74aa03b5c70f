"""Fixtures for live tests: real server processes sharing a database (and Redis) with the test.

``memory_site``: one server on SQLite with the ``memory://`` broker (the embedded default).
``redis_site``: two servers on PostgreSQL sharing the test Redis (a unique key prefix).
``redis_cluster``: a private Redis Cluster of 3 masters and 3 replicas, once per run.
Both are started once per module; each test builds its own school, so tests never share data.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from server.services import Services
from tests.factories import World, make_world
from tests.live.redis_cluster import LocalCluster, redis_major_version
from tests.live.servers import LiveServer, live_database, running_servers, shared_services, unique_prefix
from tests.services import redis_url

pytestmark = pytest.mark.live

MEMORY_HISTORY = 60
MEMORY_IDLE_SECONDS = 2


@dataclass
class Site:
    """Running servers and in-process services on the same database."""

    servers: list[LiveServer]
    services: Services
    database_url: str
    broker_url: str
    redis_prefix: str

    async def world(self) -> World:
        return await make_world(self.services)


@pytest.fixture(scope="module")
async def memory_site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    tmp = tmp_path_factory.mktemp("live-memory")
    extra = {
        "HOMEROOM_HISTORY_SIZE": str(MEMORY_HISTORY),
        "HOMEROOM_WS_QUEUE_BYTES": str(64 * 1024),
        "HOMEROOM_WS_IDLE_SECONDS": str(MEMORY_IDLE_SECONDS),
        # Some tests open hundreds of sockets as one user (tests/security checks the caps).
        "HOMEROOM_WS_CONNECTIONS_PER_SESSION": "1000",
        "HOMEROOM_WS_CONNECTIONS_PER_USER": "1000",
    }
    async with (
        live_database("sqlite", tmp) as url,
        shared_services(url, tmp) as services,
        running_servers(1, database_url=url, broker_url="memory://", data_dir=tmp, extra=extra) as found,
    ):
        yield Site(found, services, url, "memory://", "")


@pytest.fixture(scope="module")
async def redis_site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    tmp = tmp_path_factory.mktemp("live-redis")
    prefix = unique_prefix()
    broker = redis_url()
    async with live_database("postgresql", tmp) as url, shared_services(url, tmp) as services:
        extra = {"HOMEROOM_CODE_ATTEMPTS_PER_MINUTE": "10000"}
        async with running_servers(
            2, database_url=url, broker_url=broker, data_dir=tmp, redis_prefix=prefix, extra=extra
        ) as found:
            yield Site(found, services, url, broker, prefix)


async def announce_access_changed(site: Site, user_id: int) -> None:
    """What ``services.access_changed`` does in a server: a control message to every process."""
    from server.channels.broker_redis import RedisBroker

    broker = RedisBroker(site.broker_url, site.redis_prefix, 10, 60)
    await broker.start()
    try:
        await broker.control({"kind": "access", "user_id": user_id})
    finally:
        await broker.stop()


@pytest.fixture(scope="session")
async def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalCluster]:
    """A private Redis Cluster (3 masters, 3 replicas) for the whole run; stopped at the end."""
    major = await asyncio.to_thread(redis_major_version)
    if major is None or major < 7:
        pytest.skip("the Redis Cluster tests need redis-server 7 or newer (sharded pub/sub)")
    cluster = LocalCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.stop()
