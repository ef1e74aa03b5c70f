"""P18: erasing a pupil erases the photos that were of them alone; group photos lose the tag and stay."""

from __future__ import annotations

from typing import Any

import httpx

from server.db.models import Media
from server.media import storage_of
from tests.factories import Actor, World, events_on, upload_id


async def _post(api: httpx.AsyncClient, world: World, text: str, *pupils: Actor) -> dict[str, Any]:
    """A class-story post by the teacher with one new photo, tagging ``pupils``."""
    media_id = await upload_id(api, world.teacher)
    posted = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": text, "media_ids": [media_id], "student_ids": [p.student.id for p in pupils]},  # type: ignore[union-attr]
        headers=world.teacher.headers,
    )
    assert posted.status_code == 201, posted.text
    return posted.json()  # type: ignore[no-any-return]


async def _key(world: World, media_id: int) -> str | None:
    async with world.services.read() as session:
        found = await session.get(Media, media_id)
        return found.key if found else None


async def _erase(api: httpx.AsyncClient, world: World, pupil: Actor) -> None:
    assert pupil.student is not None
    response = await api.delete(f"/api/students/{pupil.student.id}", headers=world.admin.headers)
    assert response.status_code == 200, response.text


async def test_a_photo_whose_only_tagged_pupil_is_erased_is_erased_with_them(
    api: httpx.AsyncClient, world: World
) -> None:
    maya = await world.add_student(world.classes[0], "Maya", "Osei")
    _, parent = await world.add_family("Tom")
    post = await _post(api, world, "Maya's painting", maya)
    media = post["media"][0]
    key = await _key(world, media["id"])
    assert key is not None and storage_of(world.services).exists(key)
    channel = f"class:{world.classes[0].id}"
    assert await events_on(world.services, channel, "post.updated") == []

    await _erase(api, world, maya)

    for reader in (world.teacher, world.admin, parent):
        assert (await api.get(media["url"], headers=reader.headers)).status_code == 404
    assert await _key(world, media["id"]) is None
    assert not storage_of(world.services).exists(key)
    seen = await api.get(f"/api/posts/{post['id']}", headers=parent.headers)
    assert seen.status_code == 200 and seen.json()["media"] == [] and seen.json()["students"] == []
    updates = await events_on(world.services, channel, "post.updated")
    assert [(e["data"]["post"]["id"], e["data"]["post"]["media"]) for e in updates] == [(post["id"], [])]


async def test_a_group_photo_loses_the_erased_pupils_tag_and_stays(
    api: httpx.AsyncClient, world: World
) -> None:
    maya = await world.add_student(world.classes[0], "Maya", "Osei")
    tom, parent = await world.add_family("Tom")
    post = await _post(api, world, "Sports day", maya, tom)
    media = post["media"][0]

    await _erase(api, world, maya)

    assert (await api.get(media["url"], headers=parent.headers)).status_code == 200
    seen = (await api.get(f"/api/posts/{post['id']}", headers=parent.headers)).json()
    assert [m["id"] for m in seen["media"]] == [media["id"]]
    assert [s["id"] for s in seen["students"]] == [tom.student.id]  # type: ignore[union-attr]
    key = await _key(world, media["id"])
    assert key is not None and storage_of(world.services).exists(key)


async def test_a_group_photo_withheld_because_of_the_erased_pupil_does_not_come_back(
    api: httpx.AsyncClient, world: World
) -> None:
    maya = await world.add_student(world.classes[0], "Maya", "Osei")
    tom, parent = await world.add_family("Tom")
    post = await _post(api, world, "Sports day", maya, tom)
    media = post["media"][0]
    withdrawn = await api.patch(
        f"/api/students/{maya.student.id}",  # type: ignore[union-attr]
        json={"la_care": True},
        headers=world.admin.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text

    await _erase(api, world, maya)

    for reader in (parent, world.teacher):
        assert (await api.get(media["url"], headers=reader.headers)).status_code == 404
        assert (await api.get(f"/api/posts/{post['id']}", headers=reader.headers)).json()["media"] == []
    assert await _key(world, media["id"]) is None


async def test_a_photo_only_post_of_the_erased_pupil_goes_with_its_photo(
    api: httpx.AsyncClient, world: World
) -> None:
    maya = await world.add_student(world.classes[0], "Maya", "Osei")
    _, parent = await world.add_family("Tom")
    post = await _post(api, world, "", maya)
    channel = f"class:{world.classes[0].id}"

    await _erase(api, world, maya)

    assert (await api.get(f"/api/posts/{post['id']}", headers=parent.headers)).status_code == 404
    assert (await api.get(post["media"][0]["url"], headers=world.teacher.headers)).status_code == 404
    deleted = await events_on(world.services, channel, "post.deleted")
    assert {"post_id": post["id"]} in [e["data"] for e in deleted]
