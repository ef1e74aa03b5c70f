"""Stories and points live, as families use them: two server processes sharing PostgreSQL and Redis.

A teacher and two parents of one class, connected to different processes: the post reaches
both parents; a like reaches the teacher's staff channel with the liker's name within a
second, while the other parent sees only the count. A whole-class award reaches each
family as exactly its own child's award.

Written against the documented surface only (``python -m server serve``, ``GET /readyz``,
the ``/ws`` frames of API.md), so it runs the server as families would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.auth.ratelimit import MemoryRateLimiter
from server.db.engine import Database
from server.db.migrate import upgrade
from server.services import Services
from server.settings import Settings
from tests.factories import World, make_world
from tests.services import create_pg_database, drop_pg_database, postgres_admin_url, redis_url

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
SECRET = "stories-live-secret-key-that-is-long-enough-0123456789"
Frame = dict[str, Any]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One ``python -m server serve`` process."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def ready(self, deadline: float = 30.0) -> None:
        end = time.monotonic() + deadline
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < end:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited:\n{self.log.read_text(errors='replace')[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.http_url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"server not ready:\n{self.log.read_text(errors='replace')[-3000:]}")

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)


def _start(env: dict[str, str], tmp: Path) -> Server:
    port = _free_port()
    log = tmp / f"server-{port}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Server(port, process, log)


@dataclass
class Site:
    servers: list[Server]
    services: Services


@pytest.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    """Two servers on one PostgreSQL database and the test Redis (with a key prefix of their own)."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("HOMEROOM_TEST_DATABASE_URL=none: PostgreSQL tests disabled")
    tmp = tmp_path_factory.mktemp("stories-live")
    url = await create_pg_database(admin)
    db = Database(url)
    servers: list[Server] = []
    try:
        await asyncio.to_thread(upgrade, url)
        env = {key: value for key, value in os.environ.items() if not key.startswith("HOMEROOM_")}
        env.update(
            HOMEROOM_DATABASE_URL=url,
            HOMEROOM_BROKER_URL=redis_url(),
            HOMEROOM_REDIS_PREFIX=f"hrtest-{secrets.token_hex(5)}",
            HOMEROOM_DATA_DIR=str(tmp),
            HOMEROOM_SECRET_KEY=SECRET,
            HOMEROOM_TRANSLATION_ENGINES="none",
            HOMEROOM_LOG_JSON="0",
        )
        servers = [_start(env, tmp) for _ in range(2)]
        await asyncio.gather(*(server.ready() for server in servers))
        settings = Settings(data_dir=tmp, database_url=url, media_dir=tmp / "media", secret_key=SECRET)
        yield Site(servers, Services(settings=settings, db=db, limiter=MemoryRateLimiter()))
    finally:
        await asyncio.gather(*(server.stop() for server in servers), return_exceptions=True)
        await db.dispose()
        await drop_pg_database(admin, url)


@dataclass
class Live:
    """One ``/ws`` connection: every frame received is kept; ``wait_for`` finds the next match."""

    ws: ClientConnection
    frames: list[Frame] = field(default_factory=list)
    seen: int = 0
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    reader: asyncio.Task[None] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, token: str) -> AsyncIterator[Live]:
        async with connect(
            url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10
        ) as ws:
            live = cls(ws)
            live.reader = asyncio.create_task(live._read())
            try:
                yield live
            finally:
                live.reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await live.reader

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                async with self.arrived:
                    self.frames.append(json.loads(raw))
                    self.arrived.notify_all()

    async def wait_for(self, predicate: Callable[[Frame], bool], within: float = 5.0) -> Frame:
        """The next frame after those already matched that satisfies ``predicate`` (within seconds)."""
        async with asyncio.timeout(within), self.arrived:
            while True:
                for index in range(self.seen, len(self.frames)):
                    if predicate(self.frames[index]):
                        self.seen = index + 1
                        return self.frames[index]
                await self.arrived.wait()

    async def subscribe(self, channel: str) -> Frame:
        ref = secrets.token_hex(4)
        await self.ws.send(json.dumps({"op": "sub", "channel": channel, "ref": ref}))
        return await self.wait_for(lambda f: f.get("ref") == ref and f["op"] in ("subbed", "error"))


def _event(channel: str, type_: str) -> Callable[[Frame], bool]:
    return lambda f: f["op"] == "event" and f["channel"] == channel and f["type"] == type_


