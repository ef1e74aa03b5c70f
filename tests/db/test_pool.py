"""PostgreSQL's pool: its size per process, kept between bursts; idle connections checked; reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import engine as engine_module
from server.db.engine import Database
from tests.services import create_pg_database, drop_pg_database, postgres_admin_url


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test."""
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("HOMEROOM_TEST_DATABASE_URL=none: PostgreSQL tests disabled")
    url = await create_pg_database(admin_url)
    try:
        yield url
    finally:
        await drop_pg_database(admin_url, url)


@pytest.fixture
async def database(pg_url: str) -> AsyncIterator[Database]:
    db = Database(pg_url)
    try:
        yield db
    finally:
        await db.dispose()


async def _backend_pid(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_that_died_while_idle_is_replaced_without_an_error(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(database)
    other = await asyncpg.connect(database.url.replace("postgresql+asyncpg://", "postgresql://"))
    try:  # as a restart or a failover would
        assert await other.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await other.close()
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.0)  # as if it had sat idle for long
    assert await _backend_pid(database) != first


async def test_a_connection_handed_back_moments_ago_is_not_pinged_one_idle_for_long_is(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[int] = []
    real_ping = AsyncAdapt_asyncpg_connection.ping

    def counting_ping(self: AsyncAdapt_asyncpg_connection) -> None:
        pings.append(1)
        real_ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting_ping)
    await _backend_pid(database)  # a new connection is checked once
    assert len(pings) == 1
    for _ in range(3):
        await _backend_pid(database)
    assert len(pings) == 1
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.0)
    await _backend_pid(database)
    assert len(pings) == 2


async def test_a_process_opens_no_more_connections_than_it_is_allowed(pg_url: str) -> None:
    """``HOMEROOM_DATABASE_CONNECTIONS``: many processes must fit the server's ``max_connections``."""
    db = Database(pg_url, connections=3)
    try:

        async def hold(started: asyncio.Event, release: asyncio.Event) -> int:
            async with db.session() as session:
                pid = int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
                started.set()
                await release.wait()
                return pid

        release = asyncio.Event()
        starts = [asyncio.Event() for _ in range(5)]
        holders = [asyncio.create_task(hold(started, release)) for started in starts]
        await asyncio.wait_for(asyncio.gather(*(started.wait() for started in starts[:3])), 10)
        assert sum(started.is_set() for started in starts) == 3  # the other two wait their turn
        release.set()
        pids = await asyncio.wait_for(asyncio.gather(*holders), 10)
        assert len(set(pids)) <= 3
        pool = db.engine.sync_engine.pool
        assert pool.size() + pool._max_overflow == 3  # type: ignore[attr-defined]
    finally:
        await db.dispose()


async def test_connections_a_burst_opened_stay_open_for_the_next(database: Database) -> None:
    """Beyond ten at once, connections used to be closed when handed back and opened again."""
    ready = asyncio.Barrier(15)

    async def hold() -> int:
        async with database.session() as session:
            pid = int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            await ready.wait()  # fifteen sessions open together
            return pid

    first = set(await asyncio.wait_for(asyncio.gather(*(hold() for _ in range(15))), 10))
    second = set(await asyncio.wait_for(asyncio.gather(*(hold() for _ in range(15))), 10))
    assert len(first) == 15 and second == first


async def test_a_read_runs_outside_a_transaction(database: Database) -> None:
    """No BEGIN and ROLLBACK around a read: each statement is its own, as READ COMMITTED sees it anyway."""

    async def clock_moves(session: AsyncSession) -> bool:  # now() is the transaction's start
        first = (await session.execute(text("SELECT now()"))).scalar_one()
        await session.execute(text("SELECT pg_sleep(0.01)"))
        return bool((await session.execute(text("SELECT now()"))).scalar_one() > first)

    async with database.read_session() as session:
        assert await clock_moves(session)
    async with database.session() as session:  # a write session keeps its transaction
        assert not await clock_moves(session)
