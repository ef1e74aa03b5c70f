"""Reports (P9) and what leaders may read (P19)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from server.db.models import AuditEntry
from server.services import Services
from tests.factories import World, outbox
from tests.messaging.conftest import Chat


async def _rude_message(api: httpx.AsyncClient, chat: Chat) -> dict[str, Any]:
    reply = await api.post(chat.messages_url(), json={"text": "You are useless"}, headers=chat.parent.headers)
    assert reply.status_code == 201
    return reply.json()  # type: ignore[no-any-return]


async def test_p9_the_recipient_reports_a_message_to_the_admins_queue(
    api: httpx.AsyncClient, chat: Chat, world: World, services: Services
) -> None:
    message = await _rude_message(api, chat)
    reported = await api.post(
        f"/api/messages/{message['id']}/report", json={"reason": "Abusive"}, headers=chat.teacher.headers
    )
    assert reported.status_code == 201
    report = reported.json()
    assert report["status"] == "open" and report["message_id"] == message["id"]
    again = await api.post(
        f"/api/messages/{message['id']}/report", json={"reason": "Abusive!"}, headers=chat.teacher.headers
    )
    assert again.status_code == 200 and again.json()["id"] == report["id"]

    events = await outbox(services, f"school:{world.school.id}:staff", "report.created")
    assert [e["data"]["report"]["id"] for e in events] == [report["id"]]
    assert "You are useless" not in str(events) and "Abusive" not in str(events)

    queue = await api.get("/api/reports", headers=world.admin.headers)
    assert queue.status_code == 200
    item = queue.json()["items"][0]
    assert item["id"] == report["id"] and item["reason"] == "Abusive"
    assert item["message"]["text"] == "You are useless"
    assert item["reporter"]["id"] == chat.teacher.id
    assert item["conversation"]["id"] == chat.id and item["conversation"]["guardian"]["id"] == chat.parent.id

    resolved = await api.post(
        f"/api/reports/{report['id']}/resolve",
        json={"resolution": "Spoke to parent"},
        headers=world.admin.headers,
    )
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_by"]["id"] == world.admin.id
    assert (await api.get("/api/reports", headers=world.admin.headers)).json()["items"] == []
    done = (await api.get("/api/reports?status=resolved", headers=world.admin.headers)).json()["items"]
    assert [r["resolution"] for r in done] == ["Spoke to parent"]
    assert (await api.get("/api/reports?status=all", headers=world.admin.headers)).json()["items"]
    assert (await api.get("/api/reports?status=maybe", headers=world.admin.headers)).status_code == 400


async def test_p9_only_the_recipient_may_report_and_only_admins_see_the_queue(
    api: httpx.AsyncClient, chat: Chat, world: World
) -> None:
    message = await _rude_message(api, chat)
    own = await api.post(
        f"/api/messages/{message['id']}/report", json={"reason": "x"}, headers=chat.parent.headers
    )
    assert own.status_code == 403
    for actor in (world.office, world.admin):
        outsider = await api.post(
            f"/api/messages/{message['id']}/report", json={"reason": "x"}, headers=actor.headers
        )
        assert outsider.status_code == 404
    empty = await api.post(
        f"/api/messages/{message['id']}/report", json={"reason": ""}, headers=chat.teacher.headers
    )
    assert empty.status_code == 422
    for actor in (chat.teacher, world.office, chat.parent):
        assert (await api.get("/api/reports", headers=actor.headers)).status_code == 403
        assert (await api.post("/api/reports/1/resolve", json={}, headers=actor.headers)).status_code == 403
    assert (
        await api.post(f"/api/reports/{2**40}/resolve", json={}, headers=world.admin.headers)
    ).status_code == 404


async def test_p9_notices_from_homeroom_cannot_be_reported(api: httpx.AsyncClient, chat: Chat) -> None:
    await api.post(chat.messages_url(), json={"text": "Sam is ill"}, headers=chat.parent.headers)
    notice = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"][0]
    assert notice["system"]
    reply = await api.post(
        f"/api/messages/{notice['id']}/report", json={"reason": "x"}, headers=chat.parent.headers
    )
    assert reply.status_code == 422


async def test_p19_admins_cannot_list_or_read_a_conversation_nobody_reported(
    api: httpx.AsyncClient, chat: Chat, world: World
) -> None:
    await api.post(chat.messages_url(), json={"text": "A private worry"}, headers=chat.parent.headers)
    assert (await api.get("/api/conversations", headers=world.admin.headers)).json()["items"] == []
    for url in (f"/api/conversations/{chat.id}", chat.messages_url()):
        reply = await api.get(url, headers=world.admin.headers)
        assert reply.status_code == 404
        assert "A private worry" not in reply.text


async def test_p19_admins_read_a_reported_message_and_its_conversation_and_it_is_audited(
    api: httpx.AsyncClient, chat: Chat, world: World, services: Services
) -> None:
    await api.post(chat.messages_url(), json={"text": "Earlier context"}, headers=chat.parent.headers)
    message = await _rude_message(api, chat)
    report = (
        await api.post(
            f"/api/messages/{message['id']}/report", json={"reason": "Abusive"}, headers=chat.teacher.headers
        )
    ).json()
    reply = await api.get(chat.messages_url(), headers=world.admin.headers)
    assert reply.status_code == 200
    assert [m["text"] for m in reply.json()["items"]] == ["You are useless", "Earlier context"]
    # Reading is not taking part: the admin still cannot write, mark read, or see it in their list.
    assert (
        await api.post(chat.messages_url(), json={"text": "hi"}, headers=world.admin.headers)
    ).status_code == 404
    assert (await api.get("/api/conversations", headers=world.admin.headers)).json()["items"] == []
    async with services.read() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.school_id == world.school.id, AuditEntry.target_id == chat.id
                )
            )
        ).all()
    assert "conversation.read_reported" in actions
    # Another school's admin still cannot.
    from tests.factories import make_world

    elsewhere = await make_world(services)
    assert (await api.get(chat.messages_url(), headers=elsewhere.admin.headers)).status_code == 404
    assert (await api.get("/api/reports", headers=elsewhere.admin.headers)).json()["items"] == []
    foreign = await api.post(f"/api/reports/{report['id']}/resolve", json={}, headers=elsewhere.admin.headers)
    assert foreign.status_code == 404
