"""Messages over real servers and real websockets (P5, P7, P8, P9, P10, P13).

Two ``python -m server serve`` processes share PostgreSQL and Redis: what is sent
through one reaches the recipient connected to the other, a held message is
released exactly once although both processes run the release job, and a
suspension closes the user's connections on both. One in-process uvicorn server
with the injected clock shows the Friday-evening message reaching the teacher
live at Monday 08:00.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from server.app import create_app
from server.db.migrate import upgrade
from server.db.models import DEFAULT_WORKING_HOURS, JobLease, Message, OutboxEvent
from server.services import Services
from tests.conftest import Clock, make_settings
from tests.factories import Actor, World, make_world
from tests.live.client import LiveClient
from tests.live.servers import (
    LiveServer,
    free_port,
    live_database,
    running_servers,
    shared_services,
    unique_prefix,
)
from tests.messaging.conftest import FRIDAY_EVENING, MONDAY_OPENING, WEDNESDAY_MORNING
from tests.services import redis_url

pytestmark = pytest.mark.live

EVENT_WAIT = 10.0


@dataclass
class Cluster:
    """Two server processes and in-process services on their database (for factories)."""

    a: LiveServer
    b: LiveServer
    services: Services


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    tmp = tmp_path_factory.mktemp("messaging-cluster")
    async with (
        live_database("postgresql", tmp) as url,
        running_servers(
            2, database_url=url, broker_url=redis_url(), data_dir=tmp, redis_prefix=unique_prefix()
        ) as (a, b),
        shared_services(url, tmp) as services,
    ):
        yield Cluster(a, b, services)


async def _post(
    server: LiveServer, actor: Actor, path: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.http_url, headers=actor.headers, timeout=10) as client:
        return await client.post(path, json=body or {})


async def _family(world: World, name: str = "Sam") -> tuple[Actor, Actor]:
    return await world.add_family(name)


async def _conversation(server: LiveServer, world: World, pupil: Actor, parent: Actor) -> int:
    assert pupil.student is not None
    reply = await _post(
        server, parent, "/api/conversations", {"student_id": pupil.student.id, "staff_id": world.teacher.id}
    )
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


def _is_event(type_: str, channel: str) -> Any:
    return lambda f: f.get("op") == "event" and f.get("type") == type_ and f.get("channel") == channel


def _events(client: LiveClient, type_: str) -> list[dict[str, Any]]:
    return [f for f in client.frames if f.get("op") == "event" and f.get("type") == type_]


def _midday_zone() -> str:
    """A fixed-offset time zone where it is about midday now, far from any day boundary."""
    offset = 12 - datetime.now(UTC).hour  # -11 … +12
    return "Etc/GMT" + (f"-{offset}" if offset > 0 else f"+{-offset}") if offset else "Etc/GMT"


async def _always_working(world: World) -> None:
    """Working hours every day, around the school's (shifted) midday: nothing is held."""
    await world.update_school(
        timezone=_midday_zone(), working_hours={day: ["08:00", "17:00"] for day in DEFAULT_WORKING_HOURS}
    )


async def test_p13_a_message_sent_on_one_process_reaches_the_recipient_on_the_other(cluster: Cluster) -> None:
    world = await make_world(cluster.services)
    await _always_working(world)
    pupil, parent = await _family(world)
    conversation = await _conversation(cluster.a, world, pupil, parent)
    outsider = await world.add_user("parent")
    async with (
        LiveClient.connect(cluster.b.ws_url, world.teacher.token) as teacher,
        LiveClient.connect(cluster.a.ws_url, parent.token) as parent_phone,
        LiveClient.connect(cluster.b.ws_url, parent.token) as parent_laptop,
        LiveClient.connect(cluster.a.ws_url, pupil.token) as child,
        LiveClient.connect(cluster.b.ws_url, outsider.token) as other,
    ):
        for client, actor in ((teacher, world.teacher), (parent_phone, parent), (parent_laptop, parent)):
            assert (await client.subscribe(f"user:{actor.id}"))["op"] == "subbed"
        assert (await child.subscribe(f"user:{pupil.id}"))["op"] in ("subbed", "error")
        assert (await other.subscribe(f"user:{outsider.id}"))["op"] == "subbed"
        # Nobody may listen to another user's messages (P13).
        assert (await other.subscribe(f"user:{parent.id}"))["op"] == "error"

        sent = await _post(
            cluster.a, parent, f"/api/conversations/{conversation}/messages", {"text": "Hello!"}
        )
        assert sent.status_code == 201
        message_id = sent.json()["id"]
        got = await teacher.wait_for(_is_event("message.created", f"user:{world.teacher.id}"), EVENT_WAIT)
        assert got["data"]["message"]["id"] == message_id and got["data"]["message"]["text"] == "Hello!"
        for device in (parent_phone, parent_laptop):  # every device of the sender
            own = await device.wait_for(_is_event("message.created", f"user:{parent.id}"), EVENT_WAIT)
            assert own["data"]["message"]["id"] == message_id

        read = await _post(
            cluster.b, world.teacher, f"/api/conversations/{conversation}/read", {"message_id": message_id}
        )
        assert read.status_code == 200
        receipt = await parent_phone.wait_for(_is_event("message.read", f"user:{parent.id}"), EVENT_WAIT)
        assert receipt["data"] == {
            "conversation_id": conversation,
            "message_id": message_id,
            "reader_id": world.teacher.id,
        }

        reply = await _post(
            cluster.b, world.teacher, f"/api/conversations/{conversation}/messages", {"text": "Hi!"}
        )
        back = await parent_phone.wait_for(_is_event("message.created", f"user:{parent.id}"), EVENT_WAIT)
        assert back["data"]["message"]["id"] == reply.json()["id"]

        # P5: the pupil's connection never carries a message event; P13: nor does a stranger's.
        await asyncio.sleep(0.5)
        for client in (child, other):
            assert not [f for f in client.frames if str(f.get("type", "")).startswith("message.")]


