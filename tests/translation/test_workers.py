"""The scaled-out shape: Redis stream, two ``python -m server worker`` processes, one killed mid-job.

Every job still completes: the survivor claims (XAUTOCLAIM) what the dead worker
had read but not acknowledged, and stops cleanly on SIGTERM. PostgreSQL is shared by all
processes, as in production.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from server.app import create_app
from server.db.migrate import upgrade
from server.db.models import OutboxEvent, Post
from server.services import Services
from server.settings import Settings
from server.translation.pipeline import Pipeline
from tests.factories import make_world
from tests.services import create_pg_database, drop_pg_database, postgres_admin_url, redis_url
from tests.translation.fixtures import ARGOS_LANG, ROOT, needs_apertium, needs_argos

pytestmark = [needs_argos, needs_apertium]
SECRET = "worker-test-secret-key-that-is-long-enough-0123456789"
# Guards against a hang, not limits on speed: a few times what each step takes on a loaded
# two-core machine (a worker starts in ~5 s; the 160 translations arrive in ~15 s).
STARTUP_GUARD = 60
PICKUP_GUARD = 30
COMPLETION_GUARD = 150
STOP_GUARD = 30


@pytest.fixture
async def database() -> AsyncIterator[str]:
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("HOMEROOM_TEST_DATABASE_URL=none: PostgreSQL tests disabled")
    url = await create_pg_database(admin_url)
    await asyncio.to_thread(upgrade, url)
    yield url
    await drop_pg_database(admin_url, url)


async def start_worker(env: dict[str, str]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "worker",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), STARTUP_GUARD)
    assert b"translation worker ready" in line, line
    return process


async def test_killing_a_worker_mid_job_still_completes_every_translation(
    database: str, argos_data_dir: Path, tmp_path: Path
) -> None:
    prefix = f"homeroom-test-{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "HOMEROOM_DATABASE_URL": database,
        "HOMEROOM_BROKER_URL": redis_url(),
        "HOMEROOM_REDIS_PREFIX": prefix,
        "HOMEROOM_DATA_DIR": str(argos_data_dir),
        "HOMEROOM_SECRET_KEY": SECRET,
        "HOMEROOM_TRANSLATION_ENGINES": "argos,apertium",
        "HOMEROOM_TRANSLATION_JOBS": "2",
        "HOMEROOM_TRANSLATION_CLAIM_SECONDS": "1",
        "HOMEROOM_LOG_JSON": "0",
    }
    redis = Redis.from_url(redis_url())
    workers = list(await asyncio.gather(start_worker(env), start_worker(env)))
    settings = Settings(
        data_dir=argos_data_dir,
        database_url=database,
        broker_url=redis_url(),
        redis_prefix=prefix,
        secret_key=SECRET,
        translation_engines=("argos", "apertium"),
        media_dir=tmp_path / "media",
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            services: Services = app.state.services
            pipeline: Pipeline = services.translation.pipeline
            world = await make_world(services)
            count = 80
            async with services.transaction() as session:
                posts = [
                    Post(
                        school_id=world.school.id,
                        scope="school",
                        text=f"Tomorrow is sports day {n}. Bring a hat.",
                        lang="en",
                    )
                    for n in range(count)
                ]
                session.add_all(posts)
            ids = [post.id for post in posts]
            for post in posts:
                await pipeline.request_translations("post", post.id, post.text, "en", {"es", ARGOS_LANG})

            stream, group = f"{prefix}:translation:jobs", "translators"
            victim = f"{socket.gethostname()}-{workers[0].pid}-"

            async def victim_pending() -> int:
                info = await redis.xpending(stream, group)
                return sum(
                    int(c["pending"]) for c in info["consumers"] if c["name"].decode().startswith(victim)
                )

            deadline = time.monotonic() + PICKUP_GUARD
            while await victim_pending() == 0:
                assert time.monotonic() < deadline, "the first worker never picked up a job"
                await asyncio.sleep(0.005)
            workers[0].send_signal(signal.SIGKILL)
            await workers[0].wait()
            left_behind = await victim_pending()

            async def delivered() -> set[tuple[int, str]]:
                async with services.read() as session:
                    rows = await session.scalars(
                        select(OutboxEvent).where(OutboxEvent.type == "post.translated")
                    )
                    return {(row.data["post_id"], row.data["lang"]) for row in rows.all()}

            wanted = {(post_id, lang) for post_id in ids for lang in ("es", ARGOS_LANG)}
            deadline = time.monotonic() + COMPLETION_GUARD
            while not wanted <= (found := await delivered()):
                assert time.monotonic() < deadline, (
                    f"{sorted(wanted - found)[:5]} {len(wanted - found)} translations never arrived"
                )
                await asyncio.sleep(0.05)
            assert left_behind > 0, "the killed worker held no job; nothing was claimed"
            assert await victim_pending() == 0
            assert await redis.xlen(stream) == 0
            # The survivor stops cleanly on SIGTERM.
            workers[1].send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(workers[1].wait(), STOP_GUARD) == 0
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(worker.wait(), STOP_GUARD)
                except TimeoutError:
                    worker.kill()
        keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
