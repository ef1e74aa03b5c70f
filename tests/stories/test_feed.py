"""``GET /api/feed`` and story pages: whose stories, newest first, cursor pages, and no N+1 queries."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine

from server.db.models import SchoolClass
from tests.factories import Actor, World, upload_id


async def _post(
    api: httpx.AsyncClient, world: World, where: SchoolClass | None, text: str, **extra: object
) -> int:
    url = f"/api/classes/{where.id}/posts" if where else "/api/school/posts"
    reply = await api.post(url, json={"text": text, **extra}, headers=world.teacher.headers)
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


async def _feed(api: httpx.AsyncClient, actor: Actor, query: str = "") -> dict:
    reply = await api.get(f"/api/feed{query}", headers=actor.headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


async def test_p3_parent_feed_merges_their_childrens_classes_with_the_school_story(
    api: httpx.AsyncClient, world: World
) -> None:
    year1, year3, year5 = world.classes[0], await world.add_class("Year 3"), await world.add_class("Year 5")
    older, younger = await world.add_student(year1), await world.add_student(year3)
    parent = await world.add_parent(older, younger)
    ids = [
        await _post(api, world, year1, "Y1 news"),
        await _post(api, world, year5, "Y5 news"),
        await _post(api, world, None, "School news"),
        await _post(api, world, year3, "Y3 news"),
    ]
    feed = await _feed(api, parent)
    assert [p["id"] for p in feed["items"]] == [ids[3], ids[2], ids[0]]
    assert feed["next_before"] is None


async def test_feed_pages_newest_first_with_before_and_limit(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    ids = [await _post(api, world, world.classes[0] if i % 2 else None, f"post {i}") for i in range(7)]
    newest_first = ids[::-1]
    first = await _feed(api, parent, "?limit=3")
    assert [p["id"] for p in first["items"]] == newest_first[:3]
    second = await _feed(api, parent, f"?limit=3&before={first['next_before']}")
    assert [p["id"] for p in second["items"]] == newest_first[3:6]
    third = await _feed(api, parent, f"?limit=3&before={second['next_before']}")
    assert [p["id"] for p in third["items"]] == newest_first[6:]
    assert third["next_before"] is None
    for bad in ("?limit=101", "?limit=0", "?before=abc"):
        assert (await api.get(f"/api/feed{bad}", headers=parent.headers)).status_code == 400


async def test_staff_feed_is_the_school_story_and_their_classes_admins_see_all(
    api: httpx.AsyncClient, world: World
) -> None:
    other = await world.add_class("Year 6")  # the factory assigns world.teacher to every class it makes
    colleague = await world.add_user("teacher")
    mine = await _post(api, world, world.classes[0], "mine")
    theirs = await _post(api, world, other, "theirs")
    school = await _post(api, world, None, "everyone")
    assert [p["id"] for p in (await _feed(api, colleague))["items"]] == [school]
    assert [p["id"] for p in (await _feed(api, world.office))["items"]] == [school]
    assert [p["id"] for p in (await _feed(api, world.admin))["items"]] == [school, theirs, mine]
    assert [p["id"] for p in (await _feed(api, world.teacher))["items"]] == [school, theirs, mine]
    class_page = await api.get(f"/api/classes/{other.id}/posts", headers=colleague.headers)
    assert [p["id"] for p in class_page.json()["items"]] == [theirs]


async def test_pupil_feed_is_their_class_and_the_school(api: httpx.AsyncClient, world: World) -> None:
    other = await world.add_class("Year 6")
    pupil = await world.add_student(world.classes[0])
    mine = await _post(api, world, world.classes[0], "ours")
    await _post(api, world, other, "not ours")
    school = await _post(api, world, None, "everyone")
    assert [p["id"] for p in (await _feed(api, pupil))["items"]] == [school, mine]


@contextmanager
def _count_queries(engine: Engine) -> Iterator[list[str]]:
    """Statements run on behalf of this test's task (background parts share the engine)."""
    statements: list[str] = []
    task = asyncio.current_task()

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        with suppress(RuntimeError):
            if asyncio.current_task() is task:
                statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_feed_queries_do_not_grow_with_the_page(api: httpx.AsyncClient, world: World) -> None:
    year3 = await world.add_class("Year 3")
    kids = [await world.add_student(world.classes[0], "Ava"), await world.add_student(year3, "Ava")]
    parent = await world.add_parent(*kids)
    engine = world.services.db.engine.sync_engine

    async def add_posts(count: int) -> None:
        for i in range(count):
            where = world.classes[0] if i % 2 else year3
            pupil = kids[0] if i % 2 else kids[1]
            post_id = await _post(
                api,
                world,
                where,
                f"p{i}",
                media_ids=[await upload_id(api, world.teacher)],
                student_ids=[pupil.student.id],
            )
            await api.put(f"/api/posts/{post_id}/like", headers=parent.headers)

    await add_posts(2)
    with _count_queries(engine) as small:
        page = await _feed(api, parent)
    assert len(page["items"]) == 2
    await add_posts(10)
    with _count_queries(engine) as large:
        page = await _feed(api, parent)
    assert len(page["items"]) == 12
    assert all(p["liked"] and p["media"] and p["students"] for p in page["items"])
    assert 5 <= len(large) == len(small) <= 12