async def test_p8_p9_office_copies_and_reports_reach_staff_live(cluster: Cluster) -> None:
    world = await make_world(cluster.services)
    await _always_working(world)
    await world.update_school(office_phone="01632 960123")
    pupil, parent = await _family(world)
    conversation = await _conversation(cluster.a, world, pupil, parent)
    staff_channel = f"school:{world.school.id}:staff"
    async with (
        LiveClient.connect(cluster.b.ws_url, world.office.token) as office,
        LiveClient.connect(cluster.a.ws_url, world.admin.token) as admin,
        LiveClient.connect(cluster.a.ws_url, parent.token) as parent_phone,
    ):
        assert (await office.subscribe(staff_channel))["op"] == "subbed"
        assert (await admin.subscribe(staff_channel))["op"] == "subbed"
        assert (await parent_phone.subscribe(f"user:{parent.id}"))["op"] == "subbed"
        assert (await parent_phone.subscribe(staff_channel))["op"] == "error"

        sick = await _post(
            cluster.a,
            parent,
            f"/api/conversations/{conversation}/messages",
            {"text": "Sam is off sick today with a temperature"},
        )
        copy = await office.wait_for(_is_event("office.message", staff_channel), EVENT_WAIT)
        assert (
            copy["data"]["message"]["id"] == sick.json()["id"]
            and copy["data"]["message"]["topic"] == "sickness"
        )
        notice = await parent_phone.wait_for(
            lambda f: _is_event("message.created", f"user:{parent.id}")(f) and f["data"]["message"]["system"],
            EVENT_WAIT,
        )
        assert "01632 960123" in notice["data"]["message"]["text"]

        rude = await _post(
            cluster.a, parent, f"/api/conversations/{conversation}/messages", {"text": "You are useless"}
        )
        report = await _post(
            cluster.b, world.teacher, f"/api/messages/{rude.json()['id']}/report", {"reason": "Abusive"}
        )
        assert report.status_code == 201
        created = await admin.wait_for(_is_event("report.created", staff_channel), EVENT_WAIT)
        assert created["data"]["report"]["id"] == report.json()["id"]


async def test_p10_suspension_closes_the_users_connections_on_every_process(cluster: Cluster) -> None:
    world = await make_world(cluster.services)
    _, parent = await _family(world)
    async with (
        LiveClient.connect(cluster.a.ws_url, parent.token) as on_a,
        LiveClient.connect(cluster.b.ws_url, parent.token) as on_b,
    ):
        for client in (on_a, on_b):
            assert (await client.subscribe(f"user:{parent.id}"))["op"] == "subbed"
        started = time.monotonic()
        reply = await _post(cluster.a, world.admin, f"/api/users/{parent.id}/suspend", {"reason": "Abusive"})
        assert reply.status_code == 200
        codes = await asyncio.gather(on_a.closed_with(5), on_b.closed_with(5))
        assert codes == [4003, 4003]
        assert time.monotonic() - started < 2.0
    async with httpx.AsyncClient(base_url=cluster.b.http_url, timeout=10) as client:
        login = await client.post(
            "/api/auth/login", json={"email": parent.user.email, "password": "correct-horse-battery"}
        )
    assert login.status_code == 403 and login.json()["error"]["code"] == "suspended"


