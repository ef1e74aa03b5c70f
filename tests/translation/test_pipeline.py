"""The pipeline on a translating app (tiny argos packages, then Apertium), on SQLite and PostgreSQL.

Posts and messages are written the way the domain modules write them: the row and
its ``post.created`` / ``message.created`` event in one transaction. The pipeline
sees the committed event, queues one job per needed language, and emits
``post.translated`` / ``message.translated`` for that language's readers only.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from server.db.models import Conversation, Message, OutboxEvent, Post
from server.events import emit, validate_event
from server.language import stored as cache
from server.language.view import cached_translations, reader_view, routes_of, translations_by_id
from server.services import Services
from server.translation import pipeline as pipeline_module
from server.translation.pipeline import Pipeline
from server.translation.queue import MemoryQueue
from server.translation.registry import Registry
from tests.factories import World, make_world
from tests.translation.fakes import FakeEngine
from tests.translation.fixtures import ARGOS_LANG, needs_apertium, needs_argos

pytestmark = [needs_argos, needs_apertium]


async def class_with_families(services: Services, languages: list[str]) -> tuple[World, int]:
    world = await make_world(services)
    school_class = world.classes[0]
    for n, language in enumerate(languages):
        pupil = await world.add_student(school_class, f"Child{n}", "Family")
        await world.add_parent(pupil, language=language)
    return world, school_class.id


async def write_post(services: Services, world: World, class_id: int, text: str, lang: str = "en") -> int:
    """A class post and its event in one transaction, as the stories module writes it."""
    async with services.transaction() as session:
        post = Post(
            school_id=world.school.id,
            scope="class",
            class_id=class_id,
            author_id=world.teacher.id,
            text=text,
            lang=lang,
        )
        session.add(post)
        await session.flush()
        translations = await cache.languages_of(session, text, lang)
        emit(
            session,
            f"class:{class_id}",
            "post.created",
            {
                "post": {
                    "id": post.id,
                    "scope": "class",
                    "class_id": class_id,
                    "text": text,
                    "lang": lang,
                    "translations": translations,
                }
            },
        )
    return post.id


async def events(services: Services, type_: str, key: str, item_id: int) -> list[OutboxEvent]:
    async with services.read() as session:
        rows = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.id)
        )
        return [row for row in rows.all() if row.data.get(key) == item_id]


def unique_text(prefix: str = "Tomorrow is PE day") -> str:
    return f"{prefix} {secrets.token_hex(3)}. Please bring your trainers and a water bottle!"


async def test_a_class_post_is_translated_once_per_needed_language(
    tservices: Services, pipeline: Pipeline
) -> None:
    world, class_id = await class_with_families(tservices, ["es", "es", ARGOS_LANG, "en", "pl"])
    text = unique_text()
    calls = pipeline.engine_calls
    post_id = await write_post(tservices, world, class_id, text)
    assert await pipeline.idle()
    assert pipeline.engine_calls - calls == 2  # es (Apertium) and ur (argos); en not needed; pl unavailable
    translated = await events(tservices, "post.translated", "post_id", post_id)
    by_lang = {row.data["lang"]: row for row in translated}
    assert set(by_lang) == {"es", ARGOS_LANG}
    for lang, row in by_lang.items():
        assert row.channel == f"class:{class_id}"
        assert row.data["audience"] == {"language": lang}
        validate_event(row.type, row.data)
    assert "Mañana" in by_lang["es"].data["text"] and by_lang["es"].data["engine"] == "apertium"
    assert by_lang[ARGOS_LANG].data["engine"] == "argos"


async def test_a_post_in_a_language_no_engine_reads_skips_planning(
    tservices: Services, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its audience is not even looked up: no reader could be offered a translation of it."""
    world, class_id = await class_with_families(tservices, ["es"])
    looked_up: list[int] = []
    real = pipeline_module.post_audience_languages

    async def counting(session: Any, post: Post) -> set[str]:
        looked_up.append(post.id)
        return await real(session, post)

    monkeypatch.setattr(pipeline_module, "post_audience_languages", counting)
    assert not pipeline.registry.translates_from("pl")
    polish = await write_post(tservices, world, class_id, f"Jutro WF {secrets.token_hex(3)}.", lang="pl")
    english = await write_post(tservices, world, class_id, unique_text())
    assert await pipeline.idle()
    assert looked_up == [english]
    assert await events(tservices, "post.translated", "post_id", polish) == []
    assert [row.data["lang"] for row in await events(tservices, "post.translated", "post_id", english)] == [
        "es"
    ]


