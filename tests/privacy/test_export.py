"""P18: an export holds every kind of record the server has about the user, and nothing of another family."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx
import orjson

from server.services import Services
from tests.factories import World, error_of
from tests.privacy.conftest import build_family


async def test_p18_parent_export_holds_every_kind_of_record_and_nothing_of_another_family(
    api: httpx.AsyncClient, services: Services, world: World
) -> None:
    mine = await build_family(api, services, world)
    other = await build_family(api, services, world)

    response = await api.get("/api/me/export", headers=mine.parent.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    raw = response.text
    doc: dict[str, Any] = orjson.loads(raw)

    assert doc["profile"]["id"] == mine.parent.id and doc["profile"]["role"] == "parent"
    assert doc["sessions"] and all("token" not in key for s in doc["sessions"] for key in s)
    assert mine.parent.token not in raw and "password" not in raw
    assert [like["post_id"] for like in doc["likes"]] == [mine.post_id]
    texts = [m["text"] for m in doc["messages"]]
    assert any(mine.first in t for t in texts) and len(texts) == 2
    translated = [t["text"] for m in doc["messages"] for t in m["translations"]]
    assert translated == [f"{mine.first} va mieux ?"]
    assert {c["student_id"] for c in doc["conversations"]} == {mine.pupil.student.id}  # type: ignore[union-attr]
    assert any(e["action"] == "user.exported" for e in doc["audit"])

    [child] = doc["children"]
    assert (child["first_name"], child["last_name"]) == (mine.first, mine.last)
    assert child["avatar"] and child["points"] and child["points"][0]["note"].startswith("Kind to everyone")
    assert len(child["portfolio"]) == 2
    for item in child["portfolio"]:
        assert item["media"] and item["media"][0]["url"].startswith("/api/media/")
    assert [p["id"] for p in child["tagged_posts"]] == [mine.post_id]
    assert child["tagged_posts"][0]["media"]

    for word in other.words:
        assert word not in raw, f"another family's {word!r} is in the export"


async def test_export_as_zip_holds_the_document_and_the_media(
    api: httpx.AsyncClient, services: Services, world: World
) -> None:
    mine = await build_family(api, services, world)
    other = await build_family(api, services, world)
    response = await api.get("/api/me/export?format=zip", headers=mine.parent.headers)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert "export.json" in names
    doc = orjson.loads(archive.read("export.json"))
    assert doc["children"][0]["first_name"] == mine.first
    media = [n for n in names if n.startswith("media/")]
    assert any(mine.first.lower() in n for n in media), names
    assert not any(other.first.lower() in n for n in media)
    photo = next(n for n in media if mine.first.lower() in n)
    assert archive.read(photo)[:2] == b"\xff\xd8"


async def test_export_needs_a_known_format(api: httpx.AsyncClient, world: World) -> None:
    error_of(await api.get("/api/me/export?format=xml", headers=world.teacher.headers), 400)
    error_of(await api.get("/api/me/export"), 401)


async def test_teacher_export_holds_their_posts(
    api: httpx.AsyncClient, services: Services, world: World
) -> None:
    mine = await build_family(api, services, world)
    response = await api.get("/api/me/export", headers=world.teacher.headers)
    assert response.status_code == 200
    doc = orjson.loads(response.content)
    assert mine.post_id in [p["id"] for p in doc["posts"]]
    assert doc["children"] == []


async def test_pupil_export_holds_their_own_record(
    api: httpx.AsyncClient, services: Services, world: World
) -> None:
    mine = await build_family(api, services, world)
    response = await api.get("/api/me/export", headers=mine.pupil.headers)
    assert response.status_code == 200, response.text
    doc = orjson.loads(response.content)
    [pupil] = doc["pupil"]
    assert pupil["first_name"] == mine.first
    assert f"My rocket by {mine.first} {mine.last}" in [item["text"] for item in pupil["portfolio"]]
    assert doc["uploads"] and mine.first.lower() in doc["uploads"][0]["file_name"]
    assert doc["messages"] == [] and "children" not in doc


async def test_p18_parent_export_holds_their_childs_absences_and_event_answers(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil, parent = await world.add_family("Maya")
    assert pupil.student is not None
    event = await api.post(
        f"/api/classes/{world.classes[0].id}/events",
        json={"title": "Farm trip", "starts_at": "2099-06-10T09:00:00+01:00", "rsvp": "consent"},
        headers=world.teacher.headers,
    )
    answered = await api.put(
        f"/api/events/{event.json()['id']}/responses/{pupil.student.id}",
        json={"answer": "yes", "note": "Packed lunch"},
        headers=parent.headers,
    )
    assert answered.status_code == 200, answered.text
    reported = await api.post(
        "/api/absences",
        json={"student_id": pupil.student.id, "from": "2026-03-09", "to": "2026-03-09", "reason": "medical"},
        headers=parent.headers,
    )
    assert reported.status_code == 201, reported.text
    [child] = (await api.get("/api/me/export", headers=parent.headers)).json()["children"]
    assert [(a["from"], a["reason"]) for a in child["absences"]] == [("2026-03-09", "medical")]
    assert [(r["answer"], r["note"]) for r in child["event_answers"]] == [("yes", "Packed lunch")]
