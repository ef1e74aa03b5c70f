"""Conversations and messages over the API: who may start, list, read and write (P5, P13)."""

from __future__ import annotations

import asyncio

import httpx

from server.services import Services
from tests.factories import World, outbox
from tests.messaging.conftest import Chat, open_chat


async def test_guardian_starts_a_conversation_about_their_child_once(
    api: httpx.AsyncClient, chat: Chat
) -> None:
    assert chat.pupil.student is not None
    again = await api.post(
        "/api/conversations",
        json={"student_id": chat.pupil.student.id, "staff_id": chat.teacher.id},
        headers=chat.parent.headers,
    )
    assert again.status_code == 200
    body = again.json()
    assert body["id"] == chat.id
    assert body["student"] == {"id": chat.pupil.student.id, "name": "Sam"}
    assert body["staff"] == {"id": chat.teacher.id, "name": "Mrs Patel", "role": "teacher"}
    assert body["guardian"]["id"] == chat.parent.id
    assert body["last_message"] is None and body["unread_count"] == 0


async def test_guardian_may_write_to_any_member_of_staff_of_the_school(
    api: httpx.AsyncClient, chat: Chat
) -> None:
    assert chat.pupil.student is not None
    reply = await api.post(
        "/api/conversations",
        json={"student_id": chat.pupil.student.id, "staff_id": chat.world.office.id},
        headers=chat.parent.headers,
    )
    assert reply.status_code == 201
    assert reply.json()["staff"]["role"] == "office"


async def test_staff_start_a_conversation_with_a_guardian(api: httpx.AsyncClient, chat: Chat) -> None:
    assert chat.pupil.student is not None
    reply = await api.post(
        "/api/conversations",
        json={"student_id": chat.pupil.student.id, "guardian_id": chat.parent.id},
        headers=chat.teacher.headers,
    )
    assert reply.status_code == 200 and reply.json()["id"] == chat.id
    stranger = await chat.world.add_user("parent")
    refused = await api.post(
        "/api/conversations",
        json={"student_id": chat.pupil.student.id, "guardian_id": stranger.id},
        headers=chat.teacher.headers,
    )
    assert refused.status_code == 404


async def test_guardian_cannot_start_one_about_another_child_or_with_a_non_member_of_staff(
    api: httpx.AsyncClient, chat: Chat, world: World
) -> None:
    other_pupil, _ = await world.add_family("Leo")
    assert other_pupil.student is not None and chat.pupil.student is not None
    cases = [
        ({"student_id": other_pupil.student.id, "staff_id": chat.teacher.id}, 404),
        ({"student_id": chat.pupil.student.id, "staff_id": chat.parent.id}, 404),
        ({"student_id": chat.pupil.student.id, "staff_id": other_pupil.id}, 404),
        ({"student_id": chat.pupil.student.id, "staff_id": 2**61}, 404),
        ({"student_id": chat.pupil.student.id}, 422),
        ({"student_id": "seven", "staff_id": chat.teacher.id}, 422),
        ({"student_id": 0, "staff_id": chat.teacher.id}, 422),
    ]
    for body, status in cases:
        reply = await api.post("/api/conversations", json=body, headers=chat.parent.headers)
        assert reply.status_code == status, (body, reply.text)
        assert "error" in reply.json()


async def test_another_schools_staff_cannot_be_chosen(
    api: httpx.AsyncClient, chat: Chat, services: Services
) -> None:
    from tests.factories import make_world

    elsewhere = await make_world(services)
    assert chat.pupil.student is not None
    reply = await api.post(
        "/api/conversations",
        json={"student_id": chat.pupil.student.id, "staff_id": elsewhere.teacher.id},
        headers=chat.parent.headers,
    )
    assert reply.status_code == 404


