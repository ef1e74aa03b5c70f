"""Home learning as users live it: a real server process, real HTTP, real websockets (P6, P5).

One ``python -m server serve`` on SQLite with the embedded ``memory://`` broker, started once
for this module; the test seeds its school through in-process services on the same database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from server.portfolio.avatars import DEFAULT_AVATAR
from server.services import Services
from tests.factories import Actor, image_bytes, make_world
from tests.live.client import LiveClient
from tests.live.servers import LiveServer, live_database, running_servers, shared_services

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[LiveServer, Services]]:
    tmp: Path = tmp_path_factory.mktemp("portfolio-live")
    async with (
        live_database("sqlite", tmp) as url,
        shared_services(url, tmp) as services,
        running_servers(1, database_url=url, broker_url="memory://", data_dir=tmp) as (server,),
    ):
        yield server, services


def auth(actor: Actor) -> dict[str, str]:
    return actor.headers


async def test_p6_done_when_work_is_handed_in_reviewed_and_reaches_the_family_live(
    site: tuple[LiveServer, Services],
) -> None:
    server, services = site
    world = await make_world(services)
    oak, ash = world.classes[0], await world.add_class("Year 3 Ash")
    pupil = await world.add_student(oak, "Amir", "Khan")
    assert pupil.student is not None
    parent = await world.add_parent(pupil)
    other_parent = await world.add_parent(await world.add_student(ash, "Zofia", "Nowak"))
    staff_channel, family_channel = f"class:{oak.id}:staff", f"student:{pupil.student.id}"

    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=10) as http,
        LiveClient.connect(server.ws_url, world.teacher.token) as teacher_ws,
        LiveClient.connect(server.ws_url, parent.token) as parent_ws,
        LiveClient.connect(server.ws_url, pupil.token) as pupil_ws,
        LiveClient.connect(server.ws_url, other_parent.token) as outsider_ws,
    ):
        assert (await teacher_ws.subscribe(staff_channel))["op"] == "subbed"
        assert (await parent_ws.subscribe(family_channel))["op"] == "subbed"
        assert (await pupil_ws.subscribe(f"class:{oak.id}"))["op"] == "subbed"
        assert (await outsider_ws.subscribe(family_channel))["op"] == "error"

        created = await http.post(
            f"/api/classes/{oak.id}/activities",
            json={"title": "Draw a minibeast"},
            headers=auth(world.teacher),
        )
        assert created.status_code == 201
        (announced,) = await pupil_ws.events(f"class:{oak.id}", 1)
        assert announced["type"] == "activity.created"
        assert announced["data"]["activity"]["title"] == "Draw a minibeast"

        uploaded = await http.post(
            "/api/media", files={"file": ("fox.jpg", image_bytes(), "image/jpeg")}, headers=auth(pupil)
        )
        assert uploaded.status_code == 201, uploaded.text
        handed_in = await http.post(
            f"/api/activities/{created.json()['id']}/submissions",
            json={"text": "A woodlouse", "media_ids": [uploaded.json()["id"]]},
            headers=auth(pupil),
        )
        assert handed_in.status_code == 201
        item = handed_in.json()
        (submitted,) = await teacher_ws.events(staff_channel, 1)
        assert submitted["type"] == "portfolio.submitted" and submitted["data"]["item"]["id"] == item["id"]
        media_url = submitted["data"]["item"]["media"][0]["url"]
        assert (await http.get(media_url, headers=auth(world.teacher))).status_code == 200
        assert (await http.get(media_url, headers=auth(parent))).status_code == 404  # not approved yet

        by_pupil = await http.post(f"/api/submissions/{item['id']}/approve", json={}, headers=auth(pupil))
        assert by_pupil.status_code == 403
        approved = await http.post(
            f"/api/submissions/{item['id']}/approve", json={"comment": "Super!"}, headers=auth(world.teacher)
        )
        assert approved.status_code == 200
        (reached,) = await parent_ws.events(family_channel, 1)  # the first event the family gets
        assert reached["type"] == "portfolio.approved"
        assert reached["data"]["item"]["id"] == item["id"] and reached["data"]["item"]["comment"] == "Super!"
        (reviewed,) = await teacher_ws.events(staff_channel, 1)
        assert reviewed["type"] == "portfolio.approved"

        photo = await http.get(reached["data"]["item"]["media"][0]["url"], headers=auth(parent))
        assert photo.status_code == 200 and photo.content[:2] == b"\xff\xd8"
        assert (
            await http.get(f"/api/submissions/{item['id']}", headers=auth(other_parent))
        ).status_code == 404
        assert (await http.get(media_url, headers=auth(other_parent))).status_code == 404

        bad = {**DEFAULT_AVATAR, "eyes": "laser"}
        refused = await http.patch("/api/me/avatar", json={"avatar": bad}, headers=auth(pupil))
        assert refused.status_code == 422
        assert refused.json()["error"]["details"]["fields"] == {"avatar.eyes": "unknown_part"}
        chosen = {**DEFAULT_AVATAR, "body": "spiky", "accessory": "crown"}
        assert (
            await http.patch("/api/me/avatar", json={"avatar": chosen}, headers=auth(pupil))
        ).status_code == 200
        (board,) = await teacher_ws.events(staff_channel, 1)
        assert board["type"] == "avatar.updated"
        assert board["data"] == {"student_id": pupil.student.id, "avatar": chosen}
        assert not [f for f in outsider_ws.frames if f.get("op") == "event"]


async def test_p6_returned_work_reaches_the_pupil_not_the_family_live(
    site: tuple[LiveServer, Services],
) -> None:
    server, services = site
    world = await make_world(services)
    oak = world.classes[0]
    pupil = await world.add_student(oak)
    assert pupil.student is not None
    parent = await world.add_parent(pupil)
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=10) as http,
        LiveClient.connect(server.ws_url, pupil.token) as pupil_ws,
        LiveClient.connect(server.ws_url, parent.token) as parent_ws,
    ):
        assert (await pupil_ws.subscribe(f"user:{pupil.id}"))["op"] == "subbed"
        assert (await parent_ws.subscribe(f"student:{pupil.student.id}"))["op"] == "subbed"
        assert (await parent_ws.subscribe(f"user:{pupil.id}"))["op"] == "error"
        activity = (
            await http.post(
                f"/api/classes/{oak.id}/activities", json={"title": "Spellings"}, headers=auth(world.teacher)
            )
        ).json()
        item = (
            await http.post(
                f"/api/activities/{activity['id']}/submissions", json={"text": "cat hat"}, headers=auth(pupil)
            )
        ).json()
        returned = await http.post(
            f"/api/submissions/{item['id']}/return",
            json={"comment": "Check 'hat'"},
            headers=auth(world.teacher),
        )
        assert returned.status_code == 200
        (back,) = await pupil_ws.events(f"user:{pupil.id}", 1)
        assert back["type"] == "portfolio.returned" and back["data"]["item"]["comment"] == "Check 'hat'"
        # Then an approval of later work: the family's first event is that one, never the returned item.
        second = (
            await http.post(
                f"/api/activities/{activity['id']}/submissions",
                json={"text": "cat hat!"},
                headers=auth(pupil),
            )
        ).json()
        await http.post(f"/api/submissions/{second['id']}/approve", json={}, headers=auth(world.teacher))
        (first_for_family,) = await parent_ws.events(f"student:{pupil.student.id}", 1)
        assert first_for_family["type"] == "portfolio.approved"
        assert first_for_family["data"]["item"]["id"] == second["id"]
