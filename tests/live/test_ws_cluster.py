"""Two server processes sharing PostgreSQL and Redis: ordering across processes, rights changes, presence."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, update

from server.auth.principal import revoke_sessions
from server.db.models import GuardianLink, User
from server.timeutil import utcnow
from tests.live.client import LiveClient
from tests.live.conftest import Site, announce_access_changed
from tests.live.emitter import emit_events, number, payloads
from tests.live.servers import running_servers, unique_prefix

pytestmark = pytest.mark.live


async def test_event_published_on_b_reaches_a_in_order_without_gaps(redis_site: Site) -> None:
    a, b = redis_site.servers
    world = await redis_site.world()
    pupil = await world.add_student(world.classes[0])
    await world.add_parent(pupil)
    await world.add_parent(pupil)
    third = await world.add_parent()
    channel = f"school:{world.school.id}:staff"
    async with (
        LiveClient.connect(a.ws_url, world.admin.token) as client,
        httpx.AsyncClient(base_url=b.http_url) as http,
    ):
        subbed = await client.subscribe(channel)
        for _ in range(3):  # each a third guardian: refused on B, queued, announced on the staff channel
            invite = await http.post(
                "/api/invites", json={"student_id": pupil.student.id}, headers=world.admin.headers
            )  # type: ignore[union-attr]
            refused = await http.post(
                "/api/me/children", json={"code": invite.json()["code"]}, headers=third.headers
            )
            assert refused.status_code == 409
        await emit_events(redis_site.services, channel, "report.created", payloads(40))
        events = await client.events(channel, 43, deadline=15)
    assert [e["type"] for e in events[:3]] == ["guardian_request.created"] * 3
    assert [number(e) for e in events[3:]] == list(range(40))
    assert [e["seq"] for e in events] == list(range(subbed["seq"] + 1, subbed["seq"] + 44))


async def test_suspending_a_user_closes_their_connections_on_both_processes_within_one_second(
    redis_site: Site,
) -> None:
    a, b = redis_site.servers
    world = await redis_site.world()
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    async with (
        LiveClient.connect(a.ws_url, parent.token) as on_a,
        LiveClient.connect(b.ws_url, parent.token) as on_b,
        LiveClient.connect(a.ws_url, world.teacher.token) as bystander,
    ):
        for client in (on_a, on_b):
            await client.subscribe(f"class:{world.classes[0].id}")
        await bystander.subscribe(f"class:{world.classes[0].id}")
        async with redis_site.services.transaction() as session:
            await session.execute(update(User).where(User.id == parent.id).values(suspended_at=utcnow()))
            await revoke_sessions(session, parent.id, utcnow())
        started = time.monotonic()
        await announce_access_changed(redis_site, parent.id)
        codes = await asyncio.gather(on_a.closed_with(deadline=1.0), on_b.closed_with(deadline=1.0))
        assert time.monotonic() - started < 1.0
        assert codes == [4003, 4003]
        await bystander.send({"op": "ping", "ref": 1})
        assert (await bystander.wait_for(lambda f: f["op"] == "pong"))["ref"] == 1


async def test_logout_closes_that_sessions_connections_in_every_process(redis_site: Site) -> None:
    a, b = redis_site.servers
    world = await redis_site.world()
    other_device = await world.sign_in(world.teacher.user)
    async with (
        LiveClient.connect(a.ws_url, world.teacher.token) as on_a,
        LiveClient.connect(b.ws_url, world.teacher.token) as on_b,
        LiveClient.connect(a.ws_url, other_device.token) as other,
    ):
        await other.subscribe(f"school:{world.school.id}")
        async with httpx.AsyncClient(base_url=b.http_url) as http:
            assert (await http.post("/api/auth/logout", headers=world.teacher.headers)).status_code == 200
        assert await on_a.closed_with(deadline=2) == 4003
        assert await on_b.closed_with(deadline=2) == 4003
        await other.send({"op": "ping"})
        await other.wait_for(lambda f: f["op"] == "pong")


async def test_unlinked_child_drops_those_subscriptions_but_keeps_the_connection(redis_site: Site) -> None:
    a, _ = redis_site.servers
    world = await redis_site.world()
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    kept = f"school:{world.school.id}"
    dropped = {f"class:{world.classes[0].id}", f"student:{pupil.student.id}"}  # type: ignore[union-attr]
    async with LiveClient.connect(a.ws_url, parent.token) as client:
        for channel in [kept, *sorted(dropped)]:
            assert (await client.subscribe(channel))["op"] == "subbed"
        async with redis_site.services.transaction() as session:
            await session.execute(delete(GuardianLink).where(GuardianLink.guardian_id == parent.id))
        await announce_access_changed(redis_site, parent.id)
        errors = [await client.wait_for(lambda f: f["op"] == "error", deadline=2) for _ in dropped]
        assert {e["channel"] for e in errors} == dropped and {e["code"] for e in errors} == {"forbidden"}
        await emit_events(
            redis_site.services, f"class:{world.classes[0].id}", "post.deleted", [{"post_id": 1}]
        )
        await emit_events(redis_site.services, kept, "post.deleted", [{"post_id": 2}])
        (event,) = await client.events(kept, 1)
        assert event["data"] == {"post_id": 2}
        assert not [f for f in client.frames if f["op"] == "event" and f["channel"] in dropped]


async def test_presence_shows_each_staff_member_once_across_processes(redis_site: Site) -> None:
    a, b = redis_site.servers
    world = await redis_site.world()
    channel = f"class:{world.classes[0].id}:staff"
    async with LiveClient.connect(a.ws_url, world.teacher.token) as teacher:
        first = await teacher.subscribe(channel)
        assert [u["id"] for u in first["presence"]] == [world.teacher.id]
        async with LiveClient.connect(b.ws_url, world.admin.token) as admin_tab:
            subbed = await admin_tab.subscribe(channel)
            assert {u["id"] for u in subbed["presence"]} == {world.teacher.id, world.admin.id}
            joined = await teacher.wait_for(lambda f: f.get("type") == "presence.joined")
            assert joined["data"]["user"] == {"id": world.admin.id, "name": "Mrs Adebayo", "role": "admin"}
            async with LiveClient.connect(a.ws_url, world.admin.token) as second_tab:
                await second_tab.subscribe(channel)
            await teacher.send({"op": "ping", "ref": "sync"})
            await teacher.wait_for(lambda f: f.get("ref") == "sync")
        left = await teacher.wait_for(lambda f: f.get("type") == "presence.left")
        assert left["data"]["user"]["id"] == world.admin.id
    presence = [f for f in teacher.frames if f.get("type", "").startswith("presence.")]
    assert [f["type"] for f in presence] == ["presence.joined", "presence.left"]


async def test_a_killed_processs_staff_leave_presence_when_their_entries_expire(
    redis_site: Site, tmp_path: Path
) -> None:
    world = await redis_site.world()
    channel = f"school:{world.school.id}:staff"
    extra = {"HOMEROOM_PRESENCE_TTL_SECONDS": "1.5"}
    async with (
        running_servers(
            2,
            database_url=redis_site.database_url,
            broker_url=redis_site.broker_url,
            data_dir=tmp_path,
            redis_prefix=unique_prefix(),
            extra=extra,
        ) as (survivor, doomed),
        LiveClient.connect(survivor.ws_url, world.admin.token) as admin,
    ):
        await admin.subscribe(channel)
        async with LiveClient.connect(doomed.ws_url, world.teacher.token) as teacher:
            await teacher.subscribe(channel)
            joined = await admin.wait_for(lambda f: f.get("type") == "presence.joined")
            assert joined["data"]["user"]["id"] == world.teacher.id
            doomed.kill()  # no goodbye: only the expiry of its heartbeats tells
            left = await admin.wait_for(lambda f: f.get("type") == "presence.left", deadline=6)
            assert left["data"]["user"]["id"] == world.teacher.id


async def test_a_new_code_of_conduct_closes_parents_connections_until_they_accept_it(
    redis_site: Site,
) -> None:
    """P17: parents accept the current policy before using anything, live updates included."""
    a, b = redis_site.servers
    world = await redis_site.world()
    other = await redis_site.world()
    pupil = await world.add_student(world.classes[0])
    parent, second = await world.add_parent(pupil), await world.add_parent(pupil)
    elsewhere = await other.add_parent(await other.add_student(other.classes[0]))
    channel = f"class:{world.classes[0].id}"
    async with (
        LiveClient.connect(a.ws_url, parent.token) as on_a,
        LiveClient.connect(b.ws_url, second.token) as on_b,
        LiveClient.connect(b.ws_url, world.teacher.token) as teacher,
        LiveClient.connect(a.ws_url, elsewhere.token) as other_school,
        httpx.AsyncClient(base_url=a.http_url, timeout=10) as http,
    ):
        for client in (on_a, on_b, teacher):
            await client.subscribe(channel)
        await other_school.subscribe(f"class:{other.classes[0].id}")
        patched = await http.patch(
            "/api/school", json={"policy_text": "Be kind, always."}, headers=world.admin.headers
        )
        assert patched.status_code == 200, patched.text
        assert await asyncio.gather(on_a.closed_with(deadline=5), on_b.closed_with(deadline=5)) == [
            4003,
            4003,
        ]
        for client in (teacher, other_school):  # staff and other schools' parents carry on
            await client.send({"op": "ping", "ref": 7})
            assert (await client.wait_for(lambda f: f["op"] == "pong"))["ref"] == 7
        async with LiveClient.connect(a.ws_url, parent.token) as refused:
            assert await refused.closed_with(deadline=5) == 4003
        version = patched.json()["policy_version"]
        accepted = await http.post("/api/policy/accept", json={"version": version}, headers=parent.headers)
        assert accepted.status_code == 200, accepted.text
        async with LiveClient.connect(b.ws_url, parent.token) as back:
            assert (await back.subscribe(channel))["op"] == "subbed"


async def test_erasing_a_pupil_makes_readers_of_their_channels_reload_in_every_process(
    redis_site: Site,
) -> None:
    """P18: nothing about an erased pupil is replayed from live history; readers start afresh."""
    a, b = redis_site.servers
    world = await redis_site.world()
    pupil = await world.add_student(world.classes[0])
    assert pupil.student is not None
    staff_channel = f"class:{world.classes[0].id}:staff"
    async with (
        LiveClient.connect(b.ws_url, world.teacher.token) as teacher,
        LiveClient.connect(a.ws_url, world.office.token) as unrelated,
        httpx.AsyncClient(base_url=a.http_url, timeout=10) as http,
    ):
        subbed = await teacher.subscribe(staff_channel)
        await unrelated.subscribe(f"school:{world.school.id}")
        awarded = await http.post(
            "/api/points",
            json={"student_ids": [pupil.student.id], "skill_id": world.skills[0].id},
            headers=world.teacher.headers,
        )
        assert awarded.status_code == 201, awarded.text
        await teacher.events(staff_channel, 1)
        erased = await http.delete(f"/api/students/{pupil.student.id}", headers=world.admin.headers)
        assert erased.status_code == 200, erased.text
        assert await teacher.closed_with(deadline=5) == 1012
        await unrelated.send({"op": "ping", "ref": 3})
        assert (await unrelated.wait_for(lambda f: f["op"] == "pong"))["ref"] == 3
    async with LiveClient.connect(a.ws_url, world.teacher.token) as again:
        answer = await again.subscribe(staff_channel, since=subbed["seq"] + 1, epoch=subbed["epoch"])
        assert answer["recovered"] is False and answer["epoch"] != subbed["epoch"]
        assert not [f for f in again.frames if f["op"] == "event"]