async def test_rest_readers_see_their_language_ready_and_others_their_status(
    tservices: Services, pipeline: Pipeline
) -> None:
    world, class_id = await class_with_families(tservices, ["es", ARGOS_LANG])
    text = unique_text("Reading books go home every Monday")
    post_id = await write_post(tservices, world, class_id, text)
    assert await pipeline.idle()
    post = {"id": post_id, "scope": "class", "class_id": class_id, "text": text, "lang": "en"}
    views = {}
    for language in ("es", ARGOS_LANG, "en", "pl"):
        async with tservices.read() as session:
            found = await cached_translations(session, [(text, "en")], language)
        views[language] = reader_view(post, language, found, routes=routes_of(tservices))
    assert views["es"]["translation"] == {"status": "ready", "engine": "apertium"}
    assert views["es"]["lang"] == "es" and views["es"]["original"] == {"text": text, "lang": "en"}
    assert views[ARGOS_LANG]["translation"]["status"] == "ready" and views[ARGOS_LANG]["lang"] == ARGOS_LANG
    assert views["en"]["translation"]["status"] == "not_needed" and views["en"]["text"] == text
    assert views["pl"]["translation"] == {"status": "unavailable"}
    async with tservices.read() as session:
        by_id = await translations_by_id(
            session, [(post_id, text, "en"), (post_id + 10**6, "never", "en")], "es"
        )
    assert by_id == {post_id: {"es": views["es"]["text"]}}


async def test_100_identical_posts_cause_one_translation_per_language(
    tservices: Services, pipeline: Pipeline
) -> None:
    world, class_id = await class_with_families(tservices, ["es", ARGOS_LANG])
    text = unique_text("Weekly reminder: reading books go home every Monday")
    calls = pipeline.engine_calls
    ids = [await write_post(tservices, world, class_id, text) for _ in range(100)]
    assert await pipeline.idle(wait_seconds=60)
    assert pipeline.engine_calls - calls == 2
    for post_id in (ids[0], ids[57], ids[-1]):
        assert {
            row.data["lang"] for row in await events(tservices, "post.translated", "post_id", post_id)
        } == {
            "es",
            ARGOS_LANG,
        }


async def test_a_repeated_text_comes_from_the_cache_and_is_carried_in_the_next_event(
    tservices: Services, pipeline: Pipeline
) -> None:
    world, class_id = await class_with_families(tservices, ["es"])
    text = unique_text("Lunch money reminder")
    await write_post(tservices, world, class_id, text)
    assert await pipeline.idle()
    calls = pipeline.engine_calls
    second = await write_post(tservices, world, class_id, text)
    assert await pipeline.idle()
    assert pipeline.engine_calls == calls
    async with tservices.read() as session:
        rows = (await session.scalars(select(OutboxEvent).where(OutboxEvent.type == "post.created"))).all()
    event = next(row for row in rows if row.data["post"]["id"] == second)
    assert set(event.data["post"]["translations"]) == {"es"}


async def test_an_edit_is_translated_again_and_a_stale_job_says_nothing(
    tservices: Services, pipeline: Pipeline
) -> None:
    world, class_id = await class_with_families(tservices, ["es"])
    old, new = unique_text("Trip to the museum on Friday"), unique_text("Trip to the museum on Monday")
    post_id = await write_post(tservices, world, class_id, old)
    assert await pipeline.idle()
    # Edit, then a late job for the old text arrives: it must not overwrite the new text's translation.
    async with tservices.transaction() as session:
        post = await session.get(Post, post_id)
        assert post is not None
        post.text = new
        emit(
            session,
            f"class:{class_id}",
            "post.updated",
            {"post": {"id": post_id, "text": new, "lang": "en", "scope": "class", "class_id": class_id}},
        )
    assert await pipeline.idle()
    before = len(await events(tservices, "post.translated", "post_id", post_id))
    await pipeline.request_translations("post", post_id, old + " ", "en", {"es"})
    assert await pipeline.idle()
    translated = await events(tservices, "post.translated", "post_id", post_id)
    assert len(translated) == before == 2
    assert "lunes" in translated[-1].data["text"].lower()