async def test_p3_post_and_likes_reach_teacher_and_parents_across_two_processes(site: Site) -> None:
    a, b = site.servers
    world: World = await make_world(site.services)
    amir = await world.add_student(world.classes[0], "Amir")
    maya = await world.add_student(world.classes[0], "Maya")
    liker = await world.add_parent(amir, name="Sara Khan")
    watcher = await world.add_parent(maya, name="Tom Ali")
    story, staff = f"class:{world.classes[0].id}", f"class:{world.classes[0].id}:staff"
    async with (
        Live.connect(a.ws_url, world.teacher.token) as teacher,
        Live.connect(a.ws_url, liker.token) as on_a,
        Live.connect(b.ws_url, watcher.token) as on_b,
        httpx.AsyncClient(base_url=b.http_url) as http_b,
        httpx.AsyncClient(base_url=a.http_url) as http_a,
    ):
        for client, channel in ((teacher, story), (teacher, staff), (on_a, story), (on_b, story)):
            assert (await client.subscribe(channel))["op"] == "subbed"
        refused = await on_b.subscribe(staff)
        assert refused["op"] == "error" and refused["code"] == "forbidden"

        created = await http_b.post(
            f"/api/classes/{world.classes[0].id}/posts",
            json={"text": "Tomorrow is PE day.", "student_ids": [amir.student.id]},  # type: ignore[union-attr]
            headers=world.teacher.headers,
        )
        assert created.status_code == 201
        post_id = created.json()["id"]
        for parent in (on_a, on_b):
            event = await parent.wait_for(_event(story, "post.created"), within=5)
            post = event["data"]["post"]
            assert post["id"] == post_id and post["original"] == {"text": "Tomorrow is PE day.", "lang": "en"}
            assert post["students"] == [{"id": amir.student.id, "name": "Amir"}]  # type: ignore[union-attr]

        started = time.monotonic()
        liked = await http_a.put(f"/api/posts/{post_id}/like", headers=liker.headers)
        assert liked.json() == {"like_count": 1, "liked": True}
        named = await teacher.wait_for(_event(staff, "post.liked"), within=1.0)
        assert time.monotonic() - started < 1.0
        assert named["data"] == {
            "post_id": post_id,
            "like_count": 1,
            "user": {"id": liker.id, "name": "Sara Khan"},
        }
        counted = await on_b.wait_for(_event(story, "post.liked"), within=2)
        assert counted["data"] == {"post_id": post_id, "like_count": 1}
        assert "Sara Khan" not in str(on_b.frames)


async def test_whole_class_award_reaches_each_family_as_its_own_childs_award_only(site: Site) -> None:
    a, b = site.servers
    world: World = await make_world(site.services)
    pupils = [await world.add_student(world.classes[0], f"Pupil{i}", "Smith") for i in range(30)]
    parents = [await world.add_parent(pupil) for pupil in pupils]
    school = f"school:{world.school.id}"
    async with AsyncExitStack() as stack:
        families = [
            await stack.enter_async_context(Live.connect((a, b)[i % 2].ws_url, parent.token))
            for i, parent in enumerate(parents)
        ]
        teacher = await stack.enter_async_context(Live.connect(b.ws_url, world.teacher.token))
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=a.http_url))
        for index, family in enumerate(families):
            own = pupils[index].student.id  # type: ignore[union-attr]
            assert (await family.subscribe(f"student:{own}"))["op"] == "subbed"
            assert (await family.subscribe(f"class:{world.classes[0].id}"))["op"] == "subbed"
            assert (await family.subscribe(school))["op"] == "subbed"
            other = pupils[(index + 1) % len(pupils)].student.id  # type: ignore[union-attr]
            assert (await family.subscribe(f"student:{other}"))["op"] == "error"
        assert (await teacher.subscribe(f"class:{world.classes[0].id}:staff"))["op"] == "subbed"

        awarded = await http.post(
            "/api/points",
            json={"class_id": world.classes[0].id, "skill_id": world.skills[0].id},
            headers=world.teacher.headers,
        )
        assert awarded.status_code == 201 and len(awarded.json()["awards"]) == 30
        # A school post after the award marks the end: once a family sees it, the award events are in.
        marker = await http.post(
            "/api/school/posts", json={"text": "Well done, everyone!"}, headers=world.admin.headers
        )
        assert marker.status_code == 201

        async def check(index: int, family: Live) -> None:
            own = pupils[index].student.id  # type: ignore[union-attr]
            event = await family.wait_for(_event(f"student:{own}", "points.awarded"), within=10)
            assert event["data"]["award"]["student"]["id"] == own and event["data"]["total"] == 1
            await family.wait_for(_event(school, "post.created"), within=10)
            assert len([f for f in family.frames if f.get("type") == "points.awarded"]) == 1

        await asyncio.gather(*(check(i, family) for i, family in enumerate(families)))
        board = [
            await teacher.wait_for(_event(f"class:{world.classes[0].id}:staff", "points.awarded"), within=10)
            for _ in pupils
        ]
        assert sorted(e["data"]["award"]["student"]["id"] for e in board) == sorted(
            p.student.id  # type: ignore[union-attr]
            for p in pupils
        )
