"""Push content and the school's rules: the reader's language, minimal content, suspension, leavers."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import select, update

from server.db.models import NotificationEvent, Student, User
from server.language import stored
from server.notify.render import render
from server.notify.worker import PushWorker
from tests.conftest import Clock
from tests.factories import World
from tests.notify.push_service import PushService
from tests.notify.test_push import subscribe

TUESDAY_MORNING = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


async def test_a_post_is_pushed_in_the_readers_language_once_translated(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    _, parent = await world.add_family("Lucía", language="es")
    await subscribe(api, parent, push_service.device("es"))
    text = "The library is open after school on Thursday."
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": text}, headers=world.teacher.headers
    )
    assert await worker.run_until_idle() == 0  # waiting a moment for the translation
    async with world.services.transaction() as session:
        await stored.store(
            session, text, "en", "es", "La biblioteca abre el jueves después de clase.", "test"
        )
    clock.advance(seconds=3)
    assert await worker.run_until_idle() == 1
    [payload] = push_service.payloads("es")
    assert payload["body"] == "La biblioteca abre el jueves después de clase."


async def test_without_a_translation_the_original_goes_after_a_short_wait(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    _, parent = await world.add_family("Piotr", language="pl")
    await subscribe(api, parent, push_service.device("pl"))
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Bring wellies"},
        headers=world.teacher.headers,
    )
    assert await worker.run_until_idle() == 0  # the wait starts at this first look
    for _ in range(9):
        clock.advance(seconds=2)
        assert await worker.run_until_idle() == 0
    clock.advance(seconds=2)
    assert await worker.run_until_idle() == 1
    assert [p["body"] for p in push_service.payloads("pl")] == ["Bring wellies"]


async def test_minimal_content_carries_no_user_written_text(world: World) -> None:
    _, parent = await world.add_family("Tom")
    post = {"id": 7, "author": {"id": world.teacher.id}, "original": {"text": "Secret plans", "lang": "en"}}
    message = {
        "id": 8,
        "conversation_id": 3,
        "sender": {"id": world.teacher.id, "name": "Mrs Patel"},
        "original": {"text": "Private words", "lang": "en"},
    }
    async with world.services.read() as session:
        reader = await session.get(User, parent.id)
        assert reader is not None
        for channel, type_, data in (
            (f"class:{world.classes[0].id}", "post.created", {"post": post}),
            (f"user:{parent.id}", "message.created", {"message": message}),
        ):
            event = NotificationEvent(channel=channel, type=type_, data=data)
            payload = await render(
                session, reader, event, school_name="School", minimal=True, translated="Secret plans"
            )
            assert "Secret" not in str(payload) and "Private" not in str(payload)
    assert payload["title"] == "New message from Mrs Patel"
    assert payload["body"] == "Open Homeroom to read it."


async def test_suspended_users_and_leavers_families_get_nothing(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    _, suspended = await world.add_family("Ada")
    leaver, leavers_parent = await world.add_family("Bo")
    _, fine = await world.add_family("Cy")
    for name, actor in (("suspended", suspended), ("leaver", leavers_parent), ("fine", fine)):
        await subscribe(api, actor, push_service.device(name))
    reply = await api.post(
        f"/api/users/{suspended.id}/suspend", json={"reason": "test"}, headers=world.admin.headers
    )
    assert reply.status_code == 200, reply.text
    assert leaver.student is not None
    async with world.services.transaction() as session:
        await session.execute(
            update(Student).where(Student.id == leaver.student.id).values(left_at=TUESDAY_MORNING)
        )
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": "Hi all"}, headers=world.teacher.headers
    )
    assert await worker.run_until_idle() == 1
    assert push_service.attempts("suspended") == push_service.attempts("leaver") == 0
    assert len(push_service.payloads("fine")) == 1


async def test_erasing_a_pupil_drops_the_notifications_about_them(
    api: httpx.AsyncClient, world: World, worker: PushWorker, push_service: PushService, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    pupil, parent = await world.add_family("Gus")
    await subscribe(api, parent, push_service.device("erased"))
    assert pupil.student is not None
    reply = await api.post(
        "/api/points",
        json={"student_ids": [pupil.student.id], "skill_id": world.skills[0].id},
        headers=world.teacher.headers,
    )
    assert reply.status_code == 201
    await worker.run_until_idle()  # gathered for a few minutes ...
    reply = await api.delete(f"/api/students/{pupil.student.id}", headers=world.admin.headers)
    assert reply.status_code in (200, 204), reply.text
    clock.advance(seconds=600)
    await worker.run_until_idle()  # ... and never sent
    assert push_service.received == []
    async with world.services.read() as session:
        left = await session.scalars(select(NotificationEvent.data))
        assert not [
            d for d in left if (d.get("award") or {}).get("student", {}).get("id") == pupil.student.id
        ]