async def test_p7_two_processes_release_a_held_message_exactly_once(cluster: Cluster) -> None:
    world = await make_world(cluster.services)
    # Around midday on a closure day, open every other day: a message now is held until tomorrow.
    zone = _midday_zone()
    today = datetime.now(UTC).astimezone(ZoneInfo(zone)).date()
    await world.update_school(
        timezone=zone,
        working_hours={day: ["08:00", "17:00"] for day in DEFAULT_WORKING_HOURS},
        closure_days=[today.isoformat()],
    )
    pupil, parent = await _family(world)
    conversation = await _conversation(cluster.a, world, pupil, parent)
    channel = f"user:{world.teacher.id}"
    async with (
        LiveClient.connect(cluster.a.ws_url, world.teacher.token) as teacher_a,
        LiveClient.connect(cluster.b.ws_url, world.teacher.token) as teacher_b,
    ):
        for client in (teacher_a, teacher_b):
            assert (await client.subscribe(channel))["op"] == "subbed"
        sent = await _post(
            cluster.a, parent, f"/api/conversations/{conversation}/messages", {"text": "Late thought"}
        )
        assert sent.json()["delivery"] == "held_quiet_hours"
        message_id = sent.json()["id"]
        await asyncio.sleep(0.5)
        assert _events(teacher_a, "message.created") == [] and _events(teacher_b, "message.created") == []

        # The working period begins: both processes' release jobs see it due.
        async with cluster.services.transaction() as session:
            await session.execute(
                update(Message).where(Message.id == message_id).values(held_until=datetime.now(UTC))
            )
        for client in (teacher_a, teacher_b):
            got = await client.wait_for(_is_event("message.created", channel), 15)
            assert got["data"]["message"]["id"] == message_id
        released_at = datetime.now(UTC)
        # Let the release job tick again at least once (in either process), then count.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            async with cluster.services.read() as session:
                last = await session.scalar(
                    select(JobLease.last_run_at).where(JobLease.name == "release_held_messages")
                )
            if last is not None and last > released_at + timedelta(seconds=1):
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the release job did not tick again")
        await asyncio.sleep(0.3)
        assert [e["data"]["message"]["id"] for e in _events(teacher_a, "message.created")] == [message_id]
        assert [e["data"]["message"]["id"] for e in _events(teacher_b, "message.created")] == [message_id]
        async with cluster.services.read() as session:
            rows = await session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.channel == channel, OutboxEvent.type == "message.created")
            )
        assert rows == 1


@pytest.fixture
async def clocked_server(tmp_path: Path, clock: Clock) -> AsyncIterator[tuple[str, Starlette]]:
    """A real uvicorn server in this process, on the injected clock (memory broker, SQLite)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'clocked.db'}"
    await asyncio.to_thread(upgrade, url)
    app = create_app(make_settings(tmp_path, url), clock=clock)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, ws="wsproto", lifespan="on", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 15
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError("the in-process server did not start")
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        await task


async def test_p7_friday_evening_message_reaches_the_teacher_live_at_monday_0800(
    clocked_server: tuple[str, Starlette], clock: Clock
) -> None:
    address, app = clocked_server
    services: Services = app.state.services
    world = await make_world(services)
    pupil, parent = await _family(world)
    assert pupil.student is not None
    clock.set(WEDNESDAY_MORNING)
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as http:
        started = await http.post(
            "/api/conversations",
            json={"student_id": pupil.student.id, "staff_id": world.teacher.id},
            headers=parent.headers,
        )
        conversation = started.json()["id"]
        channel = f"user:{world.teacher.id}"
        async with (
            LiveClient.connect(f"ws://{address}/ws", world.teacher.token) as teacher,
            LiveClient.connect(f"ws://{address}/ws", parent.token) as parent_phone,
        ):
            assert (await teacher.subscribe(channel))["op"] == "subbed"
            assert (await parent_phone.subscribe(f"user:{parent.id}"))["op"] == "subbed"
            clock.set(FRIDAY_EVENING)
            sent = await http.post(
                f"/api/conversations/{conversation}/messages",
                json={"text": "Is there PE on Monday?"},
                headers=parent.headers,
            )
            message_id = sent.json()["id"]
            notice = await parent_phone.wait_for(
                lambda f: (
                    _is_event("message.created", f"user:{parent.id}")(f) and f["data"]["message"]["system"]
                ),
                EVENT_WAIT,
            )
            assert "Monday 08:00" in notice["data"]["message"]["text"]
            await services.jobs.run_once("release_held_messages")
            await asyncio.sleep(0.3)
            assert _events(teacher, "message.created") == []

            clock.set(MONDAY_OPENING)
            await services.jobs.run_once("release_held_messages")
            got = await teacher.wait_for(_is_event("message.created", channel), EVENT_WAIT)
            assert got["data"]["message"]["id"] == message_id
            assert got["data"]["message"]["text"] == "Is there PE on Monday?"
            released = await parent_phone.wait_for(
                _is_event("message.released", f"user:{parent.id}"), EVENT_WAIT
            )
            assert released["data"]["message"]["id"] == message_id
