"""The live layer on plain uvicorn websocket implementations (the portable outlet, no frame extension)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import make_world
from tests.live.client import LiveClient
from tests.live.emitter import emit_events, number, payloads
from tests.live.servers import live_database, server_env, shared_services, start_server

pytestmark = pytest.mark.live


@pytest.mark.parametrize("ws", ["wsproto", "websockets-sansio"])
async def test_events_flow_in_order_on_plain_uvicorn(tmp_path: Path, ws: str) -> None:
    async with live_database("sqlite", tmp_path) as url, shared_services(url, tmp_path) as services:
        world = await make_world(services)
        env = server_env(database_url=url, broker_url="memory://", data_dir=tmp_path)
        server = start_server(env, tmp_path, ws=ws)
        try:
            await server.wait_ready()
            channel = f"school:{world.school.id}"
            async with LiveClient.connect(server.ws_url, world.teacher.token) as client:
                subbed = await client.subscribe(channel)
                await emit_events(services, channel, "report.created", payloads(30))
                events = await client.events(channel, 30)
                assert [number(e) for e in events] == list(range(30))
                assert [e["seq"] for e in events] == list(range(subbed["seq"] + 1, subbed["seq"] + 31))
                await client.send("{bad")
                assert (await client.wait_for(lambda f: f["op"] == "error"))["code"] == "bad_request"
            async with LiveClient.connect(server.ws_url, "no-such-token") as refused:
                assert await refused.closed_with() == 4001
        finally:
            await server.stop()
