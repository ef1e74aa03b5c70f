"""One of two processes is killed (-9) mid-stream: its clients move to the other and get every event once.

The dead process may have published rows it never marked, and may hold leases on rows it
never published. The survivor's relay takes them over when the leases run out; the broker
ignores the ids it has already numbered, so nothing is lost and nothing arrives twice.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.db.models import OutboxEvent
from server.services import Services
from tests.factories import make_world
from tests.live.emitter import emit_events, payloads
from tests.live.servers import live_database, running_servers, shared_services, unique_prefix
from tests.live.test_redis_restart import Follower
from tests.services import redis_url

pytestmark = [pytest.mark.live, pytest.mark.slow]


async def wait_until_outbox_drained(services: Services, deadline: float = 30.0) -> None:
    """Poll until every committed event is marked published (nothing more can be sent)."""
    async with asyncio.timeout(deadline):
        while True:
            async with services.read() as session:
                unpublished = await session.scalar(
                    select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
                )
            if not unpublished:
                return
            await asyncio.sleep(0.1)


async def test_killed_process_clients_recover_every_event_on_the_other(tmp_path: Path) -> None:
    async with (
        live_database("postgresql", tmp_path) as url,
        shared_services(url, tmp_path) as services,
        running_servers(
            2, database_url=url, broker_url=redis_url(), data_dir=tmp_path, redis_prefix=unique_prefix()
        ) as (doomed, survivor),
    ):
        world = await make_world(services)
        channel = f"school:{world.school.id}"
        moving = Follower(doomed, world.teacher.token, channel)
        staying = Follower(survivor, world.office.token, channel)

        async def stream() -> None:
            for batch in range(12):
                await emit_events(services, channel, "report.created", payloads(5, batch * 5))
                await asyncio.sleep(0.02)

        try:
            await moving.wait_reports(0)
            await staying.wait_reports(0)
            streaming = asyncio.create_task(stream())
            await moving.wait_reports(10)
            doomed.kill()
            moving.server = survivor  # what a load balancer does for the reconnecting client
            await streaming
            await moving.wait_reports(60)
            await staying.wait_reports(60)
            await wait_until_outbox_drained(services)
            # A last event, published after everything else: a late duplicate would come before it.
            await emit_events(services, channel, "report.created", payloads(1, 60))
            await moving.wait_reports(61)
            await staying.wait_reports(61)
        finally:
            await moving.stop()
            await staying.stop()
        assert doomed.process.returncode == -9
        assert len(moving.answers) >= 2 and all(answer["recovered"] for answer in moving.answers[1:])
        for follower in (moving, staying):
            reports = follower.reports()
            assert sorted(reports) == list(range(61)), str(reports)  # each event exactly once
            assert reports[-1] == 60
            seqs = [event["seq"] for event in follower.events]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap in what the broker sent
