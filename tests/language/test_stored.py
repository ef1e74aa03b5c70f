"""The translation cache (both databases) and the in-process coalescer."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from server.db.models import Post, Translation
from server.language import stored as cache
from server.services import Services
from tests.factories import make_world


def test_content_hash_is_sha256_of_the_exact_text() -> None:
    assert cache.content_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert cache.content_hash("abc ") != cache.content_hash("abc")


async def test_store_then_lookup_many_in_one_query(tservices: Services) -> None:
    texts = [f"Weekly reminder {cache.content_hash(str(n))[:8]}." for n in range(3)]
    async with tservices.transaction() as session:
        for n, text in enumerate(texts[:2]):
            await cache.store(session, text, "en", "es", f"Recordatorio {n}.", "apertium")
    async with tservices.read() as session:
        found = await cache.lookup_many(session, [(t, "en") for t in texts] + [(texts[0], "es")], "es")
    assert found == {
        (texts[0], "en"): cache.Cached("Recordatorio 0.", "apertium"),
        (texts[1], "en"): cache.Cached("Recordatorio 1.", "apertium"),
    }


async def test_storing_the_same_key_twice_keeps_the_first_and_does_not_fail(tservices: Services) -> None:
    text = f"Same again {id(tservices)} {asyncio.get_running_loop().time()}."
    async with tservices.transaction() as session:
        await cache.store(session, text, "en", "es", "first", "apertium")
    async with tservices.transaction() as session:
        await cache.store(session, text, "en", "es", "second", "argos")
    async with tservices.read() as session:
        assert await cache.lookup(session, text, "en", "es") == cache.Cached("first", "apertium")
        assert await cache.languages_of(session, text, "en") == {"es": "first"}


async def test_p18_forget_removes_translations_unless_another_item_has_the_same_text(
    tservices: Services,
) -> None:
    world = await make_world(tservices)
    text = f"Sports day moved {world.school.id}."
    async with tservices.transaction() as session:
        posts = [
            Post(school_id=world.school.id, scope="school", author_id=world.teacher.id, text=text, lang="en")
            for _ in range(2)
        ]
        session.add_all(posts)
        await cache.store(session, text, "en", "es", "Día de deportes.", "apertium")
        await cache.store(session, text, "en", "ur", "کھیل", "argos")

    async def count() -> int:
        async with tservices.read() as session:
            return int(
                await session.scalar(
                    select(func.count())
                    .select_from(Translation)
                    .where(Translation.content_hash == cache.content_hash(text))
                )
                or 0
            )

    async with tservices.transaction() as session:
        await session.delete(await session.get(Post, posts[0].id))
        assert await cache.forget(session, text, "en") == 0  # the other post still says it
    assert await count() == 2
    async with tservices.transaction() as session:
        await session.delete(await session.get(Post, posts[1].id))
        assert await cache.forget(session, text, "en") == 2
    assert await count() == 0


async def test_identical_concurrent_work_runs_once() -> None:
    coalescer = cache.Coalescer()
    gate = asyncio.Event()
    runs: list[int] = []

    async def work() -> str:
        runs.append(1)
        await gate.wait()
        return "done"

    tasks = [asyncio.create_task(coalescer.run("key", work)) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*tasks) == ["done"] * 10
    assert runs == [1] and coalescer.runs == 1 and coalescer.joined == 9
    assert len(coalescer) == 0


async def test_a_failure_reaches_every_waiter_and_the_next_call_runs_again() -> None:
    coalescer = cache.Coalescer()
    gate = asyncio.Event()

    async def fail() -> str:
        await gate.wait()
        raise RuntimeError("engine down")

    tasks = [asyncio.create_task(coalescer.run("k", fail)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)

    async def ok() -> str:
        return "fine"

    assert await coalescer.run("k", ok) == "fine"


async def test_when_the_first_caller_is_cancelled_a_waiter_runs_the_work_itself() -> None:
    coalescer = cache.Coalescer()
    started = asyncio.Event()
    calls: list[int] = []

    async def slow() -> str:
        calls.append(1)
        started.set()
        await asyncio.sleep(0.05 if len(calls) > 1 else 10)
        return "value"

    first = asyncio.create_task(coalescer.run("k", slow))
    await started.wait()
    second = asyncio.create_task(coalescer.run("k", slow))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == "value"
    assert len(calls) == 2
    with pytest.raises(asyncio.CancelledError):
        await first
