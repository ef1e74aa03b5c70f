"""P18: readers' reports of bad translations keep copies of both texts; they go with what they copy.

A report goes when the post or message it reports is deleted, when its text is replaced or
blanked, and when the reader who made it, the author of the message, or the pupil is erased
(by an admin, by ``DELETE /api/me`` or by retention). A reader finds their own in their export.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import httpx
import orjson
from sqlalchemy import select

from server.db.models import Message, Student, TranslationReport
from server.language.stored import content_hash
from server.privacy.retention import run_retention
from server.services import Services
from tests.conftest import Clock
from tests.factories import PASSWORD, Actor, World
from tests.privacy.conftest import Family, build_family


async def _translated(services: Services, text: str, target: str = "fr") -> None:
    """A cached translation of ``text`` from English, as the pipeline would leave it."""
    from server.db.models import Translation

    async with services.transaction() as session:
        session.add(
            Translation(
                content_hash=content_hash(text),
                source="en",
                target=target,
                text=f"[{target}] {text}",
                engine="test",
            )
        )


async def _report(api: httpx.AsyncClient, actor: Actor, kind: str, item_id: int, lang: str = "fr") -> int:
    body = {"kind": kind, "id": item_id, "lang": lang, "reason": f"wrong {secrets.token_hex(2)}"}
    response = await api.post("/api/translations/report", json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _post(api: httpx.AsyncClient, services: Services, world: World) -> tuple[int, str]:
    text = f"Swimming kit on Friday {secrets.token_hex(3)}"
    response = await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": text}, headers=world.teacher.headers
    )
    assert response.status_code == 201, response.text
    await _translated(services, text)
    return int(response.json()["id"]), text


async def _parents_message(services: Services, family: Family) -> int:
    async with services.read() as session:
        found = await session.scalar(select(Message.id).where(Message.sender_id == family.parent.id))
    assert found is not None
    return int(found)


async def _left(services: Services, ids: list[int]) -> set[int]:
    async with services.read() as session:
        rows = await session.scalars(select(TranslationReport.id).where(TranslationReport.id.in_(ids)))
        return set(rows.all())


async def test_p18_deleting_or_rewriting_a_post_drops_the_reports_of_it(
    api: httpx.AsyncClient, services: Services, world: World, family: Family
) -> None:
    deleted, _ = await _post(api, services, world)
    edited, _ = await _post(api, services, world)
    kept, _ = await _post(api, services, world)
    gone = await _report(api, family.parent, "post", deleted)
    rewritten = await _report(api, family.parent, "post", edited)
    stays = await _report(api, family.parent, "post", kept)

    response = await api.delete(f"/api/posts/{deleted}", headers=world.teacher.headers)
    assert response.status_code in (200, 204), response.text
    response = await api.patch(
        f"/api/posts/{edited}", json={"text": "Swimming is on Thursday now"}, headers=world.teacher.headers
    )
    assert response.status_code == 200, response.text

    assert await _left(services, [gone, rewritten, stays]) == {stays}
    listed = (await api.get("/api/translations/reports", headers=world.admin.headers)).json()["items"]
    assert [item["id"] for item in listed] == [stays]


async def test_p18_erasing_a_pupil_drops_reports_of_their_messages_and_posts_and_theirs(
    api: httpx.AsyncClient, services: Services, world: World, family: Family
) -> None:
    assert family.pupil.student is not None
    message_id = await _parents_message(services, family)  # its French translation is cached
    about = await _report(api, world.teacher, "message", message_id)
    class_post, _ = await _post(api, services, world)
    by_pupil = await _report(api, family.pupil, "post", class_post)
    by_parent = await _report(api, family.parent, "post", class_post)

    response = await api.delete(f"/api/students/{family.pupil.student.id}", headers=world.admin.headers)
    assert response.status_code == 200, response.text

    assert await _left(services, [about, by_pupil, by_parent]) == {by_parent}


async def test_p18_an_erased_account_takes_its_reports_and_the_reports_of_its_messages(
    api: httpx.AsyncClient, services: Services, world: World, family: Family
) -> None:
    message_id = await _parents_message(services, family)
    of_message = await _report(api, world.teacher, "message", message_id)
    class_post, _ = await _post(api, services, world)
    by_parent = await _report(api, family.parent, "post", class_post)
    by_teacher = await _report(api, world.teacher, "post", class_post)

    response = await api.request(
        "DELETE", "/api/me", json={"password": PASSWORD}, headers=family.parent.headers
    )
    assert response.status_code == 200, response.text

    assert await _left(services, [of_message, by_parent, by_teacher]) == {by_teacher}


async def test_p18_retention_drops_the_reports_of_a_leavers_messages(
    api: httpx.AsyncClient, services: Services, world: World, clock: Clock
) -> None:
    leaver = await build_family(api, services, world)
    staying = await build_family(api, services, world)
    gone = await _report(api, world.teacher, "message", await _parents_message(services, leaver))
    stays = await _report(api, world.teacher, "message", await _parents_message(services, staying))
    assert leaver.pupil.student is not None
    async with services.transaction() as session:
        row = await session.get(Student, leaver.pupil.student.id)
        assert row is not None
        row.left_at = clock() - timedelta(days=services.settings.retention_days + 1)

    assert (await run_retention(services)).pupils >= 1
    assert await _left(services, [gone, stays]) == {stays}


async def test_p18_a_reader_finds_their_own_reports_in_their_export(
    api: httpx.AsyncClient, services: Services, world: World, family: Family
) -> None:
    class_post, text = await _post(api, services, world)
    mine = await _report(api, family.parent, "post", class_post)
    theirs = await _report(api, world.teacher, "post", class_post)

    response = await api.get("/api/me/export", headers=family.parent.headers)
    assert response.status_code == 200, response.text
    [report] = orjson.loads(response.text)["translation_reports"]
    assert report["id"] == mine and report["kind"] == "post" and report["item_id"] == class_post
    assert report["original"] == {"text": text, "lang": "en"}
    assert report["translation"] == {"text": f"[fr] {text}", "lang": "fr", "engine": "test"}
    assert report["reason"].startswith("wrong ")
    teacher = orjson.loads((await api.get("/api/me/export", headers=world.teacher.headers)).text)
    assert [r["id"] for r in teacher["translation_reports"]] == [theirs]
