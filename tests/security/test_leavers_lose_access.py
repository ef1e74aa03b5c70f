"""A pupil with ``left_at`` set has left: their guardians are exactly as if unlinked, live included.

API.md "Guardians and leavers". The leaving date is set through one process while the
guardian's socket is open on the other.
"""

from __future__ import annotations

import httpx
import pytest

from server.timeutil import utcnow
from tests.factories import World
from tests.live.client import LiveClient
from tests.security.live_access import Site, does_not_receive, lost, post_to_class, receives

pytestmark = pytest.mark.live


async def _leave(http: httpx.AsyncClient, world: World, student_id: int) -> None:
    reply = await http.patch(
        f"/api/students/{student_id}", json={"left_at": utcnow().isoformat()}, headers=world.admin.headers
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["left_at"]


async def test_a_leavers_guardian_stops_receiving_the_class_on_the_other_process_within_two_seconds(
    redis_site: Site,
) -> None:
    a, b = redis_site.servers
    world = await redis_site.world()
    class_id = world.classes[0].id
    leaver, leaving_family = await world.add_family("Sam")
    _, staying_family = await world.add_family("Bea")
    assert leaver.student is not None
    class_channel, pupil_channel = f"class:{class_id}", f"student:{leaver.student.id}"
    school_channel = f"school:{world.school.id}"
    async with (
        LiveClient.connect(a.ws_url, leaving_family.token) as cut_off,
        LiveClient.connect(a.ws_url, staying_family.token) as control,
        httpx.AsyncClient(base_url=b.http_url) as http,
    ):
        for channel in (class_channel, pupil_channel, school_channel):
            assert (await cut_off.subscribe(channel))["op"] == "subbed"
        assert (await control.subscribe(class_channel))["op"] == "subbed"
        before = await post_to_class(http, world.teacher, class_id)
        await receives(cut_off, before)
        await receives(control, before)

        await _leave(http, world, leaver.student.id)
        await lost(cut_off, {class_channel, pupil_channel})

        await does_not_receive(cut_off, control, await post_to_class(http, world.teacher, class_id))
        assert (await cut_off.subscribe(class_channel))["code"] == "forbidden"
        assert (await cut_off.subscribe(pupil_channel))["code"] == "forbidden"
        school_post = await http.post(
            "/api/school/posts", json={"text": "Sports day"}, headers=world.admin.headers
        )
        assert school_post.status_code == 201
        await receives(cut_off, school_post.json()["id"])  # the rest of the connection stays


async def test_a_leavers_guardian_reads_nothing_of_the_pupil_or_the_class_through_the_api(
    redis_site: Site,
) -> None:
    _, b = redis_site.servers
    world = await redis_site.world()
    class_id = world.classes[0].id
    leaver, leaving_family = await world.add_family("Sam")
    _, staying_family = await world.add_family("Bea")
    assert leaver.student is not None
    pupil_id = leaver.student.id
    async with httpx.AsyncClient(base_url=b.http_url) as http:
        post_id = await post_to_class(http, world.teacher, class_id)
        chat = await http.post(
            "/api/conversations",
            json={"student_id": pupil_id, "staff_id": world.teacher.id},
            headers=leaving_family.headers,
        )
        assert chat.status_code in (200, 201), chat.text
        messages = f"/api/conversations/{chat.json()['id']}/messages"
        assert (
            await http.get(f"/api/classes/{class_id}/posts", headers=leaving_family.headers)
        ).status_code == 200
        await _leave(http, world, pupil_id)

        for path in (
            f"/api/classes/{class_id}",
            f"/api/classes/{class_id}/posts",
            f"/api/posts/{post_id}",
            f"/api/students/{pupil_id}",
            f"/api/students/{pupil_id}/points",
            f"/api/students/{pupil_id}/portfolio",
            f"/api/students/{pupil_id}/contacts",
        ):
            reply = await http.get(path, headers=leaving_family.headers)
            assert reply.status_code == 404, (path, reply.status_code)
            assert reply.json()["error"]["code"] == "not_found"
        feed = (await http.get("/api/feed", headers=leaving_family.headers)).json()
        assert post_id not in [item["id"] for item in feed["items"]]
        assert (await http.get("/api/me", headers=leaving_family.headers)).json()["children"] == []
        export = (await http.get("/api/me/export", headers=leaving_family.headers)).json()
        assert export["children"] == []
        started = await http.post(
            "/api/conversations",
            json={"student_id": pupil_id, "staff_id": world.teacher.id},
            headers=leaving_family.headers,
        )
        assert started.status_code == 404
        for writer in (leaving_family, world.teacher):  # the history stays; nothing new about the pupil
            closed = await http.post(messages, json={"text": "Hello"}, headers=writer.headers)
            assert (closed.status_code, closed.json()["error"]["code"]) == (409, "conversation_closed")
        assert (await http.get(messages, headers=leaving_family.headers)).status_code == 200

        assert (
            await http.get(f"/api/classes/{class_id}/posts", headers=staying_family.headers)
        ).status_code == 200
        assert (await http.get(f"/api/students/{pupil_id}", headers=world.admin.headers)).status_code == 200
        staff_contacts = await http.get(f"/api/students/{pupil_id}/contacts", headers=world.teacher.headers)
        assert staff_contacts.json()["items"] == []
