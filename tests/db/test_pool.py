"""PostgreSQL's pool: connections idle in the pool are checked before use, busy ones are not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from server.db import engine as engine_module
from server.db.engine import Database
from tests.services import create_pg_database, drop_pg_database, postgres_admin_url


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("HOMEROOM_TEST_DATABASE_URL=none: PostgreSQL tests disabled")
    url = await create_pg_database(admin_url)
    db = Database(url)
    try:
        yield db
    finally:
        await db.dispose()
        await drop_pg_database(admin_url, url)


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
