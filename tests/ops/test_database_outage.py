"""PostgreSQL unreachable for a few seconds: 503 in the API.md shape, nothing half-written, recovery.

The server reaches the machine's PostgreSQL through a small TCP proxy run by the test; stopping
the proxy (and cutting its open connections) is the outage, restarting it is the recovery.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from server.db.models import Conversation, OutboxEvent
from tests.factories import make_world
from tests.live.client import LiveClient
from tests.live.proxy import TcpProxy
from tests.live.servers import live_database, running_servers, shared_services

pytestmark = [pytest.mark.live, pytest.mark.slow]


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "unavailable" and error["message"]


async def test_database_outage_gives_503_changes_nothing_and_recovers(tmp_path: Path) -> None:
    async with live_database("postgresql", tmp_path) as url:
        direct = make_url(url)
        proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432)
        await proxy.start()
        proxied = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        async with (
            contextlib.AsyncExitStack() as stack,
            shared_services(url, tmp_path) as services,
            running_servers(1, database_url=proxied, broker_url="memory://", data_dir=tmp_path) as (server,),
            httpx.AsyncClient(base_url=server.http_url, timeout=15) as http,
        ):
            world = await make_world(services)
            pupil = await world.add_student(world.classes[0])
            parent = await world.add_parent(pupil)
            assert pupil.student is not None
            start = {"student_id": pupil.student.id, "staff_id": world.teacher.id}
            assert (await http.get("/api/me", headers=parent.headers)).status_code == 200
            live = await stack.enter_async_context(LiveClient.connect(server.ws_url, parent.token))
            class_channel = f"class:{world.classes[0].id}"

            await proxy.stop()
            # A live subscription cannot be checked: the socket is told to ask again, not dropped.
            refused = await live.subscribe(class_channel)
            assert (refused["op"], refused["code"]) == ("error", "unavailable"), refused
            assert_unavailable(await http.get("/readyz"))
            assert (await http.get("/readyz")).json()["error"]["details"]["failed"]["database"]
            assert_unavailable(await http.get("/api/me", headers=parent.headers))
            assert_unavailable(await http.post("/api/conversations", json=start, headers=parent.headers))
            assert (await http.get("/healthz")).status_code == 200
            async with services.read() as session:
                assert await session.scalar(select(func.count()).select_from(Conversation)) == 0
                assert await session.scalar(select(func.count()).select_from(OutboxEvent)) == 0

            await proxy.start()
            end = time.monotonic() + 15
            while (await http.get("/readyz")).status_code != 200:
                assert time.monotonic() < end, "not ready again after the database came back"
                await asyncio.sleep(0.1)
            assert (await http.get("/api/me", headers=parent.headers)).status_code == 200
            created = await http.post("/api/conversations", json=start, headers=parent.headers)
            assert created.status_code == 201, created.text
            assert (await live.subscribe(class_channel))["op"] == "subbed"
            assert live.close_code is None
        await proxy.stop()
        assert " 500 " not in server.log()
