"""The app for notification tests: push allowed to the local push service, workers driven by the test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette

from server.app import create_app, default_parts
from server.db.migrate import upgrade
from server.notify.worker import PushWorker
from tests.conftest import BACKENDS, Clock, Pauses, make_settings
from tests.notify.push_service import PushService
from tests.notify.smtp_server import SmtpServer
from tests.services import create_pg_database, drop_pg_database, postgres_admin_url


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server, in-process, for every notification test."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
async def app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    clock: Clock,
    pauses: Pauses,
    smtp: SmtpServer,
) -> AsyncIterator[Starlette]:
    """The app on one database backend; its push worker does not tick (tests call it)."""
    backend: str = request.param
    tmp = tmp_path_factory.mktemp(f"notify-{backend}")
    admin_url = postgres_admin_url()
    if backend == "postgresql":
        if admin_url is None:
            pytest.skip("HOMEROOM_TEST_DATABASE_URL=none: PostgreSQL tests disabled")
        url = await create_pg_database(admin_url)
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'homeroom.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = make_settings(
        tmp,
        url,
        push_hosts=("127.0.0.1",),
        push_points_batch_seconds=180.0,
        push_translation_wait_seconds=20.0,
        smtp_url=smtp.url,
        mail_from="office@school.test",
        public_url="http://testserver",
    )
    parts = [p for p in default_parts(settings) if not isinstance(p, PushWorker)]
    parts.append(PushWorker(settings, ticking=False))
    application = create_app(settings, clock=clock, sleep=pauses, parts=parts)
    async with application.router.lifespan_context(application):
        yield application
    if backend == "postgresql" and admin_url is not None:
        await drop_pg_database(admin_url, url)


@pytest.fixture
def worker(app: Starlette) -> PushWorker:
    found: PushWorker = app.state.services.push
    return found


@pytest.fixture
async def push_service(worker: PushWorker) -> AsyncIterator[PushService]:
    assert worker.vapid is not None
    async with PushService(expected_key=worker.vapid.public_key) as service:
        yield service
