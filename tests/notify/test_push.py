"""Web Push end to end against a local push service that checks VAPID and decrypts every payload."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from server.db.models import PushSubscription
from server.notify.worker import PushWorker
from tests.conftest import Clock
from tests.factories import Actor, World, add_activity, error_of
from tests.notify.push_service import FakeDevice, PushService

TUESDAY_MORNING = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # London: UTC in winter
SATURDAY = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
MONDAY_OPENING = datetime(2026, 3, 9, 8, 1, tzinfo=UTC)


async def subscribe(api: httpx.AsyncClient, actor: Actor, device: FakeDevice) -> int:
    reply = await api.post("/api/push/subscriptions", json=device.subscription(), headers=actor.headers)
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


async def conversation(api: httpx.AsyncClient, parent: Actor, pupil: Actor, staff: Actor) -> int:
    assert pupil.student is not None
    reply = await api.post(
        "/api/conversations",
        json={"student_id": pupil.student.id, "staff_id": staff.id},
        headers=parent.headers,
    )
    assert reply.status_code in (200, 201), reply.text
    return int(reply.json()["id"])


async def write(api: httpx.AsyncClient, actor: Actor, conversation_id: int, text: str) -> dict[str, object]:
    reply = await api.post(
        f"/api/conversations/{conversation_id}/messages", json={"text": text}, headers=actor.headers
    )
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


async def test_key_is_a_p256_point_for_subscribe(
    api: httpx.AsyncClient, world: World, worker: PushWorker
) -> None:
    reply = await api.get("/api/push/key", headers=world.teacher.headers)
    assert reply.status_code == 200
    assert worker.vapid is not None and reply.json() == {"public_key": worker.vapid.public_key}
    assert len(reply.json()["public_key"]) == 87  # 65 bytes, base64url without padding


async def test_a_class_post_reaches_each_guardians_device_exactly_once(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    other_class = await world.add_class("Year 2 Ash")
    _, mum = await world.add_family("Maya")
    _, dad = await world.add_family("Leo")
    _, elsewhere = await world.add_family("Zara", school_class=other_class)
    phone, laptop = push_service.device("mum-phone"), push_service.device("mum-laptop")
    await subscribe(api, mum, phone)
    await subscribe(api, mum, laptop)
    await subscribe(api, dad, push_service.device("dad-phone"))
    await subscribe(api, elsewhere, push_service.device("elsewhere"))
    await subscribe(api, world.teacher, push_service.device("teacher"))

    reply = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Trip to the farm on Friday!"},
        headers=world.teacher.headers,
    )
    assert reply.status_code == 201, reply.text
    assert await worker.run_until_idle() == 3
    assert await worker.run_until_idle() == 0

    assert push_service.errors == []
    for name in ("mum-phone", "mum-laptop", "dad-phone"):
        [payload] = push_service.payloads(name)
        assert payload == {
            "type": "post.created",
            "title": "New post in Class 1",
            "body": "Trip to the farm on Friday!",
            "url": "/#/feed",
            "tag": f"post-{reply.json()['id']}",
        }
    assert push_service.attempts("elsewhere") == 0
    assert push_service.attempts("teacher") == 0
    headers = next(r.headers for r in push_service.received if r.device == "dad-phone")
    assert int(headers["ttl"]) > 0 and headers["urgency"] and headers["topic"] == f"post-{reply.json()['id']}"


async def test_a_message_reaches_the_other_side_only(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    pupil, parent = await world.add_family("Sam")
    await subscribe(api, parent, push_service.device("parent"))
    await subscribe(api, world.teacher, push_service.device("teacher"))
    conv = await conversation(api, parent, pupil, world.teacher)

    await write(api, parent, conv, "Sam has a dentist appointment at 2pm, can he leave early?")
    await worker.run_until_idle()
    [to_teacher] = push_service.payloads("teacher")
    assert to_teacher["type"] == "message.created"
    assert to_teacher["title"] == "New message from Sam's parent"
    assert to_teacher["url"] == f"/#/messages/{conv}"
    assert not [p for p in push_service.payloads("parent") if not p["title"].startswith("A notice")]

    await write(api, world.teacher, conv, "Of course, see you at 2.")
    await worker.run_until_idle()
    replies = [p for p in push_service.payloads("parent") if p["title"] == "New message from Mrs Patel"]
    assert [p["body"] for p in replies] == ["Of course, see you at 2."]
    assert len(push_service.payloads("teacher")) == 1
    assert push_service.errors == []


async def test_points_for_a_child_are_batched_into_one_push(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    maya, mum = await world.add_family("Maya")
    _, other = await world.add_family("Leo")
    await subscribe(api, mum, push_service.device("mum"))
    await subscribe(api, other, push_service.device("other"))
    assert maya.student is not None
    for skill in (world.skills[0], world.skills[1], world.skills[0]):
        reply = await api.post(
            "/api/points",
            json={"student_ids": [maya.student.id], "skill_id": skill.id},
            headers=world.teacher.headers,
        )
        assert reply.status_code == 201, reply.text
    assert await worker.run_until_idle() == 0  # gathered for a few minutes
    clock.advance(seconds=181)
    assert await worker.run_until_idle() == 1
    [payload] = push_service.payloads("mum")
    assert payload["type"] == "points.awarded"
    assert payload["title"] == "Points for Maya"
    assert payload["body"] == "Maya received 3 new awards."
    assert payload["url"] == f"/#/child/{maya.student.id}/points"
    assert push_service.attempts("other") == 0
    assert push_service.errors == []


async def test_an_approved_piece_of_work_reaches_the_pupils_guardians(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    pupil, parent = await world.add_family("Ava")
    _, other = await world.add_family("Ben")
    await subscribe(api, parent, push_service.device("parent"))
    await subscribe(api, other, push_service.device("other"))
    activity = await add_activity(world, world.classes[0])
    reply = await api.post(
        f"/api/activities/{activity.id}/submissions", json={"text": "My tiger"}, headers=pupil.headers
    )
    assert reply.status_code == 201, reply.text
    await worker.run_until_idle()
    assert push_service.received == []  # a submission waiting for review tells no family
    reply = await api.post(
        f"/api/submissions/{reply.json()['id']}/approve", json={}, headers=world.teacher.headers
    )
    assert reply.status_code == 200, reply.text
    assert await worker.run_until_idle() == 1
    [payload] = push_service.payloads("parent")
    assert payload["type"] == "portfolio.approved"
    assert payload["title"] == "New work in Ava's portfolio"
    assert push_service.attempts("other") == 0


async def test_410_deletes_the_subscription(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    _, parent = await world.add_family("Ida")
    device = push_service.device("gone")
    subscription_id = await subscribe(api, parent, device)
    push_service.answers["gone"] = [410]
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": "Hello"}, headers=world.teacher.headers
    )
    assert await worker.run_until_idle() == 0
    async with world.services.read() as session:
        assert await session.get(PushSubscription, subscription_id) is None
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": "Again"}, headers=world.teacher.headers
    )
    await worker.run_until_idle()
    assert push_service.attempts("gone") == 1


async def test_429_and_500_are_retried_until_delivered_once(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    _, parent = await world.add_family("Noor")
    await subscribe(api, parent, push_service.device("busy"))
    push_service.answers["busy"] = [429, 500]
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Sports day"},
        headers=world.teacher.headers,
    )
    assert await worker.run_until_idle() == 0
    assert push_service.attempts("busy") == 1
    clock.advance(seconds=31)  # the 429's Retry-After
    assert await worker.run_until_idle() == 0
    assert push_service.attempts("busy") == 2
    clock.advance(seconds=60)
    assert await worker.run_until_idle() == 1
    clock.advance(seconds=3600)
    assert await worker.run_until_idle() == 0
    assert push_service.attempts("busy") == 3
    assert [p["body"] for p in push_service.payloads("busy")] == ["Sports day"]
    exposition = (await api.get("/metrics")).text
    for series in (
        "homeroom_push_sent_total",
        "homeroom_push_retried_total",
        "homeroom_push_failed_total",
        "homeroom_push_queue_age_seconds",
        "homeroom_push_delivery_seconds_bucket",
    ):
        assert series in exposition


async def test_staff_outside_working_hours_get_one_summary_when_hours_start(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(SATURDAY)
    pupil, parent = await world.add_family("Omar")
    await subscribe(api, world.teacher, push_service.device("teacher"))
    await subscribe(api, world.admin, push_service.device("admin"))
    conv = await conversation(api, parent, pupil, world.teacher)
    await write(api, parent, conv, "Is the trip still on?")
    await write(api, parent, conv, "And does Omar need a packed lunch?")
    weekend = await write(api, world.teacher, conv, "Yes, see you Monday.")
    reply = await api.post(
        f"/api/messages/{weekend['id']}/report",
        json={"reason": "written at the weekend"},
        headers=parent.headers,
    )
    assert reply.status_code in (200, 201, 202), reply.text
    await worker.run_until_idle()
    clock.set(datetime(2026, 3, 9, 7, 59, tzinfo=UTC))
    await worker.run_until_idle()
    assert push_service.received == []

    clock.set(MONDAY_OPENING)
    jobs = world.services.jobs
    await jobs.run_once("release_held_messages")
    await worker.run_until_idle()
    clock.advance(seconds=15)
    await worker.run_until_idle()
    clock.advance(seconds=600)
    await worker.run_until_idle()
    [summary] = push_service.payloads("teacher")
    assert summary["type"] == "summary"
    assert summary["body"] == "2 new notifications arrived outside your working hours."
    [admin] = push_service.payloads("admin")
    assert admin["type"] == "summary"
    assert admin["body"] == "1 new notification arrived outside your working hours."
    assert push_service.errors == []


async def test_a_removed_guardian_gets_nothing_from_that_moment(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    pupil, parent = await world.add_family("Eli")
    await subscribe(api, parent, push_service.device("removed"))
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": "News"}, headers=world.teacher.headers
    )
    assert await worker.fanout_once() == 1  # queued for the guardian's device ...
    assert pupil.student is not None
    reply = await api.delete(
        f"/api/students/{pupil.student.id}/guardians/{parent.id}", headers=world.admin.headers
    )
    assert reply.status_code in (200, 204), reply.text
    await worker.run_until_idle()  # ... and not sent: decided again at sending
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": "More"}, headers=world.teacher.headers
    )
    await worker.run_until_idle()
    assert push_service.received == []


async def test_endpoints_outside_the_allowed_hosts_are_refused(api: httpx.AsyncClient, world: World) -> None:
    device = FakeDevice("x", "")
    keys = device.subscription()["keys"]
    for endpoint in (
        "https://evil.example/push/1",
        "http://10.0.0.1/push",
        "https://127.0.0.1.evil.example/push",
        "https://user:pw@127.0.0.1/push",
        "ftp://127.0.0.1/push",
        "not a url",
    ):
        reply = await api.post(
            "/api/push/subscriptions",
            json={"endpoint": endpoint, "keys": keys},
            headers=world.teacher.headers,
        )
        error_of(reply, 422, "validation_error")
    async with world.services.read() as session:
        mine = await session.scalars(
            select(PushSubscription).where(PushSubscription.user_id == world.teacher.id)
        )
        assert list(mine) == []


async def test_pupils_cannot_subscribe_and_bad_keys_are_refused(
    api: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    pupil, _ = await world.add_family("Kai")
    device = push_service.device("kid")
    error_of(
        await api.post("/api/push/subscriptions", json=device.subscription(), headers=pupil.headers), 403
    )
    bad = device.subscription()
    bad["keys"]["p256dh"] = "AAAA"
    error_of(await api.post("/api/push/subscriptions", json=bad, headers=world.teacher.headers), 422)


async def test_devices_are_listed_and_removed_by_their_owner_only(
    api: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    device = push_service.device("owned")
    first = await subscribe(api, world.teacher, device)
    again = await api.post(
        "/api/push/subscriptions", json=device.subscription(), headers=world.teacher.headers
    )
    assert again.status_code == 200 and again.json()["id"] == first
    listed = (await api.get("/api/push/subscriptions", headers=world.teacher.headers)).json()["items"]
    assert [d["id"] for d in listed] == [first] and listed[0]["service"] == "127.0.0.1"
    error_of(await api.delete(f"/api/push/subscriptions/{first}", headers=world.office.headers), 404)
    assert (
        await api.delete(f"/api/push/subscriptions/{first}", headers=world.teacher.headers)
    ).status_code == 204
    assert (await api.get("/api/push/subscriptions", headers=world.teacher.headers)).json()["items"] == []


async def test_preferences_default_on_and_a_kind_turned_off_is_not_pushed(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    _, parent = await world.add_family("Rio")
    reply = await api.get("/api/me/notifications", headers=parent.headers)
    assert reply.json() == {
        "push": {"posts": True, "messages": True, "points": True, "portfolio": True, "events": True},
        "email": "off",
    }
    reply = await api.put("/api/me/notifications", json={"push": {"posts": False}}, headers=parent.headers)
    assert reply.status_code == 200 and reply.json()["push"]["posts"] is False
    error_of(await api.put("/api/me/notifications", json={"email": "hourly"}, headers=parent.headers), 422)
    error_of(
        await api.put("/api/me/notifications", json={"push": {"posts": "no"}}, headers=parent.headers), 422
    )
    await subscribe(api, parent, push_service.device("quiet"))
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": "Hi"}, headers=world.teacher.headers
    )
    await worker.run_until_idle()
    assert push_service.received == []


async def test_the_export_holds_the_notification_choices_and_devices(
    api: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    _, parent = await world.add_family("Pia")
    await subscribe(api, parent, push_service.device("exported"))
    await api.put("/api/me/notifications", json={"email": "daily"}, headers=parent.headers)
    reply = await api.get("/api/me/export", headers=parent.headers)
    assert reply.status_code == 200
    found = reply.json()["notifications"]
    assert found["preferences"]["email"] == "daily"
    assert [d["service"] for d in found["devices"]] == ["127.0.0.1"]
    assert "push/exported" not in reply.text  # the endpoint itself is the push service's secret
