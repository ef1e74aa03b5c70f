"""The Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from server.db.engine import create_engine
from server.db.migrate import upgrade
from server.db.models import Base
from tests.services import create_pg_database, drop_pg_database, postgres_admin_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a brand-new, empty database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("HOMEROOM_TEST_DATABASE_URL=none: PostgreSQL tests disabled")
    url = await create_pg_database(admin_url)
    try:
        yield url
    finally:
        await drop_pg_database(admin_url, url)


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _run(url: str, work: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


async def test_migrations_build_exactly_the_models_schema(empty_database: str) -> None:
    await asyncio.to_thread(upgrade, empty_database)
    assert await _run(empty_database, _differences) == []
    assert await _run(empty_database, _tables) == {*Base.metadata.tables, "alembic_version"}


async def test_migrating_twice_changes_nothing(empty_database: str) -> None:
    await asyncio.to_thread(upgrade, empty_database)
    await asyncio.to_thread(upgrade, empty_database)
    assert await _run(empty_database, _differences) == []


def test_migrate_command_is_idempotent(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HOMEROOM_DATA_DIR": str(tmp_path),
        "HOMEROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    env.pop("HOMEROOM_SECRET_KEY", None)
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "server", "migrate"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "database is up to date" in done.stdout
    assert (tmp_path / "cli.db").exists()