async def test_a_message_has_the_api_shape_and_reaches_both_members(
    api: httpx.AsyncClient, chat: Chat, services: Services
) -> None:
    sent = await api.post(
        chat.messages_url(), json={"text": "  Sam loved the trip!  "}, headers=chat.parent.headers
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert message["text"] == "Sam loved the trip!"
    assert message["sender"] == {"id": chat.parent.id, "name": "Sam's parent", "role": "parent"}
    assert message["conversation_id"] == chat.id
    assert message["original"] == {"text": "Sam loved the trip!", "lang": "en"}
    assert message["translation"] == {"status": "not_needed"}
    assert message["delivery"] == "live" and message["system"] is False
    assert message["read_at"] is None and message["created_at"] == "2026-03-11T10:00:00+00:00"
    for key in ("id", "conversation_id", "sender", "text", "lang", "original", "translation"):
        assert key in message
    for member in (chat.parent, chat.teacher):
        events = await outbox(services, f"user:{member.id}", "message.created")
        assert [e["data"]["message"]["id"] for e in events] == [message["id"]]
    listed = await api.get(chat.messages_url(), headers=chat.teacher.headers)
    assert listed.status_code == 200
    assert [m["id"] for m in listed.json()["items"]] == [message["id"]]


async def test_messages_are_paginated_newest_first(api: httpx.AsyncClient, chat: Chat) -> None:
    ids = []
    for n in range(5):
        reply = await api.post(chat.messages_url(), json={"text": f"note {n}"}, headers=chat.teacher.headers)
        ids.append(reply.json()["id"])
    first = (await api.get(chat.messages_url() + "?limit=2", headers=chat.parent.headers)).json()["items"]
    assert [m["id"] for m in first] == [ids[4], ids[3]]
    rest = await api.get(chat.messages_url() + f"?before={ids[3]}&limit=10", headers=chat.parent.headers)
    assert [m["id"] for m in rest.json()["items"]] == [ids[2], ids[1], ids[0]]
    bad = await api.get(chat.messages_url() + "?limit=500", headers=chat.parent.headers)
    assert bad.status_code == 400


async def test_conversation_list_orders_by_activity_with_unread_counts(
    api: httpx.AsyncClient, chat: Chat, world: World, clock: object
) -> None:
    second = await open_chat(api, world, "Leo")
    await api.post(
        second.messages_url(), json={"text": "Hello from Leo's family"}, headers=second.parent.headers
    )
    clock.advance(minutes=1)  # type: ignore[attr-defined]
    await api.post(chat.messages_url(), json={"text": "Hello from Sam's family"}, headers=chat.parent.headers)
    listed = (await api.get("/api/conversations", headers=chat.teacher.headers)).json()["items"]
    assert [c["id"] for c in listed[:2]] == [chat.id, second.id]
    assert listed[0]["unread_count"] == 1
    assert listed[0]["last_message"]["text"] == "Hello from Sam's family"
    page = (
        await api.get(f"/api/conversations?before={chat.id}&limit=1", headers=chat.teacher.headers)
    ).json()
    assert [c["id"] for c in page["items"]] == [second.id]
    other = await api.get(f"/api/conversations?before={second.id}", headers=chat.parent.headers)
    assert other.status_code == 400  # not one of theirs: no hint of its activity
    # The parent sees only their own conversation.
    mine = (await api.get("/api/conversations", headers=chat.parent.headers)).json()["items"]
    assert [c["id"] for c in mine] == [chat.id]


async def test_read_receipts_mark_received_messages_and_tell_both_members(
    api: httpx.AsyncClient, chat: Chat, services: Services
) -> None:
    one = (await api.post(chat.messages_url(), json={"text": "one"}, headers=chat.parent.headers)).json()
    two = (await api.post(chat.messages_url(), json={"text": "two"}, headers=chat.parent.headers)).json()
    reply = (await api.post(chat.messages_url(), json={"text": "reply"}, headers=chat.teacher.headers)).json()
    receipt = await api.post(
        f"/api/conversations/{chat.id}/read", json={"message_id": reply["id"]}, headers=chat.teacher.headers
    )
    assert receipt.status_code == 200
    assert receipt.json()["marked"] == 2 and receipt.json()["reader_id"] == chat.teacher.id
    seen = {
        m["id"]: m for m in (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    }
    assert seen[one["id"]]["read_at"] and seen[two["id"]]["read_at"]
    assert (
        seen[reply["id"]]["read_at"] is None
    )  # the teacher's own message is read by the parent, not by them
    for member in (chat.parent, chat.teacher):
        events = await outbox(services, f"user:{member.id}", "message.read")
        assert [e["data"] for e in events] == [
            {"conversation_id": chat.id, "message_id": reply["id"], "reader_id": chat.teacher.id}
        ]
    again = await api.post(
        f"/api/conversations/{chat.id}/read", json={"message_id": reply["id"]}, headers=chat.teacher.headers
    )
    assert again.json()["marked"] == 0
    assert len(await outbox(services, f"user:{chat.parent.id}", "message.read")) == 1
    wrong = await api.post(
        f"/api/conversations/{chat.id}/read", json={"message_id": 2**60}, headers=chat.teacher.headers
    )
    assert wrong.status_code == 404


async def test_bad_message_bodies_are_refused_and_change_nothing(api: httpx.AsyncClient, chat: Chat) -> None:
    cases = [
        ({"text": ""}, 422),
        ({"text": "   "}, 422),
        ({"text": "x" * 5001}, 422),
        ({"text": "hi", "client_id": "x" * 65}, 422),
        ({"text": "hi", "media_ids": [2**40]}, 422),
        ({"text": 5}, 422),
    ]
    for body, status in cases:
        reply = await api.post(chat.messages_url(), json=body, headers=chat.parent.headers)
        assert reply.status_code == status, (body, reply.text)
    json_type = {**chat.parent.headers, "content-type": "application/json"}
    not_json = await api.post(chat.messages_url(), content=b"{", headers=json_type)
    assert not_json.status_code == 400
    listed = await api.get(chat.messages_url(), headers=chat.parent.headers)
    assert listed.json()["items"] == []


async def test_p5_pupils_are_refused_every_messaging_endpoint(
    api: httpx.AsyncClient, chat: Chat, services: Services
) -> None:
    sent = (await api.post(chat.messages_url(), json={"text": "hello"}, headers=chat.parent.headers)).json()
    assert chat.pupil.student is not None
    calls = [
        ("GET", "/api/conversations", None),
        ("POST", "/api/conversations", {"student_id": chat.pupil.student.id, "staff_id": chat.teacher.id}),
        ("GET", f"/api/conversations/{chat.id}", None),
        ("GET", chat.messages_url(), None),
        ("POST", chat.messages_url(), {"text": "hi"}),
        ("POST", chat.messages_url(), {"not": "valid"}),
        ("POST", f"/api/conversations/{chat.id}/read", {"message_id": sent["id"]}),
        ("POST", f"/api/messages/{sent['id']}/report", {"reason": "x"}),
        ("GET", "/api/reports", None),
        ("POST", "/api/reports/1/resolve", {}),
        ("POST", f"/api/users/{chat.parent.id}/suspend", {"reason": "x"}),
        ("POST", f"/api/users/{chat.parent.id}/unsuspend", None),
        ("GET", "/api/office/messages", None),
    ]
    for method, url, body in calls:
        reply = await api.request(method, url, json=body, headers=chat.pupil.headers)
        assert reply.status_code == 403, (method, url, reply.text)
        assert reply.json()["error"]["code"] == "forbidden"
    assert await outbox(services, f"user:{chat.pupil.id}") == []


async def test_p5_pupils_never_receive_message_events(
    api: httpx.AsyncClient, chat: Chat, services: Services
) -> None:
    await api.post(chat.messages_url(), json={"text": "How is Sam doing?"}, headers=chat.parent.headers)
    await api.post(chat.messages_url(), json={"text": "Sam is off sick today"}, headers=chat.parent.headers)
    await api.post(chat.messages_url(), json={"text": "Very well!"}, headers=chat.teacher.headers)
    assert await outbox(services, f"user:{chat.pupil.id}") == []


async def test_p13_messages_are_visible_only_to_the_two_members(
    api: httpx.AsyncClient, chat: Chat, world: World
) -> None:
    sent = (await api.post(chat.messages_url(), json={"text": "private"}, headers=chat.parent.headers)).json()
    other_parent = await world.add_user("parent")
    other_teacher = await world.add_user("teacher")
    for outsider in (other_parent, other_teacher, world.office, world.admin):
        for method, url, body in [
            ("GET", f"/api/conversations/{chat.id}", None),
            ("GET", chat.messages_url(), None),
            ("POST", chat.messages_url(), {"text": "intrusion"}),
            ("POST", f"/api/conversations/{chat.id}/read", {"message_id": sent["id"]}),
            ("POST", f"/api/messages/{sent['id']}/report", {"reason": "x"}),
        ]:
            reply = await api.request(method, url, json=body, headers=outsider.headers)
            assert reply.status_code == 404, (outsider.user.role, method, url, reply.text)
        listed = await api.get("/api/conversations", headers=outsider.headers)
        assert listed.json()["items"] == []
    items = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    assert [m["text"] for m in items] == ["private"]


async def test_p13_another_school_cannot_reach_a_conversation(
    api: httpx.AsyncClient, chat: Chat, services: Services
) -> None:
    from tests.factories import make_world

    elsewhere = await make_world(services)
    for actor in (elsewhere.admin, elsewhere.teacher):
        reply = await api.get(chat.messages_url(), headers=actor.headers)
        assert reply.status_code == 404


async def test_an_erased_sender_shows_as_deleted_user(
    api: httpx.AsyncClient, chat: Chat, services: Services
) -> None:
    from server.db.models import User

    await api.post(chat.messages_url(), json={"text": "before I go"}, headers=chat.parent.headers)
    async with services.transaction() as session:
        await session.delete(await session.get(User, chat.parent.id))
    items = (await api.get(chat.messages_url(), headers=chat.teacher.headers)).json()["items"]
    assert items[0]["sender"] == {"id": None, "name": "deleted user", "role": None}
    closed = await api.post(
        chat.messages_url(), json={"text": "are you there?"}, headers=chat.teacher.headers
    )
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "conversation_closed"


async def test_staff_attach_their_own_uploads_and_only_members_may_see_them(
    api: httpx.AsyncClient, chat: Chat, world: World, services: Services
) -> None:
    import secrets

    from server.auth.principal import Principal
    from server.db.models import Media
    from server.media.access import can_view_media

    async with services.transaction() as session:
        upload = Media(
            school_id=world.school.id,
            uploader_id=chat.teacher.id,
            key=secrets.token_hex(16),
            kind="image",
            content_type="image/png",
            file_name="reading-log.png",
            size=10,
        )
        session.add(upload)
    refused = await api.post(
        chat.messages_url(), json={"text": "mine?", "media_ids": [upload.id]}, headers=chat.parent.headers
    )
    assert refused.status_code == 422
    sent = await api.post(chat.messages_url(), json={"media_ids": [upload.id]}, headers=chat.teacher.headers)
    assert sent.status_code == 201, sent.text
    [attached] = sent.json()["media"]
    assert attached["id"] == upload.id and attached["kind"] == "image"
    assert attached["url"] == f"/api/media/{upload.id}?k={upload.key}"
    listed = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    assert listed[0]["media"][0]["id"] == upload.id

    def principal(actor: object) -> Principal:
        return Principal(user=actor.user, session_id=0, token="", via="bearer", policy_version=1)  # type: ignore[attr-defined]

    async with services.read() as session:
        stored = await session.get(Media, upload.id)
        assert stored is not None
        assert await can_view_media(session, principal(chat.parent), stored)
        assert await can_view_media(session, principal(chat.teacher), stored)
        assert not await can_view_media(session, principal(world.office), stored)
        assert not await can_view_media(session, principal(chat.pupil), stored)


async def test_starting_the_same_conversation_at_once_creates_one(api: httpx.AsyncClient, chat: Chat) -> None:
    assert chat.pupil.student is not None
    body = {"student_id": chat.pupil.student.id, "staff_id": chat.world.admin.id}
    replies = await asyncio.gather(
        *(api.post("/api/conversations", json=body, headers=chat.parent.headers) for _ in range(6))
    )
    assert sorted(r.status_code for r in replies) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in replies}) == 1


