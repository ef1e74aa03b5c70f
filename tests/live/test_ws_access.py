"""``/ws`` on a real server: who may subscribe to what, Origin, sign-in, frames and close codes."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus

from tests.live.client import LiveClient
from tests.live.conftest import MEMORY_IDLE_SECONDS, Site
from tests.live.emitter import emit_events

pytestmark = pytest.mark.live


async def test_parent_receives_a_class_event(memory_site: Site) -> None:
    world = await memory_site.world()
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    channel = f"class:{world.classes[0].id}"
    async with LiveClient.connect(memory_site.servers[0].ws_url, parent.token) as client:
        subbed = await client.subscribe(channel)
        assert subbed["op"] == "subbed" and subbed["recovered"] is False
        await emit_events(memory_site.services, channel, "post.deleted", [{"post_id": 41}])
        (event,) = await client.events(channel, 1)
    assert event["type"] == "post.deleted" and event["data"] == {"post_id": 41}
    assert event["seq"] == subbed["seq"] + 1 and event["ts"]


async def test_parent_cannot_subscribe_to_another_class_staff_channels_or_another_user(
    memory_site: Site,
) -> None:
    world = await memory_site.world()
    other_class = await world.add_class("Year 2 Ash")
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    elsewhere = await memory_site.world()
    refused = [
        f"class:{other_class.id}",
        f"class:{world.classes[0].id}:staff",
        f"school:{world.school.id}:staff",
        f"user:{world.teacher.id}",
        f"school:{elsewhere.school.id}",
        f"student:{(await world.add_student(other_class, 'Zoe')).student.id}",  # type: ignore[union-attr]
        "class:999999",
    ]
    allowed = [
        f"class:{world.classes[0].id}",
        f"school:{world.school.id}",
        f"student:{pupil.student.id}",  # type: ignore[union-attr]
        f"user:{parent.id}",
    ]
    async with LiveClient.connect(memory_site.servers[0].ws_url, parent.token) as client:
        for channel in refused:
            answer = await client.subscribe(channel)
            assert (answer["op"], answer["code"], answer["channel"]) == ("error", "forbidden", channel)
        for channel in allowed:
            assert (await client.subscribe(channel))["op"] == "subbed", channel


async def test_pupil_cannot_subscribe_to_another_users_channel(memory_site: Site) -> None:
    world = await memory_site.world()
    pupil = await world.add_student(world.classes[0])
    classmate = await world.add_student(world.classes[0], "Bea")
    async with LiveClient.connect(memory_site.servers[0].ws_url, pupil.token) as client:
        for channel in (
            f"user:{classmate.id}",
            f"user:{world.teacher.id}",
            f"class:{world.classes[0].id}:staff",
        ):
            assert (await client.subscribe(channel))["code"] == "forbidden"
        assert (await client.subscribe(f"user:{pupil.id}"))["op"] == "subbed"
        assert (await client.subscribe(f"class:{world.classes[0].id}"))["op"] == "subbed"
        assert (await client.subscribe(f"student:{classmate.student.id}"))["code"] == "forbidden"  # type: ignore[union-attr]


async def test_staff_may_subscribe_to_staff_channels(memory_site: Site) -> None:
    world = await memory_site.world()
    async with LiveClient.connect(memory_site.servers[0].ws_url, world.office.token) as client:
        for channel in (f"school:{world.school.id}:staff", f"class:{world.classes[0].id}:staff"):
            assert (await client.subscribe(channel))["op"] == "subbed"


async def test_cross_origin_handshake_is_refused(memory_site: Site) -> None:
    world = await memory_site.world()
    server = memory_site.servers[0]
    with pytest.raises(InvalidStatus) as refused:
        async with LiveClient.connect(server.ws_url, world.teacher.token, origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with LiveClient.connect(server.ws_url, world.teacher.token, origin=server.http_url) as client:
        assert (await client.subscribe(f"school:{world.school.id}"))["op"] == "subbed"


async def test_session_cookie_signs_in(memory_site: Site) -> None:
    world = await memory_site.world()
    async with LiveClient.connect(memory_site.servers[0].ws_url, cookie=world.teacher.token) as client:
        assert (await client.subscribe(f"school:{world.school.id}"))["op"] == "subbed"


@pytest.mark.parametrize("token", [None, "not-a-real-token"])
async def test_unauthenticated_connection_is_closed_with_4001(memory_site: Site, token: str | None) -> None:
    async with LiveClient.connect(memory_site.servers[0].ws_url, token) as client:
        error = await client.wait_for(lambda f: f["op"] == "error")
        assert error["code"] == "unauthenticated"
        assert await client.closed_with() == 4001


async def test_bad_frames_get_error_frames_and_the_connection_stays_open(memory_site: Site) -> None:
    world = await memory_site.world()
    bad = [
        "not json",
        "[1, 2]",
        {"op": "shout"},
        {"op": "sub", "channel": "class:abc", "ref": 1},
        {"op": "sub", "channel": "user:1:staff"},
        {"op": "sub", "channel": f"school:{world.school.id}", "since": -1},
        {"op": "sub", "channel": f"school:{world.school.id}", "epoch": 5},
        {"op": "ping", "ref": {"nested": True}},
    ]
    async with LiveClient.connect(memory_site.servers[0].ws_url, world.teacher.token) as client:
        for frame in bad:
            await client.send(frame)
            assert (await client.wait_for(lambda f: f["op"] == "error"))["code"] == "bad_request"
        await client.send({"op": "ping", "ref": "still-here"})
        assert (await client.wait_for(lambda f: f["op"] == "pong"))["ref"] == "still-here"


async def test_a_flood_of_bad_frames_is_closed_with_4029(memory_site: Site) -> None:
    world = await memory_site.world()
    async with LiveClient.connect(memory_site.servers[0].ws_url, world.teacher.token) as client:
        for _ in range(30):
            await client.send("{oops")
        assert await client.closed_with() == 4029


async def test_unsub_stops_events(memory_site: Site) -> None:
    world = await memory_site.world()
    channel = f"school:{world.school.id}"
    async with LiveClient.connect(memory_site.servers[0].ws_url, world.teacher.token) as client:
        await client.subscribe(channel)
        await client.subscribe(f"user:{world.teacher.id}")
        await client.send({"op": "unsub", "channel": channel, "ref": 9})
        assert (await client.wait_for(lambda f: f["op"] == "unsubbed"))["ref"] == 9
        await emit_events(memory_site.services, channel, "post.deleted", [{"post_id": 1}])
        await emit_events(memory_site.services, f"user:{world.teacher.id}", "post.deleted", [{"post_id": 2}])
        (event,) = await client.events(f"user:{world.teacher.id}", 1)
        assert event["data"] == {"post_id": 2}
        assert not [f for f in client.frames if f.get("channel") == channel and f["op"] == "event"]


async def test_a_connection_that_subscribes_to_nothing_is_closed_when_idle(memory_site: Site) -> None:
    world = await memory_site.world()
    async with (
        LiveClient.connect(memory_site.servers[0].ws_url, world.teacher.token) as idle,
        LiveClient.connect(memory_site.servers[0].ws_url, world.teacher.token) as busy,
    ):
        await busy.subscribe(f"school:{world.school.id}")
        assert await idle.closed_with(deadline=MEMORY_IDLE_SECONDS + 3) == 1000
        await busy.send({"op": "ping", "ref": "alive"})
        assert (await busy.wait_for(lambda f: f["op"] == "pong"))["ref"] == "alive"
