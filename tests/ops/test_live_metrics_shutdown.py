"""A real server process: its /metrics count live traffic, and SIGTERM drains it gracefully."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.factories import make_world
from tests.live.client import LiveClient
from tests.live.emitter import emit_events, payloads
from tests.live.servers import live_database, running_servers, shared_services

pytestmark = pytest.mark.live


def sample(text: str, name: str) -> float:
    """The value of one unlabelled series in Prometheus text."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


async def test_metrics_of_a_real_server_count_connections_subscriptions_and_deliveries(
    tmp_path: Path,
) -> None:
    async with (
        live_database("sqlite", tmp_path) as url,
        shared_services(url, tmp_path) as services,
        running_servers(1, database_url=url, broker_url="memory://", data_dir=tmp_path) as (server,),
    ):
        world = await make_world(services)
        channel = f"school:{world.school.id}:staff"
        async with (
            LiveClient.connect(server.ws_url, world.teacher.token) as client,
            httpx.AsyncClient(base_url=server.http_url) as http,
        ):
            await client.subscribe(channel)
            await emit_events(services, channel, "report.created", payloads(3))
            await client.events(channel, 3)
            text = (await http.get("/metrics")).text
        assert sample(text, "homeroom_ws_connections") == 1
        assert sample(text, "homeroom_ws_subscriptions") >= 1
        assert sample(text, "homeroom_events_published_total") >= 3
        assert sample(text, "homeroom_events_delivered_total") >= 3
        assert sample(text, "homeroom_event_delivery_seconds_count") >= 3
        assert sample(text, "homeroom_ws_slow_client_closes_total") == 0
        assert sample(text, "homeroom_translation_queue_depth") == 0
        assert "# TYPE homeroom_translation_seconds histogram" in text


async def _slow_body(started: asyncio.Event, release: asyncio.Event) -> AsyncIterator[bytes]:
    yield b'{"email": "nobody@example.org", '
    started.set()
    await release.wait()
    yield b'"password": "not the password"}'


async def test_sigterm_closes_websockets_with_1012_and_finishes_in_flight_requests(tmp_path: Path) -> None:
    async with (
        live_database("sqlite", tmp_path) as url,
        shared_services(url, tmp_path) as services,
        running_servers(1, database_url=url, broker_url="memory://", data_dir=tmp_path) as (server,),
    ):
        world = await make_world(services)
        started, release = asyncio.Event(), asyncio.Event()
        async with (
            LiveClient.connect(server.ws_url, world.teacher.token) as client,
            httpx.AsyncClient(base_url=server.http_url, timeout=15) as http,
        ):
            await client.subscribe(f"school:{world.school.id}")
            in_flight = asyncio.create_task(
                http.post(
                    "/api/auth/login",
                    content=_slow_body(started, release),
                    headers={"content-type": "application/json"},
                )
            )
            await asyncio.wait_for(started.wait(), 5)
            server.process.send_signal(signal.SIGTERM)
            assert await client.closed_with(deadline=8) == 1012
            release.set()
            response = await in_flight
            assert response.status_code == 401
            assert response.json()["error"]["code"]
            code = await asyncio.to_thread(server.process.wait, 15)
        assert code == 0
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(base_url=server.http_url, timeout=2) as again:
                await again.get("/healthz")
