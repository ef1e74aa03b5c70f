"""Job queues: in-process tasks, and a real Redis stream whose dead consumers' jobs are claimed again."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from server.translation.queue import MAX_DELIVERIES, Job, MemoryQueue, RedisQueue
from tests.services import redis_url


def job(n: int, target: str = "es") -> Job:
    return Job(kind="post", item_id=n, text=f"Text {n}.", source="en", target=target)


def test_a_job_round_trips_through_its_encoding() -> None:
    original = job(3, "ur")
    assert Job.decode(original.encode()) == original


async def test_memory_queue_does_every_job_with_its_tasks() -> None:
    queue = MemoryQueue(tasks=3)
    done: list[int] = []

    async def handler(item: Job) -> None:
        await asyncio.sleep(0.001)
        done.append(item.item_id)

    await queue.start(handler, consume=True)
    try:
        await queue.put([job(n) for n in range(50)])
        assert await queue.drain(5)
        assert sorted(done) == list(range(50))
        assert await queue.depth() == 0
    finally:
        await queue.stop()


async def test_a_failing_job_does_not_stop_the_memory_queue() -> None:
    queue = MemoryQueue(tasks=1)
    done: list[int] = []

    async def handler(item: Job) -> None:
        if item.item_id == 0:
            raise RuntimeError("boom")
        done.append(item.item_id)

    await queue.start(handler, consume=True)
    try:
        await queue.put([job(0), job(1)])
        assert await queue.drain(5)
        assert done == [1]
    finally:
        await queue.stop()


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url())
    try:
        await client.ping()
    except OSError:
        pytest.skip("Redis is not reachable")
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    name = f"homeroom-test-{secrets.token_hex(4)}"
    yield name
    keys = [key async for key in redis.scan_iter(f"{name}:*")]
    if keys:
        await redis.delete(*keys)


async def test_redis_queue_hands_each_job_to_one_consumer_and_acknowledges_it(
    redis: Redis, prefix: str
) -> None:
    done: list[tuple[str, int]] = []

    def handler_for(name: str):  # type: ignore[no-untyped-def]
        async def handler(item: Job) -> None:
            done.append((name, item.item_id))

        return handler

    producer = RedisQueue(redis, prefix)
    await producer.start(handler_for("producer"), consume=False)
    consumers = [RedisQueue(redis, prefix, tasks=2, block_ms=100) for _ in range(2)]
    for n, consumer in enumerate(consumers):
        await consumer.start(handler_for(f"c{n}"), consume=True)
    try:
        await producer.put([job(n) for n in range(40)])
        assert await producer.drain(10)
        assert sorted(item for _, item in done) == list(range(40))  # each exactly once
        assert {name for name, _ in done} <= {"c0", "c1"}
        assert await redis.xlen(producer.stream) == 0
    finally:
        for consumer in consumers:
            await consumer.stop()


async def test_jobs_a_dead_consumer_left_pending_are_claimed_and_done(redis: Redis, prefix: str) -> None:
    gate = asyncio.Event()
    started = asyncio.Event()
    done: list[int] = []

    async def stuck(item: Job) -> None:
        started.set()
        await gate.wait()  # never set: this consumer "dies" holding the job

    async def working(item: Job) -> None:
        done.append(item.item_id)

    doomed = RedisQueue(redis, prefix, tasks=1, block_ms=100, claim_seconds=3600)
    await doomed.start(stuck, consume=True)
    await doomed.put([job(1)])
    await asyncio.wait_for(started.wait(), 5)
    for task in doomed._workers:  # the process dies: no acknowledgement, no goodbye
        task.cancel()
    await asyncio.wait(doomed._workers, timeout=5)
    pending = await redis.xpending(doomed.stream, doomed.group)
    assert pending["pending"] == 1

    survivor = RedisQueue(redis, prefix, tasks=1, block_ms=100, claim_seconds=0.2)
    await survivor.start(working, consume=True)
    try:
        assert await survivor.drain(10)
        assert done == [1]
        assert survivor.claimed == 1
    finally:
        await survivor.stop()


async def test_a_job_that_keeps_failing_is_dropped_after_the_limit(redis: Redis, prefix: str) -> None:
    attempts: list[int] = []

    async def failing(item: Job) -> None:
        attempts.append(item.item_id)
        raise RuntimeError("always")

    queue = RedisQueue(redis, prefix, tasks=1, block_ms=50, claim_seconds=0.05)
    await queue.start(failing, consume=True)
    try:
        await queue.put([job(9)])
        assert await queue.drain(15)
        assert queue.dropped == 1
        assert len(attempts) == MAX_DELIVERIES
    finally:
        await queue.stop()
