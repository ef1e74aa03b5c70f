"""Client message ids make retries safe; a thousand concurrent messages lose and duplicate nothing."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select

from server.db.models import Message
from server.services import Services
from tests.conftest import Clock
from tests.factories import World
from tests.messaging.conftest import WEDNESDAY_MORNING, Chat, open_chat


async def test_a_retry_with_the_same_client_id_returns_the_first_message(
    api: httpx.AsyncClient, chat: Chat
) -> None:
    body = {"text": "See you at pick-up time", "client_id": "phone-1:42"}
    first = await api.post(chat.messages_url(), json=body, headers=chat.parent.headers)
    again = await api.post(chat.messages_url(), json=body, headers=chat.parent.headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    items = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    assert [m["id"] for m in items if not m["system"]] == [first.json()["id"]]
    # The same client id from someone else is their own message.
    theirs = await api.post(chat.messages_url(), json=body, headers=chat.teacher.headers)
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]


async def test_a_client_id_reused_in_another_conversation_is_a_conflict(
    api: httpx.AsyncClient, chat: Chat, world: World
) -> None:
    assert chat.pupil.student is not None
    office = await api.post(
        "/api/conversations",
        json={"student_id": chat.pupil.student.id, "staff_id": world.office.id},
        headers=chat.parent.headers,
    )
    await api.post(chat.messages_url(), json={"text": "one", "client_id": "c-1"}, headers=chat.parent.headers)
    clash = await api.post(
        f"/api/conversations/{office.json()['id']}/messages",
        json={"text": "two", "client_id": "c-1"},
        headers=chat.parent.headers,
    )
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "already_exists"


async def test_concurrent_retries_of_one_message_create_it_once(api: httpx.AsyncClient, chat: Chat) -> None:
    body = {"text": "Racing", "client_id": "race-1"}
    replies = await asyncio.gather(
        *(api.post(chat.messages_url(), json=body, headers=chat.parent.headers) for _ in range(8))
    )
    assert sorted(r.status_code for r in replies) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in replies}) == 1


@pytest.mark.slow
async def test_a_thousand_messages_from_fifty_parents_at_once_lose_none_and_duplicate_none(
    api: httpx.AsyncClient, world: World, clock: Clock, services: Services
) -> None:
    clock.set(WEDNESDAY_MORNING)
    chats = [await open_chat(api, world, f"Child{n}") for n in range(50)]
    sends = [(chat, f"p{p}-m{i}") for p, chat in enumerate(chats) for i in range(20)]
    retries = sends[::10]  # 100 deliberate retries, racing their originals

    async def send(chat: Chat, client_id: str) -> tuple[str, httpx.Response]:
        reply = await api.post(
            chat.messages_url(),
            json={"text": f"Message {client_id}", "client_id": client_id},
            headers=chat.parent.headers,
        )
        return client_id, reply

    replies = await asyncio.gather(*(send(chat, cid) for chat, cid in sends + retries))
    statuses = Counter(reply.status_code for _, reply in replies)
    assert statuses == {201: 1000, 200: 100}, statuses
    ids_by_client: dict[str, set[int]] = {}
    for client_id, reply in replies:
        ids_by_client.setdefault(client_id, set()).add(reply.json()["id"])
    assert len(ids_by_client) == 1000 and all(len(ids) == 1 for ids in ids_by_client.values())

    # Retried again afterwards: still nothing new.
    late = await asyncio.gather(*(send(chat, cid) for chat, cid in retries))
    assert all(reply.status_code == 200 for _, reply in late)
    async with services.read() as session:
        stored = (
            await session.execute(
                select(func.count(), func.count(func.distinct(Message.client_id))).where(
                    Message.conversation_id.in_([chat.id for chat in chats])
                )
            )
        ).one()
    assert tuple(stored) == (1000, 1000)
    for chat in chats[:3]:
        items = (await api.get(chat.messages_url() + "?limit=100", headers=chat.teacher.headers)).json()[
            "items"
        ]
        assert len(items) == 20
