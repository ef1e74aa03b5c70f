"""The office answers what was routed to it (P8): a reply into the family's thread, and "done".

The class teacher, the thread's other member, sees both: the office's reply in the thread
and the routed message marked handled, live on their own channel.
"""

from __future__ import annotations

import httpx

from server.services import Services
from tests.factories import World, error_of, events_on
from tests.messaging.conftest import Chat


async def _routed(api: httpx.AsyncClient, chat: Chat) -> int:
    sent = await api.post(
        chat.messages_url(),
        json={"text": "Sam is off sick today with a temperature"},
        headers=chat.parent.headers,
    )
    assert sent.status_code == 201 and sent.json()["office_topic"] == "sickness"
    return int(sent.json()["id"])


async def test_the_office_replies_in_the_familys_thread_and_the_teacher_sees_it(
    api: httpx.AsyncClient, chat: Chat, world: World
) -> None:
    routed = await _routed(api, chat)
    reply = await api.post(
        f"/api/office/messages/{routed}/reply",
        json={"text": "Thank you, we have recorded Sam's absence."},
        headers=world.office.headers,
    )
    assert reply.status_code == 201, reply.text
    answer = reply.json()
    assert answer["sender"]["id"] == world.office.id and answer["sender"]["role"] == "office"
    for reader in (chat.parent, chat.teacher):
        items = (await api.get(chat.messages_url(), headers=reader.headers)).json()["items"]
        mine = next(m for m in items if m["id"] == answer["id"])
        assert mine["sender"] == {"id": world.office.id, "name": world.office.user.name, "role": "office"}


async def test_done_marks_the_routed_message_handled_for_the_teacher_live_and_is_audited(
    api: httpx.AsyncClient, chat: Chat, world: World, services: Services
) -> None:
    routed = await _routed(api, chat)
    done = await api.post(f"/api/office/messages/{routed}/done", headers=world.office.headers)
    assert done.status_code == 200, done.text
    assert done.json()["done_by"]["id"] == world.office.id
    again = await api.post(f"/api/office/messages/{routed}/done", headers=world.admin.headers)
    assert again.json()["done_by"]["id"] == world.office.id  # the first hand is kept
    teacher_view = (await api.get(chat.messages_url(), headers=chat.teacher.headers)).json()["items"]
    assert next(m for m in teacher_view if m["id"] == routed)["office_done_at"]
    inbox = (await api.get("/api/office/messages", headers=world.office.headers)).json()["items"]
    assert next(i for i in inbox if i["id"] == routed)["message"]["office_done_at"]
    events = await events_on(services, f"user:{chat.teacher.id}", "office.done")
    assert [e["data"]["message_id"] for e in events] == [routed, routed]
    audit = (await api.get("/api/audit?action=office.done", headers=world.admin.headers)).json()["items"]
    assert len(audit) == 1 and audit[0]["actor"]["name"] == world.office.user.name


async def test_only_the_office_and_admins_answer_and_only_routed_messages(
    api: httpx.AsyncClient, chat: Chat, world: World
) -> None:
    routed = await _routed(api, chat)
    for actor in (chat.teacher, chat.parent):
        error_of(await api.post(f"/api/office/messages/{routed}/done", headers=actor.headers), 403)
        error_of(
            await api.post(f"/api/office/messages/{routed}/reply", json={"text": "x"}, headers=actor.headers),
            403,
        )
    plain = await api.post(
        chat.messages_url(), json={"text": "Thank you for the lovely photos"}, headers=chat.parent.headers
    )
    error_of(
        await api.post(f"/api/office/messages/{plain.json()['id']}/done", headers=world.office.headers), 404
    )
    error_of(
        await api.post(
            f"/api/office/messages/{routed}/reply", json={"text": "  "}, headers=world.office.headers
        ),
        422,
    )