async def test_p18_a_deleted_post_gets_no_translation_event(tservices: Services, pipeline: Pipeline) -> None:
    world, class_id = await class_with_families(tservices, ["es"])
    text = unique_text("Assembly starts at nine")
    async with tservices.transaction() as session:
        post = Post(school_id=world.school.id, scope="class", class_id=class_id, text=text, lang="en")
        session.add(post)
        await session.flush()
        post_id = post.id
    async with tservices.transaction() as session:
        await session.delete(await session.get(Post, post_id))
    await pipeline.request_translations("post", post_id, text, "en", {"es"})
    assert await pipeline.idle()
    assert await events(tservices, "post.translated", "post_id", post_id) == []


async def conversation(services: Services, parent_language: str) -> tuple[World, Any, int]:
    world = await make_world(services)
    pupil = await world.add_student(world.classes[0], "Sofia", "Garcia")
    parent = await world.add_parent(pupil, language=parent_language)
    async with services.transaction() as session:
        found = Conversation(
            school_id=world.school.id,
            student_id=pupil.student.id,  # type: ignore[union-attr]
            guardian_id=parent.id,
            staff_id=world.teacher.id,
        )
        session.add(found)
        await session.flush()
    return world, parent, found.id


async def write_message(
    services: Services, conversation_id: int, sender: int, recipient: int, text: str, lang: str, **fields: Any
) -> int:
    async with services.transaction() as session:
        message = Message(conversation_id=conversation_id, sender_id=sender, text=text, lang=lang, **fields)
        session.add(message)
        await session.flush()
        data = {"message": {"id": message.id, "conversation_id": conversation_id, "text": text, "lang": lang}}
        emit(session, f"user:{recipient}", "message.created", data)
        emit(session, f"user:{sender}", "message.created", data)
    return message.id


async def test_a_parents_spanish_message_reaches_the_teacher_in_english_with_the_original(
    tservices: Services, pipeline: Pipeline
) -> None:
    world, parent, conversation_id = await conversation(tservices, "es")
    text = f"Mi hijo no puede venir hoy porque tiene fiebre {secrets.token_hex(2)}."
    message_id = await write_message(tservices, conversation_id, parent.id, world.teacher.id, text, "es")
    assert await pipeline.idle()
    [event] = await events(tservices, "message.translated", "message_id", message_id)
    assert event.channel == f"user:{world.teacher.id}"
    assert event.data["audience"] == {"language": "en"} and "fever" in event.data["text"]
    validate_event(event.type, event.data)
    async with tservices.read() as session:
        found = await cached_translations(session, [(text, "es")], "en")
    view = reader_view(
        {"id": message_id, "conversation_id": conversation_id, "text": text, "lang": "es"},
        "en",
        found,
        routes=routes_of(tservices),
    )
    assert view["lang"] == "en" and "fever" in view["text"]
    assert view["original"] == {"text": text, "lang": "es"}
    # The teacher's English reply reaches the parent in Spanish.
    reply = f"Thank you for telling us {secrets.token_hex(2)}. Get well soon!"
    reply_id = await write_message(tservices, conversation_id, world.teacher.id, parent.id, reply, "en")
    assert await pipeline.idle()
    [back] = await events(tservices, "message.translated", "message_id", reply_id)
    assert (
        back.channel == f"user:{parent.id}" and back.data["lang"] == "es" and "Gracias" in back.data["text"]
    )


async def test_a_message_held_for_quiet_hours_is_not_pushed_to_staff_early(
    tservices: Services, pipeline: Pipeline
) -> None:
    world, parent, conversation_id = await conversation(tservices, "es")
    text = f"¿Puedo hablar con usted mañana {secrets.token_hex(2)}?"
    message_id = await write_message(
        tservices, conversation_id, parent.id, world.teacher.id, text, "es", delivery="held_quiet_hours"
    )
    assert await pipeline.idle()
    assert await events(tservices, "message.translated", "message_id", message_id) == []
    async with tservices.read() as session:
        assert await cache.lookup(session, text, "es", "en") is not None  # ready for the release


async def test_office_routing_gets_the_text_in_english(tservices: Services) -> None:
    route = tservices.translation.translate_for_routing
    english = await route("Mi hijo no puede venir hoy porque tiene fiebre.", "es", "en")
    assert english is not None and "fever" in english
    assert await route("My child is ill.", "en", "en") == "My child is ill."
    assert await route("Dziecko jest chore.", "pl", "en") is None


