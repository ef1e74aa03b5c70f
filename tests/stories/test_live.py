"""Stories and points live, as families use them: two server processes sharing PostgreSQL and Redis.

A teacher and two parents of one class, connected to different processes: the post reaches
both parents; a like reaches the teacher's staff channel with the liker's name within a
second, while the other parent sees only the count. A whole-class award reaches each
family as exactly its own child's award.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest

from server.services import Services
from tests.factories import World, make_world
from tests.live import servers as live
from tests.live.client import Frame, LiveClient
from tests.services import redis_url

pytestmark = pytest.mark.live


@dataclass
class Site:
    servers: list[live.LiveServer]
    services: Services


@pytest.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    """Two servers on one PostgreSQL database and the test Redis (a key prefix of their own)."""
    tmp = tmp_path_factory.mktemp("stories-live")
    async with (
        live.live_database("postgresql", tmp) as url,
        live.shared_services(url, tmp) as services,
        live.running_servers(
            2, database_url=url, broker_url=redis_url(), data_dir=tmp, redis_prefix=live.unique_prefix()
        ) as servers,
    ):
        yield Site(servers, services)


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
        LiveClient.connect(a.ws_url, world.teacher.token) as teacher,
        LiveClient.connect(a.ws_url, liker.token) as on_a,
        LiveClient.connect(b.ws_url, watcher.token) as on_b,
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
            event = await parent.wait_for(_event(story, "post.created"), deadline=5)
            post = event["data"]["post"]
            assert post["id"] == post_id and post["original"] == {"text": "Tomorrow is PE day.", "lang": "en"}
            assert post["students"] == [{"id": amir.student.id, "name": "Amir"}]  # type: ignore[union-attr]

        started = time.monotonic()
        liked = await http_a.put(f"/api/posts/{post_id}/like", headers=liker.headers)
        assert liked.json() == {"like_count": 1, "liked": True}
        named = await teacher.wait_for(_event(staff, "post.liked"), deadline=1.0)
        assert time.monotonic() - started < 1.0
        assert named["data"] == {
            "post_id": post_id,
            "like_count": 1,
            "user": {"id": liker.id, "name": "Sara Khan"},
        }
        counted = await on_b.wait_for(_event(story, "post.liked"), deadline=2)
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
            await stack.enter_async_context(LiveClient.connect((a, b)[i % 2].ws_url, parent.token))
            for i, parent in enumerate(parents)
        ]
        teacher = await stack.enter_async_context(LiveClient.connect(b.ws_url, world.teacher.token))
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=a.http_url))
        for index, family in enumerate(families):
            own = pupils[index].student.id  # type: ignore[union-attr]
            assert (await family.subscribe(f"student:{own}"))["op"] == "subbed"
            assert (await family.subscribe(f"class:{world.classes[0].id}"))["op"] == "subbed"
            assert (await family.subscribe(school))["op"] == "subbed"
            other = pupils[(index + 1) % len(pupils)].student.id  # type: ignore[union-attr]
            assert (await family.subscribe(f"student:{other}"))["op"] == "error"
        await teacher.subscribe(f"class:{world.classes[0].id}:staff")

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

        async def check(index: int, family: LiveClient) -> None:
            own = pupils[index].student.id  # type: ignore[union-attr]
            event = await family.wait_for(_event(f"student:{own}", "points.awarded"), deadline=10)
            assert event["data"]["award"]["student"]["id"] == own and event["data"]["total"] == 1
            await family.wait_for(_event(school, "post.created"), deadline=10)
            awards = [f for f in family.frames if f.get("type") == "points.awarded"]
            assert len(awards) == 1

        await asyncio.gather(*(check(i, family) for i, family in enumerate(families)))
        board = await teacher.events(f"class:{world.classes[0].id}:staff", 30, deadline=10)
        assert sorted(e["data"]["award"]["student"]["id"] for e in board) == sorted(
            p.student.id  # type: ignore[union-attr]
            for p in pupils
        )
