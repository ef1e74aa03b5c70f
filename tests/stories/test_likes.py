"""Likes (P3): idempotent, counted exactly, live to the class as a count and to staff with the name."""

from __future__ import annotations

import asyncio

import httpx

from tests.factories import World, events_on


async def _class_post(api: httpx.AsyncClient, world: World) -> int:
    reply = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Our class assembly"},
        headers=world.teacher.headers,
    )
    return int(reply.json()["id"])


async def test_p3_parents_like_and_unlike_idempotently(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil, name="Sara Khan")
    post_id = await _class_post(api, world)
    url = f"/api/posts/{post_id}/like"
    for _ in range(2):
        liked = await api.put(url, headers=parent.headers)
        assert liked.status_code == 200 and liked.json() == {"like_count": 1, "liked": True}
    read = (await api.get(f"/api/posts/{post_id}", headers=parent.headers)).json()
    assert read["like_count"] == 1 and read["liked"] is True
    for _ in range(2):
        assert (await api.delete(url, headers=parent.headers)).json() == {"like_count": 0, "liked": False}
    class_events = await events_on(world.services, f"class:{world.classes[0].id}")
    likes = [e for e in class_events if e["type"].startswith("post.")][1:]
    assert likes == [
        {"type": "post.liked", "data": {"post_id": post_id, "like_count": 1}},
        {"type": "post.unliked", "data": {"post_id": post_id, "like_count": 0}},
    ]
    staff_events = await events_on(world.services, f"class:{world.classes[0].id}:staff")
    assert [e["data"]["user"] for e in staff_events] == [{"id": parent.id, "name": "Sara Khan"}] * 2


async def test_p3_staff_see_who_liked_parents_do_not(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil, name="Sara Khan")
    post_id = await _class_post(api, world)
    await api.put(f"/api/posts/{post_id}/like", headers=parent.headers)
    await api.put(f"/api/posts/{post_id}/like", headers=world.admin.headers)
    assert (await api.get(f"/api/posts/{post_id}/likes", headers=parent.headers)).status_code == 403
    listed = await api.get(f"/api/posts/{post_id}/likes", headers=world.teacher.headers)
    assert listed.status_code == 200
    assert {item["user"]["name"] for item in listed.json()["items"]} == {"Sara Khan", "Mrs Adebayo"}


async def test_pupils_cannot_like(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    post_id = await _class_post(api, world)
    assert (await api.put(f"/api/posts/{post_id}/like", headers=pupil.headers)).status_code == 403


async def test_p3_simultaneous_likes_are_all_counted(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    parents = [await world.add_parent(pupil) for _ in range(2)] + [
        await world.add_user("teacher") for _ in range(6)
    ]
    post_id = await _class_post(api, world)
    url = f"/api/posts/{post_id}/like"
    replies = await asyncio.gather(*(api.put(url, headers=p.headers) for p in parents + parents))
    assert all(r.status_code == 200 for r in replies)
    read = await api.get(f"/api/posts/{post_id}", headers=world.teacher.headers)
    assert read.json()["like_count"] == len(parents)
    liked_events = await events_on(world.services, f"class:{world.classes[0].id}", "post.liked")
    assert sorted(e["data"]["like_count"] for e in liked_events) == list(range(1, len(parents) + 1))


async def test_school_post_likes_go_to_the_school_channels(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    post_id = (
        await api.post("/api/school/posts", json={"text": "Fair"}, headers=world.admin.headers)
    ).json()["id"]
    await api.put(f"/api/posts/{post_id}/like", headers=parent.headers)
    assert len(await events_on(world.services, f"school:{world.school.id}", "post.liked")) == 1
    staff = await events_on(world.services, f"school:{world.school.id}:staff", "post.liked")
    assert staff[0]["data"]["user"]["id"] == parent.id
