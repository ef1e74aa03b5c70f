"""Monster avatars (P5): the static parts catalogue, checking a choice, saving it, the class boards."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from server.errors import ApiError
from server.portfolio.avatars import CATALOGUE, CATEGORIES, DEFAULT_AVATAR, LAYERS, check_avatar
from tests.factories import World, events_on

SVG_NS = "http://www.w3.org/2000/svg"
ALLOWED_ELEMENTS = {"g", "circle", "ellipse", "rect", "path"}


def test_every_category_has_choices_and_accessories_include_none() -> None:
    assert tuple(CATALOGUE) == CATEGORIES
    assert len(CATALOGUE["body"]) >= 4 and len(CATALOGUE["colour"]) >= 6
    assert "none" in {p.id for p in CATALOGUE["accessory"]}
    assert set(LAYERS) == set(CATEGORIES) - {"colour"}
    for parts in CATALOGUE.values():
        ids = [p.id for p in parts]
        assert len(ids) == len(set(ids))
    assert check_avatar(DEFAULT_AVATAR) == DEFAULT_AVATAR


def test_every_fragment_is_one_inert_group_of_shapes() -> None:
    """Fragments are layered into pages as markup: only plain shapes, no scripts, links or handlers."""
    for category, parts in CATALOGUE.items():
        for part in parts:
            root = ET.fromstring(f'<svg xmlns="{SVG_NS}">{part.svg}</svg>')
            assert [child.tag for child in root] == [f"{{{SVG_NS}}}g"], (category, part.id)
            for element in root.iter():
                assert element.tag.removeprefix(f"{{{SVG_NS}}}") in ALLOWED_ELEMENTS | {"svg"}
                for name, value in element.attrib.items():
                    assert not name.lower().startswith("on"), (category, part.id, name)
                    assert "href" not in name.lower() and "url(" not in value.lower()
            if category == "colour":
                assert part.hex is not None and len(part.hex) == 7


def test_demo_avatars_use_catalogue_parts() -> None:
    for colour in ("teal", "coral", "violet", "sun", "leaf"):
        check_avatar({**DEFAULT_AVATAR, "colour": colour})


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"eyes": "laser"}, {"avatar.eyes": "unknown_part"}),
        ({"colour": "#ff0000"}, {"avatar.colour": "unknown_part"}),
        ({"body": 3}, {"avatar.body": "unknown_part"}),
        ({"accessory": None}, {"avatar.accessory": "unknown_part"}),
        ({"mouth": "<script>"}, {"avatar.mouth": "unknown_part"}),
        ({"hat": "crown"}, {"avatar.hat": "unknown_category"}),
        (
            {"body": "round", "tail": "long", "eyes": "nine"},
            {"avatar.tail": "unknown_category", "avatar.eyes": "unknown_part"},
        ),
    ],
)
def test_bad_parts_are_named(change: dict[str, object], problem: dict[str, str]) -> None:
    with pytest.raises(ApiError) as caught:
        check_avatar({**DEFAULT_AVATAR, **change})
    assert caught.value.status == 422 and caught.value.code == "validation_error"
    assert caught.value.details["fields"] == problem


def test_every_part_is_required() -> None:
    partial = {k: v for k, v in DEFAULT_AVATAR.items() if k != "mouth"}
    with pytest.raises(ApiError) as caught:
        check_avatar(partial)
    assert caught.value.details["fields"] == {"avatar.mouth": "missing"}
    with pytest.raises(ApiError):
        check_avatar(["round", "two"])


async def test_catalogue_is_served_with_a_long_private_cache(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    response = await api.get("/api/avatar-parts", headers=pupil.headers)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, max-age=86400"
    body = response.json()
    assert list(body) == list(CATEGORIES)
    assert body["body"][0].keys() >= {"id", "name", "svg"}
    assert body["colour"][0]["hex"].startswith("#")
    again = await api.get(
        "/api/avatar-parts", headers={**pupil.headers, "If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    assert (await api.get("/api/avatar-parts")).status_code == 401


async def test_p5_pupil_changes_avatar_and_the_class_boards_hear(
    api: httpx.AsyncClient, world: World
) -> None:
    school_class = world.classes[0]
    pupil = await world.add_student(school_class)
    assert pupil.student is not None
    avatar = {"body": "spiky", "eyes": "three", "mouth": "fangs", "colour": "violet", "accessory": "crown"}
    response = await api.patch("/api/me/avatar", json={"avatar": avatar}, headers=pupil.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"student_id": pupil.student.id, "avatar": avatar}
    me = (await api.get("/api/me", headers=pupil.headers)).json()
    assert me["student"]["avatar"] == avatar
    expected = {"type": "avatar.updated", "data": {"student_id": pupil.student.id, "avatar": avatar}}
    assert await events_on(world.services, f"class:{school_class.id}") == [expected]
    assert await events_on(world.services, f"class:{school_class.id}:staff") == [expected]

    same = await api.patch("/api/me/avatar", json={"avatar": avatar}, headers=pupil.headers)
    assert same.status_code == 200
    assert len(await events_on(world.services, f"class:{school_class.id}")) == 1


async def test_invalid_avatar_part_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, world: World
) -> None:
    school_class = world.classes[0]
    pupil = await world.add_student(school_class)
    bad = {**DEFAULT_AVATAR, "eyes": "laser"}
    response = await api.patch("/api/me/avatar", json={"avatar": bad}, headers=pupil.headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["fields"] == {"avatar.eyes": "unknown_part"}
    assert "avatar.eyes" in error["message"]
    extra = await api.patch(
        "/api/me/avatar", json={"avatar": {**DEFAULT_AVATAR, "cape": "red"}}, headers=pupil.headers
    )
    assert extra.status_code == 422
    assert extra.json()["error"]["details"]["fields"] == {"avatar.cape": "unknown_category"}
    missing = await api.patch("/api/me/avatar", json={}, headers=pupil.headers)
    assert missing.status_code == 422
    me = (await api.get("/api/me", headers=pupil.headers)).json()
    assert me["student"]["avatar"] == {}
    assert await events_on(world.services, f"class:{school_class.id}") == []


async def test_p5_only_pupils_have_an_avatar(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    for actor in (parent, world.teacher, world.admin):
        response = await api.patch("/api/me/avatar", json={"avatar": DEFAULT_AVATAR}, headers=actor.headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