async def test_contacts_list_who_each_side_may_start_a_conversation_with(
    api: httpx.AsyncClient, chat: Chat
) -> None:
    world = chat.world
    assert chat.pupil.student is not None
    url = f"/api/students/{chat.pupil.student.id}/contacts"
    await world.add_user("teacher", "Mr Elsewhere")  # teaches no class of this pupil: not offered
    second = await world.add_parent(chat.pupil, name="Robin Second")

    offered = await api.get(url, headers=chat.parent.headers)
    assert offered.status_code == 200, offered.text
    items = offered.json()["items"]
    assert items[0] == {"id": world.teacher.id, "name": "Mrs Patel", "role": "teacher", "class_staff": True}
    assert {(i["id"], i["role"], i["class_staff"]) for i in items[1:]} == {
        (world.admin.id, "admin", False),
        (world.office.id, "office", False),
    }
    guardians = (await api.get(url, headers=world.teacher.headers)).json()["items"]
    assert sorted(g["id"] for g in guardians) == sorted([chat.parent.id, second.id])
    assert {g["role"] for g in guardians} == {"parent"} and all(g["language"] for g in guardians)

    _, other_parent = await world.add_family("Zed")
    assert (await api.get(url, headers=other_parent.headers)).status_code == 404  # not their child
    assert (await api.get(url, headers=chat.pupil.headers)).status_code == 403  # pupils never message
    assert (await api.get("/api/students/999999/contacts", headers=world.teacher.headers)).status_code == 404
