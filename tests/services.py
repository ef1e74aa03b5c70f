"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per test run.

``HOMEROOM_TEST_DATABASE_URL`` names a PostgreSQL server (any database on it);
each run creates its own uniquely named database there and drops it at the end,
so parallel runs never see each other's rows.
"""

from __future__ import annotations

import os
import secrets

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def postgres_admin_url() -> str | None:
    """The configured PostgreSQL server, or None when tests must run without one."""
    url = os.environ.get("HOMEROOM_TEST_DATABASE_URL")
    if url == "none":
        return None
    return url or DEFAULT_PG


def redis_url() -> str:
    return os.environ.get("HOMEROOM_TEST_REDIS_URL") or DEFAULT_REDIS


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_pg_database(admin_url: str) -> str:
    """Create an empty uniquely named database; return its SQLAlchemy URL."""
    name = f"homeroom_t_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(_dsn(admin_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    conn = await asyncpg.connect(_dsn(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