async def test_languages_endpoint_marks_the_translatable_ones(
    translating_app: Starlette, tservices: Services
) -> None:
    world = await make_world(tservices)
    transport = httpx.ASGITransport(app=translating_app, client=("10.9.9.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/api/languages", headers=world.teacher.headers)
    assert response.status_code == 200
    available = {item["code"] for item in response.json()["items"] if item["available"]}
    assert {"en", "es", ARGOS_LANG} <= available
    assert "pl" not in available


@pytest.mark.parametrize("kind", ["note", ""])
async def test_an_unknown_item_kind_is_refused(pipeline: Pipeline, kind: str) -> None:
    with pytest.raises(ValueError, match="unknown item kind"):
        await pipeline.request_translations(kind, 1, "x", "en", {"es"})


async def plain_post(services: Services, world: World, class_id: int, text: str) -> int:
    """A post row without an event (so only the pipeline under test sees it)."""
    async with services.transaction() as session:
        found = Post(school_id=world.school.id, scope="class", class_id=class_id, text=text, lang="en")
        session.add(found)
        await session.flush()
    return found.id


async def test_a_failing_engine_is_retried_and_the_job_completes(tservices: Services) -> None:
    world, class_id = await class_with_families(tservices, ["xx"])
    fake = FakeEngine("fake", {("en", "xx")}, failures=1)
    queue = MemoryQueue(tasks=1)
    pipe = Pipeline(tservices, Registry([fake]), queue)
    await queue.start(pipe.run_job, consume=True)
    try:
        text = unique_text("Sports day")
        post_id = await plain_post(tservices, world, class_id, text)
        assert await pipe.request_translations("post", post_id, text, "en", {"xx", "en", "pl"}) == 1
        assert await pipe.idle()
        assert len(fake.calls) == 2  # failed once, retried
        [event] = await events(tservices, "post.translated", "post_id", post_id)
        assert event.data["text"] == f"[xx] {text}" and event.data["engine"] == "fake"
    finally:
        await queue.stop()


async def test_identical_jobs_in_two_worker_processes_translate_once(tservices: Services) -> None:
    from dataclasses import replace

    from redis.asyncio import Redis

    from tests.services import redis_url

    redis = Redis.from_url(redis_url())
    prefix = f"homeroom-test-{secrets.token_hex(4)}"
    shared = replace(
        tservices, settings=tservices.settings.with_(redis_prefix=prefix, translation_claim_seconds=2)
    )
    fakes = [FakeEngine("fake", {("en", "xx")}) for _ in range(2)]
    gate = asyncio.Event()
    for fake in fakes:
        fake.gate = gate
    pipes = [Pipeline(replace(shared, redis=redis), Registry([fake]), MemoryQueue()) for fake in fakes]
    text = unique_text("Harvest festival")
    try:
        first = asyncio.create_task(pipes[0].translate_text(text, "en", "xx"))
        await asyncio.wait_for(fakes[0].called.wait(), 5)
        second = asyncio.create_task(pipes[1].translate_text(text, "en", "xx"))
        await asyncio.sleep(0.2)  # the second is waiting on the first's lock, not translating
        assert fakes[1].calls == []
        gate.set()
        one, two = await asyncio.gather(first, second)
        assert (one.cached, two.cached) == (False, True)
        assert one.text == two.text == f"[xx] {text}"
        assert len(fakes[0].calls) + len(fakes[1].calls) == 1
    finally:
        keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def test_a_message_routed_to_the_office_is_translated_for_the_office_too(
    tservices: Services, pipeline: Pipeline
) -> None:
    world, parent, conversation_id = await conversation(tservices, "es")
    await world.add_user("office", "Pani Nowak", language=ARGOS_LANG)
    text = f"Mi hijo tiene una cita con el médico mañana {secrets.token_hex(2)}."
    await write_message(
        tservices, conversation_id, parent.id, world.teacher.id, text, "es", topic="appointment"
    )
    assert await pipeline.idle()
    async with tservices.read() as session:
        assert await cache.lookup(session, text, "es", "en") is not None  # the teacher
        assert await cache.lookup(session, text, "es", ARGOS_LANG) is not None  # the office, via English
