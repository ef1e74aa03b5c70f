"""A pupil moved to another class takes their guardians' access with them, at once, live included.

API.md "Guardians and leavers". The move is made through one process while the
guardians' sockets are open on the other.
"""

from __future__ import annotations

import httpx
import pytest

from tests.factories import World
from tests.live.client import LiveClient
from tests.security.live_access import Site, does_not_receive, lost, post_to_class, receives

pytestmark = pytest.mark.live


async def _move(http: httpx.AsyncClient, world: World, student_id: int, class_id: int) -> None:
    reply = await http.patch(
        f"/api/students/{student_id}", json={"class_id": class_id}, headers=world.admin.headers
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["class_id"] == class_id


async def test_a_moved_pupils_guardian_loses_the_old_class_live_and_gains_the_new_one(
    redis_site: Site,
) -> None:
    a, b = redis_site.servers
    world = await redis_site.world()
    old, new = world.classes[0], await world.add_class("Year 5 Elm")
    mover, moving_family = await world.add_family("Sam")
    _, staying_family = await world.add_family("Bea")
    assert mover.student is not None
    old_channel, new_channel = f"class:{old.id}", f"class:{new.id}"
    async with (
        LiveClient.connect(a.ws_url, moving_family.token) as moved,
        LiveClient.connect(a.ws_url, staying_family.token) as control,
        httpx.AsyncClient(base_url=b.http_url) as http,
    ):
        assert (await moved.subscribe(old_channel))["op"] == "subbed"
        assert (await moved.subscribe(f"student:{mover.student.id}"))["op"] == "subbed"
        assert (await moved.subscribe(new_channel))["code"] == "forbidden"
        assert (await control.subscribe(old_channel))["op"] == "subbed"
        before = await post_to_class(http, world.teacher, old.id)
        await receives(moved, before)

        await _move(http, world, mover.student.id, new.id)
        await lost(moved, {old_channel})  # the pupil's own channel stays theirs

        await does_not_receive(moved, control, await post_to_class(http, world.teacher, old.id))
        assert (await moved.subscribe(old_channel))["code"] == "forbidden"
        assert (await moved.subscribe(new_channel))["op"] == "subbed"
        await receives(moved, await post_to_class(http, world.teacher, new.id))


async def test_a_guardian_with_another_child_in_the_old_class_keeps_it(redis_site: Site) -> None:
    a, b = redis_site.servers
    world = await redis_site.world()
    old, new = world.classes[0], await world.add_class("Year 5 Elm")
    mover = await world.add_student(old, "Sam", "Jones")
    sibling = await world.add_student(old, "Tom", "Jones")
    family = await world.add_parent(mover, sibling)
    assert mover.student is not None
    async with (
        LiveClient.connect(a.ws_url, family.token) as client,
        httpx.AsyncClient(base_url=b.http_url) as http,
    ):
        assert (await client.subscribe(f"class:{old.id}"))["op"] == "subbed"
        await _move(http, world, mover.student.id, new.id)
        await receives(client, await post_to_class(http, world.teacher, old.id))
        assert (await client.subscribe(f"class:{new.id}"))["op"] == "subbed"
        assert not [f for f in client.frames if f["op"] == "error"]


async def test_after_a_move_the_api_serves_the_new_class_and_not_the_old(redis_site: Site) -> None:
    _, b = redis_site.servers
    world = await redis_site.world()
    old, new = world.classes[0], await world.add_class("Year 5 Elm")
    mover, family = await world.add_family("Sam")
    assert mover.student is not None
    async with httpx.AsyncClient(base_url=b.http_url) as http:
        old_post = await post_to_class(http, world.teacher, old.id)
        new_post = await post_to_class(http, world.teacher, new.id)
        assert (await http.get(f"/api/classes/{new.id}/posts", headers=family.headers)).status_code == 404
        await _move(http, world, mover.student.id, new.id)

        for path in (f"/api/classes/{old.id}", f"/api/classes/{old.id}/posts", f"/api/posts/{old_post}"):
            assert (await http.get(path, headers=family.headers)).status_code == 404, path
        listed = await http.get(f"/api/classes/{new.id}/posts", headers=family.headers)
        assert listed.status_code == 200
        assert [item["id"] for item in listed.json()["items"]] == [new_post]
        feed = [item["id"] for item in (await http.get("/api/feed", headers=family.headers)).json()["items"]]
        assert new_post in feed and old_post not in feed
        assert (
            await http.get(f"/api/students/{mover.student.id}", headers=family.headers)
        ).status_code == 200
