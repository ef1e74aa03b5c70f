"""An admin can see a pupil's guardians and remove one; the removed guardian's access ends at once.

API.md "Guardians and leavers": ``GET /api/students/{id}/guardians`` (staff of the
pupil's class, admin) and ``DELETE /api/students/{id}/guardians/{user_id}`` (admin).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.auth.principal import resolve_token
from server.channels import endpoint
from server.channels.connection import Connection
from server.channels.part import LivePart
from server.channels.protocol import Sub, parse_channel
from server.channels.render import Variant
from server.school import guardians
from server.services import Services
from tests.channels.test_hub import FakeOutlet
from tests.factories import Actor, World, error_of, make_world
from tests.live.client import LiveClient
from tests.live.servers import RedisServer, live_database, running_servers, shared_services
from tests.security.live_access import Site, does_not_receive, lost, post_to_class, receives

pytestmark = pytest.mark.live


async def _guardian_ids(http: httpx.AsyncClient, world: World, student_id: int) -> list[int]:
    reply = await http.get(f"/api/students/{student_id}/guardians", headers=world.admin.headers)
    assert reply.status_code == 200, reply.text
    return [item["id"] for item in reply.json()["items"]]


async def _family_with_two_guardians(world: World) -> tuple[Actor, Actor, Actor]:
    pupil = await world.add_student(world.classes[0], "Sam", "Jones")
    first = await world.add_parent(pupil, name="Ann Jones", language="es")
    second = await world.add_parent(pupil, name="Ben Jones")
    return pupil, first, second


async def test_removing_a_guardian_ends_their_live_channels_in_the_other_process_within_two_seconds(
    redis_site: Site,
) -> None:
    a, b = redis_site.servers
    world = await redis_site.world()
    class_id = world.classes[0].id
    pupil, removed, other_guardian = await _family_with_two_guardians(world)
    assert pupil.student is not None
    class_channel, pupil_channel = f"class:{class_id}", f"student:{pupil.student.id}"
    async with (
        LiveClient.connect(a.ws_url, removed.token) as cut_off,
        LiveClient.connect(a.ws_url, other_guardian.token) as control,
        httpx.AsyncClient(base_url=b.http_url) as http,
    ):
        for channel in (class_channel, pupil_channel, f"user:{removed.id}"):
            assert (await cut_off.subscribe(channel))["op"] == "subbed"
        assert (await control.subscribe(class_channel))["op"] == "subbed"
        await receives(cut_off, await post_to_class(http, world.teacher, class_id))

        reply = await http.delete(
            f"/api/students/{pupil.student.id}/guardians/{removed.id}", headers=world.admin.headers
        )
        assert reply.status_code == 204 and reply.content == b""
        await lost(cut_off, {class_channel, pupil_channel})  # their own user channel stays

        await does_not_receive(cut_off, control, await post_to_class(http, world.teacher, class_id))
        assert (await cut_off.subscribe(class_channel))["code"] == "forbidden"


async def test_a_removed_guardian_reads_nothing_of_the_pupil_and_the_removal_is_audited(
    redis_site: Site,
) -> None:
    _, b = redis_site.servers
    world = await redis_site.world()
    class_id = world.classes[0].id
    pupil, removed, other_guardian = await _family_with_two_guardians(world)
    assert pupil.student is not None
    pupil_id = pupil.student.id
    async with httpx.AsyncClient(base_url=b.http_url) as http:
        post_id = await post_to_class(http, world.teacher, class_id)
        reply = await http.delete(
            f"/api/students/{pupil_id}/guardians/{removed.id}", headers=world.admin.headers
        )
        assert reply.status_code == 204

        for path in (
            f"/api/classes/{class_id}/posts",
            f"/api/posts/{post_id}",
            f"/api/students/{pupil_id}",
            f"/api/students/{pupil_id}/points",
        ):
            error_of(await http.get(path, headers=removed.headers), 404, "not_found")
        assert (await http.get("/api/me", headers=removed.headers)).json()["children"] == []
        assert (
            await http.get(f"/api/students/{pupil_id}", headers=other_guardian.headers)
        ).status_code == 200
        assert await _guardian_ids(http, world, pupil_id) == [other_guardian.id]
        audit = await http.get("/api/audit?action=guardian.removed", headers=world.admin.headers)
        (entry,) = audit.json()["items"]
        assert entry["actor_id"] == world.admin.id
        assert (entry["target_type"], entry["target_id"]) == ("user", removed.id)
        assert entry["details"] == {"student_id": pupil_id}


async def test_staff_of_the_class_and_admins_see_the_guardians_and_nobody_else_does(redis_site: Site) -> None:
    _, b = redis_site.servers
    world = await redis_site.world()
    pupil, first, second = await _family_with_two_guardians(world)
    assert pupil.student is not None
    elsewhere = await redis_site.world()
    stranger = await elsewhere.add_student(elsewhere.classes[0])
    assert stranger.student is not None
    path = f"/api/students/{pupil.student.id}/guardians"
    async with httpx.AsyncClient(base_url=b.http_url) as http:
        for reader in (world.admin, world.teacher):
            reply = await http.get(path, headers=reader.headers)
            assert reply.status_code == 200, reply.text
            items = reply.json()["items"]
            assert [set(item) for item in items] == [{"id", "name", "email", "language", "linked_at"}] * 2
            assert [(i["id"], i["name"], i["email"], i["language"]) for i in items] == [
                (first.id, "Ann Jones", first.user.email, "es"),
                (second.id, "Ben Jones", second.user.email, "en"),
            ]
            assert all(datetime.fromisoformat(item["linked_at"]).tzinfo for item in items)
        for refused in (world.office, first, pupil):  # office is not the class's staff
            error_of(await http.get(path, headers=refused.headers), 403, "forbidden")
        error_of(await http.get(path), 401, "unauthenticated")
        for unknown in (stranger.student.id, 2**31 - 1):
            error_of(await http.get(f"/api/students/{unknown}/guardians", headers=world.admin.headers), 404)


async def test_a_bad_removal_is_refused_and_changes_nothing(redis_site: Site) -> None:
    a, b = redis_site.servers
    world = await redis_site.world()
    pupil, first, second = await _family_with_two_guardians(world)
    other_pupil, other_parent = await world.add_family("Bea")
    assert pupil.student is not None and other_pupil.student is not None
    elsewhere = await redis_site.world()
    stranger, stranger_parent = await elsewhere.add_family("Zoe")
    assert stranger.student is not None
    pupil_id = pupil.student.id
    async with (
        LiveClient.connect(a.ws_url, first.token) as client,
        httpx.AsyncClient(base_url=b.http_url) as http,
    ):
        assert (await client.subscribe(f"class:{world.classes[0].id}"))["op"] == "subbed"
        for actor in (world.teacher, world.office, second, pupil):
            reply = await http.delete(f"/api/students/{pupil_id}/guardians/{first.id}", headers=actor.headers)
            error_of(reply, 403, "forbidden")
        for student_id, user_id in (
            (pupil_id, other_parent.id),  # a parent, but not this pupil's
            (pupil_id, world.teacher.id),
            (pupil_id, stranger_parent.id),
            (pupil_id, 2**31 - 1),
            (other_pupil.student.id, first.id),
            (stranger.student.id, stranger_parent.id),  # another school's pupil and guardian
            (2**31 - 1, first.id),
        ):
            reply = await http.delete(
                f"/api/students/{student_id}/guardians/{user_id}", headers=world.admin.headers
            )
            error_of(reply, 404, "not_found")
        assert await _guardian_ids(http, world, pupil_id) == [first.id, second.id]
        assert await _guardian_ids(http, elsewhere, stranger.student.id) == [stranger_parent.id]
        assert (await http.get("/api/audit?action=guardian.removed", headers=world.admin.headers)).json() == {
            "items": []
        }
        await receives(client, await post_to_class(http, world.teacher, world.classes[0].id))


@pytest.mark.slow
async def test_a_process_that_missed_the_removal_while_redis_was_down_rechecks_when_it_reconnects(
    tmp_path: Path,
) -> None:
    redis = RedisServer(tmp_path / "redis", persistent=True)
    await redis.start()
    try:
        async with (
            live_database("sqlite", tmp_path) as url,
            shared_services(url, tmp_path) as services,
            running_servers(2, database_url=url, broker_url=redis.url, data_dir=tmp_path) as (a, b),
        ):
            world = await make_world(services)
            class_channel = f"class:{world.classes[0].id}"
            pupil, removed, other_guardian = await _family_with_two_guardians(world)
            assert pupil.student is not None
            async with (
                LiveClient.connect(a.ws_url, removed.token) as cut_off,
                LiveClient.connect(a.ws_url, other_guardian.token) as control,
                httpx.AsyncClient(base_url=b.http_url) as http,
            ):
                for client in (cut_off, control):
                    assert (await client.subscribe(class_channel))["op"] == "subbed"
                await receives(cut_off, await post_to_class(http, world.teacher, world.classes[0].id))

                await redis.stop()  # B's control message cannot reach A now
                reply = await http.delete(
                    f"/api/students/{pupil.student.id}/guardians/{removed.id}", headers=world.admin.headers
                )
                assert reply.status_code == 204
                await redis.start()
                await lost(cut_off, {class_channel}, deadline=20)

                post_id = await post_to_class(http, world.teacher, world.classes[0].id)
                await does_not_receive(cut_off, control, post_id)
            assert "reconnected to Redis" in a.log()
    finally:
        await redis.stop()


async def test_a_subscription_decided_just_before_a_removal_is_dropped_when_it_completes(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The removal's re-check ran while the ``sub`` was between its decision and the hub: decide again."""
    live: LivePart = services.live
    assert live.hub is not None
    world = await make_world(services)
    pupil, removed, _ = await _family_with_two_guardians(world)
    assert pupil.student is not None
    channel = f"class:{world.classes[0].id}"
    outlet = FakeOutlet()
    conn = Connection(
        outlet,
        user_id=removed.id,
        school_id=world.school.id,
        role="parent",
        session_id=0,
        token=removed.token,
        variant=Variant("en", False),
        user={"id": removed.id, "name": "Ann Jones", "role": "parent"},
    )
    conn.principal = (await resolve_token(services, removed.token, "bearer")).signed_in()
    decide = endpoint.may_subscribe

    async def decided_then_removed(*args: Any) -> bool:
        allowed = await decide(*args)  # read before the removal commits
        async with services.transaction() as session:
            principal = await resolve_token(services, world.admin.token, "bearer")
            await guardians.unlink(session, principal, pupil.student.id, removed.id)  # type: ignore[union-attr]
        await live.recheck_user(removed.id)  # the control message arrives before the hub has the channel
        return allowed

    monkeypatch.setattr(endpoint, "may_subscribe", decided_then_removed)
    live.hub.add(conn)
    try:
        channel_of = parse_channel(channel)
        assert channel_of is not None
        await endpoint._subscribe(live, conn, Sub(channel_of, ref=1))
        assert channel not in conn.channels
        answers = [doc for doc in outlet.docs() if doc["op"] in ("subbed", "error")]
        assert [(doc["op"], doc.get("code")) for doc in answers][-1] == ("error", "forbidden")
    finally:
        live.hub.remove(conn)
