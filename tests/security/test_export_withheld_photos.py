"""P12/P16/P18: a photo withheld because of a tagged pupil leaves through no door: not the
download route, not the export's links, not the export's zip; for the family and the author alike."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import httpx
import orjson
import pytest

from tests.factories import Actor, World, upload

WITHDRAWALS = [
    pytest.param({"photo_consent": False}, id="consent-withdrawn"),
    pytest.param({"la_care": True}, id="came-into-care"),
]


async def _zip(api: httpx.AsyncClient, actor: Actor) -> tuple[dict[str, Any], set[int]]:
    """The export document in an actor's zip, and the ids of the files packed beside it."""
    response = await api.get("/api/me/export?format=zip", headers=actor.headers)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    packed = {int(m.group(1)) for n in archive.namelist() if (m := re.match(r"media/(\d+)-", n))}
    return orjson.loads(archive.read("export.json")), packed


def _links(doc: dict[str, Any]) -> dict[int, str]:
    """Every file link in an export document, by file id."""
    found: dict[int, str] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            url = value.get("url")
            if isinstance(url, str) and url.startswith("/api/media/"):
                found[int(value["id"])] = url
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(doc)
    return found


async def _tagged_photo(api: httpx.AsyncClient, world: World) -> tuple[Actor, Actor, int, str]:
    """A pupil and their parent, and a class-story photo by the teacher tagging the pupil."""
    pupil = await world.add_student(world.classes[0], "Maya", "Osei")
    assert pupil.student is not None
    parent = await world.add_parent(pupil)
    uploaded = await upload(api, world.teacher, name="sports-day.jpg")
    assert uploaded.status_code == 201, uploaded.text
    media_id = int(uploaded.json()["id"])
    posted = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Sports day", "media_ids": [media_id], "student_ids": [pupil.student.id]},
        headers=world.teacher.headers,
    )
    assert posted.status_code == 201, posted.text
    return pupil, parent, media_id, posted.json()["media"][0]["url"]


async def _set(api: httpx.AsyncClient, world: World, pupil: Actor, change: dict[str, bool]) -> None:
    assert pupil.student is not None
    changed = await api.patch(f"/api/students/{pupil.student.id}", json=change, headers=world.admin.headers)
    assert changed.status_code == 200, changed.text


@pytest.mark.parametrize("withdrawal", WITHDRAWALS)
async def test_withheld_photo_is_in_neither_the_familys_nor_the_authors_export(
    api: httpx.AsyncClient, world: World, withdrawal: dict[str, bool]
) -> None:
    pupil, parent, media_id, url = await _tagged_photo(api, world)
    for reader in (parent, world.teacher):
        doc, packed = await _zip(api, reader)
        assert media_id in packed and media_id in _links(doc), "the photo is exported while it is shown"

    await _set(api, world, pupil, withdrawal)

    for reader in (parent, world.teacher, world.admin, pupil):
        assert (await api.get(url, headers=reader.headers)).status_code == 404
        doc, packed = await _zip(api, reader)
        assert media_id not in packed
        assert media_id not in _links(doc)
        plain = await api.get("/api/me/export", headers=reader.headers)
        assert media_id not in _links(orjson.loads(plain.content))


async def test_a_withheld_photo_comes_back_to_the_export_when_consent_is_given_again(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil, parent, media_id, url = await _tagged_photo(api, world)
    await _set(api, world, pupil, {"photo_consent": False})
    await _set(api, world, pupil, {"photo_consent": True})
    for reader in (parent, world.teacher):
        assert (await api.get(url, headers=reader.headers)).status_code == 200
        doc, packed = await _zip(api, reader)
        assert media_id in packed and media_id in _links(doc)


async def test_a_photo_withheld_on_one_post_is_withheld_on_every_post_it_is_on(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil, parent, media_id, url = await _tagged_photo(api, world)
    shared = await api.post(
        "/api/school/posts",
        json={"text": "Sports day, again", "media_ids": [media_id]},
        headers=world.teacher.headers,
    )
    assert shared.status_code == 201, shared.text
    await _set(api, world, pupil, {"la_care": True})
    school_post = await api.get(f"/api/posts/{shared.json()['id']}", headers=parent.headers)
    assert school_post.json()["media"] == []
    assert (await api.get(url, headers=parent.headers)).status_code == 404
    doc, packed = await _zip(api, world.teacher)
    assert media_id not in packed and media_id not in _links(doc)


async def test_every_file_an_export_links_or_packs_is_one_its_reader_may_fetch(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil, parent, _, _ = await _tagged_photo(api, world)
    await _tagged_photo(api, world)  # another family in the same class
    for reader in (parent, world.teacher, pupil):
        doc, packed = await _zip(api, reader)
        links = _links(doc)
        assert packed <= set(links), "the zip packs a file its document does not link"
        for link in links.values():
            assert (await api.get(link, headers=reader.headers)).status_code == 200, link
