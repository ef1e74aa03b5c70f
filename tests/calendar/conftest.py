"""Calendar tests run on an app like the notification tests' (a push worker the test drives, a local
push service), whose periodic jobs do not tick either: reminders run when a test runs them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from server.app import create_app, default_parts
from server.db.migrate import upgrade
from server.jobs import JobRunner
from server.notify.worker import PushWorker
from tests.conftest import BACKENDS, Clock, Pauses, make_settings
from tests.notify.conftest import push_service, smtp, worker
from tests.notify.smtp_server import SmtpServer
from tests.services import create_pg_database, drop_pg_database, postgres_admin_url

__all__ = ["app", "push_service", "smtp", "worker"]


@pytest.fixture(scope="session", params=BACKENDS)
async def app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    clock: Clock,
    pauses: Pauses,
    smtp: SmtpServer,
) -> AsyncIterator[Starlette]:
    """The app on one database backend; neither its push worker nor its job runner ticks."""
    backend: str = request.param
    tmp = tmp_path_factory.mktemp(f"calendar-{backend}")
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
        push_translation_wait_seconds=20.0,
        smtp_url=smtp.url,
        mail_from="office@school.test",
        public_url="http://testserver",
    )
    parts = [p for p in default_parts(settings) if not isinstance(p, PushWorker | JobRunner)]
    parts += [PushWorker(settings, ticking=False), JobRunner([])]
    application = create_app(settings, clock=clock, sleep=pauses, parts=parts)
    async with application.router.lifespan_context(application):
        yield application
    if backend == "postgresql" and admin_url is not None:
        await drop_pg_database(admin_url, url)
