"""Office routing over the API (P8): notice with the office's phone, a copy in the office inbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from server.services import Services
from tests.conftest import Clock
from tests.factories import World, outbox
from tests.messaging.conftest import FRIDAY_EVENING, MONDAY_OPENING, WEDNESDAY_MORNING, Chat, open_chat


async def test_p8_sickness_message_is_routed_to_the_office(
    api: httpx.AsyncClient, chat: Chat, world: World, services: Services
) -> None:
    await world.update_school(office_phone="01632 960123")
    sent = await api.post(
        chat.messages_url(),
        json={"text": "Sam is off sick today with a temperature"},
        headers=chat.parent.headers,
    )
    assert sent.status_code == 201
    message = sent.json()
    assert message["office_topic"] == "sickness" and message["delivery"] == "live"

    items = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    notice = items[0]
    assert notice["system"] is True
    assert "office" in notice["text"] and "01632 960123" in notice["text"] and "sickness" in notice["text"]
    # The teacher still gets the message itself, without the parent's notice.
    teacher_items = (await api.get(chat.messages_url(), headers=chat.teacher.headers)).json()["items"]
    assert [m["id"] for m in teacher_items] == [message["id"]]

    for reader in (world.office, world.admin):
        inbox = await api.get("/api/office/messages", headers=reader.headers)
        assert inbox.status_code == 200
        first = inbox.json()["items"][0]
        assert first["id"] == message["id"] and first["topic"] == "sickness"
        assert first["message"]["text"] == "Sam is off sick today with a temperature"
        assert first["student"]["name"] == "Sam" and first["student"]["class_name"] == "Class 1"
        assert first["guardian"]["id"] == chat.parent.id and first["staff"]["id"] == chat.teacher.id
    staff_events = await outbox(services, f"school:{world.school.id}:staff", "office.message")
    assert [e["data"]["message"] for e in staff_events] == [
        {
            "id": message["id"],
            "conversation_id": chat.id,
            "topic": "sickness",
            "created_at": message["created_at"],
        }
    ]


async def test_p8_teachers_and_parents_cannot_read_the_office_inbox(
    api: httpx.AsyncClient, chat: Chat
) -> None:
    for actor in (chat.teacher, chat.parent):
        reply = await api.get("/api/office/messages", headers=actor.headers)
        assert reply.status_code == 403


async def test_p8_ordinary_messages_stay_out_of_the_office(
    api: httpx.AsyncClient, chat: Chat, world: World
) -> None:
    await api.post(
        chat.messages_url(), json={"text": "He loved the science lesson"}, headers=chat.parent.headers
    )
    assert (await api.get("/api/office/messages", headers=world.office.headers)).json()["items"] == []
    items = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    assert not any(m["system"] for m in items)


async def test_p8_staff_messages_are_not_routed(api: httpx.AsyncClient, chat: Chat, world: World) -> None:
    reply = await api.post(
        chat.messages_url(), json={"text": "Sam seemed poorly today"}, headers=chat.teacher.headers
    )
    assert reply.json()["office_topic"] is None
    assert (await api.get("/api/office/messages", headers=world.office.headers)).json()["items"] == []


async def test_p8_without_a_phone_number_the_notice_still_points_to_the_office(
    api: httpx.AsyncClient, chat: Chat
) -> None:
    await api.post(
        chat.messages_url(), json={"text": "Can she start piano lessons?"}, headers=chat.parent.headers
    )
    notice = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"][0]
    assert (
        notice["system"]
        and "contact the school office" in notice["text"]
        and "music lessons" in notice["text"]
    )


async def test_p8_repeated_topic_gets_one_notice(api: httpx.AsyncClient, chat: Chat, world: World) -> None:
    for text in ("Sam is ill", "Still ill, sorry", "Sam has a fever"):
        await api.post(chat.messages_url(), json={"text": text}, headers=chat.parent.headers)
    items = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    assert sum(m["system"] for m in items) == 1
    inbox = (await api.get("/api/office/messages", headers=world.office.headers)).json()["items"]
    assert len(inbox) == 3
    page = await api.get(
        f"/api/office/messages?before={inbox[0]['id']}&limit=1", headers=world.office.headers
    )
    assert [i["id"] for i in page.json()["items"]] == [inbox[1]["id"]]


class RoutingOnly:
    """A translation port that only classifies for office routing (no engines for readers)."""

    registry = None

    def __init__(self, translate: Callable[[str, str, str], Awaitable[str | None]]) -> None:
        self.translate_for_routing = translate


async def test_p8_a_message_in_another_language_is_classified_after_translation(
    api: httpx.AsyncClient, world: World, clock: Clock, services: Services
) -> None:
    clock.set(WEDNESDAY_MORNING)
    chat = await open_chat(api, world, "Zofia", language="pl")
    calls: list[tuple[str, str, str]] = []

    async def translate(text: str, source: str, target: str) -> str | None:
        calls.append((text, source, target))
        return "My daughter has a music lesson on Tuesday" if text.startswith("Córka") else None

    services.translation = RoutingOnly(translate)  # type: ignore[assignment]
    try:
        routed = await api.post(
            chat.messages_url(), json={"text": "Córka ma we wtorek zajęcia"}, headers=chat.parent.headers
        )
        # No translation: the original is classified with the table's Polish terms.
        fallback = await api.post(
            chat.messages_url(), json={"text": "Zofia jest chora"}, headers=chat.parent.headers
        )
    finally:
        services.translation = None
    assert calls[0] == ("Córka ma we wtorek zajęcia", "pl", "en")
    assert routed.json()["office_topic"] == "music_lessons"
    assert fallback.json()["office_topic"] == "sickness"
    assert routed.json()["lang"] == "pl" and routed.json()["translation"] == {"status": "not_needed"}
    # The English-reading teacher gets the original until a translation exists (no engine here).
    teacher_view = (await api.get(chat.messages_url(), headers=chat.teacher.headers)).json()["items"]
    assert teacher_view[-1]["translation"] == {"status": "unavailable"}


async def test_p8_a_failing_translation_falls_back_to_the_original(
    api: httpx.AsyncClient, world: World, clock: Clock, services: Services
) -> None:
    clock.set(WEDNESDAY_MORNING)
    chat = await open_chat(api, world, "Maria", language="es")

    async def broken(text: str, source: str, target: str) -> str | None:
        raise RuntimeError("engine crashed")

    services.translation = RoutingOnly(broken)  # type: ignore[assignment]
    try:
        reply = await api.post(
            chat.messages_url(), json={"text": "Maria tiene fiebre"}, headers=chat.parent.headers
        )
    finally:
        services.translation = None
    assert reply.status_code == 201 and reply.json()["office_topic"] == "sickness"


async def test_p8_a_held_office_message_reaches_the_office_when_released(
    api: httpx.AsyncClient, world: World, clock: Clock, services: Services
) -> None:
    clock.set(WEDNESDAY_MORNING)
    chat = await open_chat(api, world)
    clock.set(FRIDAY_EVENING)
    sent = (
        await api.post(chat.messages_url(), json={"text": "Sam has a fever"}, headers=chat.parent.headers)
    ).json()
    items = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    assert sorted(m["text"][:20] for m in items if m["system"]) == sorted(
        ["This looks like a me", "Thank you, your mess"]
    )
    assert (await api.get("/api/office/messages", headers=world.office.headers)).json()["items"] == []
    assert await outbox(services, f"school:{world.school.id}:staff", "office.message") == []
    clock.set(MONDAY_OPENING)
    await services.jobs.run_once("release_held_messages")
    inbox = (await api.get("/api/office/messages", headers=world.office.headers)).json()["items"]
    assert [i["id"] for i in inbox] == [sent["id"]]
    assert len(await outbox(services, f"school:{world.school.id}:staff", "office.message")) == 1


async def test_p8_a_school_extends_the_topics_with_a_file_in_its_data_folder(
    api: httpx.AsyncClient, chat: Chat, world: World, services: Services
) -> None:
    path = services.settings.data_dir / "office_topics.json"
    path.write_text('{"uniform": {"label": "school uniform", "terms": {"en": ["uniform", "jumper"]}}}')
    try:
        reply = await api.post(
            chat.messages_url(), json={"text": "Sam's jumper is too small"}, headers=chat.parent.headers
        )
        assert reply.json()["office_topic"] == "uniform"
        inbox = (await api.get("/api/office/messages", headers=world.office.headers)).json()["items"]
        assert inbox[0]["topic_label"] == "school uniform"
        path.write_text("{not json")
        plain = await api.post(
            chat.messages_url(), json={"text": "Another jumper?"}, headers=chat.parent.headers
        )
        assert plain.status_code == 201 and plain.json()["office_topic"] is None  # a broken file is ignored
    finally:
        path.unlink()


async def test_p8_a_message_written_to_the_office_itself_is_not_routed_again(
    api: httpx.AsyncClient, chat: Chat, world: World
) -> None:
    assert chat.pupil.student is not None
    office_chat = await api.post(
        "/api/conversations",
        json={"student_id": chat.pupil.student.id, "staff_id": world.office.id},
        headers=chat.parent.headers,
    )
    url = f"/api/conversations/{office_chat.json()['id']}/messages"
    sent = await api.post(url, json={"text": "Sam is off sick today"}, headers=chat.parent.headers)
    assert sent.status_code == 201 and sent.json()["office_topic"] is None
    items = (await api.get(url, headers=chat.parent.headers)).json()["items"]
    assert not any(m["system"] for m in items)
