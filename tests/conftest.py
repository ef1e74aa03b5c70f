"""Shared fixtures: the app on SQLite and PostgreSQL, an HTTP client, a controllable clock.

API tests take the ``api`` fixture and run once per database backend. Each test
builds its own school with :func:`tests.factories.make_world`, so tests share a
database without sharing data.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.db.migrate import upgrade
from server.services import Services
from server.settings import Settings
from server.timeutil import utcnow
from tests.factories import World, make_world
from tests.services import create_pg_database, drop_pg_database, postgres_admin_url

# The translation tests' engines and apps, shared with the tests of stored translations and reports.
pytest_plugins = ["tests.translation.fixtures"]

BACKENDS = ["sqlite", "postgresql"]


class Clock:
    """Real time unless a test sets it; ``advance`` moves a set clock forward."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or utcnow()

    def set(self, when: datetime) -> None:
        self.fixed = when

    def advance(self, **delta: float) -> None:
        self.fixed = (self.fixed or utcnow()) + timedelta(**delta)


class Pauses:
    """Stands in for ``asyncio.sleep`` in sign-in throttling: records each delay, waits for none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture(scope="session")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def pauses() -> Pauses:
    return Pauses()


@pytest.fixture(autouse=True)
def _reset_pauses(pauses: Pauses) -> None:
    pauses.delays.clear()


@pytest.fixture(autouse=True)
def _reset_clock(clock: Clock) -> None:
    clock.fixed = None


def make_settings(tmp: Path, database_url: str, **overrides: object) -> Settings:
    return Settings(
        data_dir=tmp,
        database_url=database_url,
        media_dir=tmp / "media",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        translation_engines=(),
        # Argos package uploads: small enough for the oversize-body tests to send.
        **{"max_package_bytes": 3 * 1024 * 1024, **overrides},  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session", params=BACKENDS)
async def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, clock: Clock, pauses: Pauses
) -> AsyncIterator[Starlette]:
    """The app, started, on one database backend (a fresh database per test run)."""
    backend: str = request.param
    tmp = tmp_path_factory.mktemp(backend)
    admin_url = postgres_admin_url()
    if backend == "postgresql":
        if admin_url is None:
            pytest.skip("HOMEROOM_TEST_DATABASE_URL=none: PostgreSQL tests disabled")
        url = await create_pg_database(admin_url)
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'homeroom.db'}"
    await asyncio.to_thread(upgrade, url)
    application = create_app(make_settings(tmp, url), clock=clock, sleep=pauses)
    async with application.router.lifespan_context(application):
        yield application
    if backend == "postgresql" and admin_url is not None:
        await drop_pg_database(admin_url, url)


@pytest.fixture
def services(app: Starlette) -> Services:
    return app.state.services  # type: ignore[no-any-return]


_ips = itertools.count(1)


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, from its own client address (so rate limits are per test)."""
    n = next(_ips)
    transport = httpx.ASGITransport(
        app=app, client=(f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}", 5000)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def world(services: Services) -> World:
    """A fresh school with staff and one class."""
    return await make_world(services)
