"""Translation job queues: in-process tasks (embedded) or a Redis stream with a consumer group.

Both take :class:`Job` values and hand each to one handler call. The memory queue
runs ``translation_jobs`` tasks in the server process. The Redis queue appends to
the stream ``<prefix>:translation:jobs``; ``python -m server worker`` processes read
it as members of one consumer group, acknowledge a job only once it is done, and
claim again (``XAUTOCLAIM``) jobs a dead worker left pending for longer than
``translation_claim_seconds``. A job that keeps failing is dropped after
``MAX_DELIVERIES`` tries, with a log line, so it cannot block the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.observability import metrics
from server.redis_clients import RedisClient
from server.settings import Settings, uses_redis
from server.timeutil import wait_event

log = logging.getLogger("homeroom.translation")

MAX_DELIVERIES = 5
Handler = Callable[["Job"], Awaitable[None]]


@dataclass(frozen=True)
class Job:
    """Translate one item's text into one language, then tell that language's readers."""

    kind: str  # "post", "message", "comment", "activity", "event" or "absence"
    item_id: int
    text: str
    source: str
    target: str
    queued_at: float = field(default_factory=time.time)

    def encode(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def decode(cls, raw: bytes | str) -> Job:
        data = orjson.loads(raw)
        return cls(
            kind=str(data["kind"]),
            item_id=int(data["item_id"]),
            text=str(data["text"]),
            source=str(data["source"]),
            target=str(data["target"]),
            queued_at=float(data.get("queued_at") or time.time()),
        )


class JobQueue(Protocol):
    """Where jobs wait; ``start(handler, consume=True)`` makes this process work on them."""

    async def put(self, jobs: Sequence[Job]) -> None: ...

    async def start(self, handler: Handler, *, consume: bool) -> None: ...

    async def stop(self) -> None: ...

    async def depth(self) -> int: ...

    async def drain(self, wait_seconds: float) -> bool: ...


class MemoryQueue:
    """Jobs in an ``asyncio.Queue``, done by ``tasks`` coroutines of this process."""

    def __init__(self, tasks: int = 4) -> None:
        self.tasks = max(1, tasks)
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._handler: Handler | None = None

    async def put(self, jobs: Sequence[Job]) -> None:
        for job in jobs:
            self._queue.put_nowait(job)
        metrics.TRANSLATION_QUEUE.set(self._queue.qsize())

    async def start(self, handler: Handler, *, consume: bool) -> None:
        self._handler = handler
        if consume:
            self._workers = [
                asyncio.create_task(self._work(), name=f"translation-job-{n}") for n in range(self.tasks)
            ]

    async def _work(self) -> None:
        assert self._handler is not None
        while True:
            job = await self._queue.get()
            metrics.TRANSLATION_QUEUE.set(self._queue.qsize())
            try:
                await self._handler(job)
            except Exception:
                log.exception("translation job failed: %s %s → %s", job.kind, job.item_id, job.target)
            finally:
                self._queue.task_done()

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    async def depth(self) -> int:
        return self._queue.qsize()

    async def drain(self, wait_seconds: float) -> bool:
        """Wait until every job put so far is done (tests and benchmarks)."""
        try:
            await asyncio.wait_for(self._queue.join(), wait_seconds)
        except TimeoutError:
            return False
        return True


class RedisQueue:
    """A Redis stream read by a consumer group; unacknowledged jobs of a dead consumer are claimed."""

    def __init__(
        self,
        redis: Any,
        prefix: str,
        *,
        tasks: int = 4,
        claim_seconds: float = 30.0,
        group: str = "translators",
        consumer: str | None = None,
        block_ms: int = 1000,
    ) -> None:
        self.redis = redis
        self.stream = f"{prefix}:translation:jobs"
        self.group = group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.tasks = max(1, tasks)
        self.claim_ms = max(1, int(claim_seconds * 1000))
        self.block_ms = block_ms
        self._handler: Handler | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._busy = 0
        self._stopping = asyncio.Event()
        self.claimed = 0
        self.dropped = 0

    async def _ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def put(self, jobs: Sequence[Job]) -> None:
        if not jobs:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for job in jobs:
                pipe.xadd(self.stream, {"job": job.encode()}, maxlen=1_000_000, approximate=True)
            await pipe.execute()

    async def start(self, handler: Handler, *, consume: bool) -> None:
        self._handler = handler
        await self._ensure_group()
        if consume:
            self._workers = [
                asyncio.create_task(self._read_loop(), name=f"translation-reader-{n}")
                for n in range(self.tasks)
            ]
            self._workers.append(asyncio.create_task(self._claim_loop(), name="translation-claimer"))

    async def stop(self) -> None:
        """Finish the jobs in hand (acknowledged, so nobody redoes them), then stop reading."""
        self._stopping.set()
        if not self._workers:
            return
        _, pending = await asyncio.wait(self._workers, timeout=self.block_ms / 1000 + 10)
        for worker in pending:  # a job stuck past the grace period: it will be claimed again
            worker.cancel()
        if pending:
            await asyncio.wait(pending, timeout=2)
        self._workers = []

    async def depth(self) -> int:
        """Jobs waiting or in progress (the stream keeps only unacknowledged jobs)."""
        return int(await self.redis.xlen(self.stream))

    async def drain(self, wait_seconds: float) -> bool:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if await self.depth() == 0:
                return True
            await asyncio.sleep(0.02)
        return False

    async def _read_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                batches = await self.redis.xreadgroup(
                    self.group, self.consumer, {self.stream: ">"}, count=1, block=self.block_ms
                )
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("translation queue: Redis unavailable (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1.0)
                continue
            except ResponseError as exc:
                if "NOGROUP" in str(exc):  # the stream was deleted (e.g. FLUSHALL): recreate it
                    await self._ensure_group()
                    continue
                raise
            for _stream, entries in batches or []:
                for entry_id, fields in entries:
                    await self._handle(entry_id, fields)  # read before stopping: done and acknowledged

    async def _claim_loop(self) -> None:
        interval = max(0.05, self.claim_ms / 2000)
        while not self._stopping.is_set():
            if await wait_event(self._stopping, interval):
                return
            try:
                await self.claim_once()
            except (RedisConnectionError, RedisTimeoutError, OSError):
                continue
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    await self._ensure_group()
                    continue
                raise

    async def claim_once(self) -> int:
        """Take over jobs another consumer left unacknowledged for too long, and do them."""
        start = "0-0"
        done = 0
        while True:
            reply = await self.redis.xautoclaim(
                self.stream, self.group, self.consumer, min_idle_time=self.claim_ms, start_id=start, count=10
            )
            start, entries = reply[0], reply[1]
            for entry_id, fields in entries:
                if fields is None:
                    continue
                self.claimed += 1
                if await self._deliveries(entry_id) > MAX_DELIVERIES:
                    self.dropped += 1
                    log.error("translation job %s failed %d times; dropped", entry_id, MAX_DELIVERIES)
                    await self._ack(entry_id)
                    continue
                await self._handle(entry_id, fields)
                done += 1
            if start in (b"0-0", "0-0"):
                return done

    async def _deliveries(self, entry_id: Any) -> int:
        rows = await self.redis.xpending_range(self.stream, self.group, min=entry_id, max=entry_id, count=1)
        return int(rows[0]["times_delivered"]) if rows else 0

    async def _handle(self, entry_id: Any, fields: dict[Any, Any]) -> None:
        assert self._handler is not None
        raw = fields.get(b"job") or fields.get("job") or b""
        try:
            job = Job.decode(raw)
        except (ValueError, KeyError, TypeError):
            log.error("translation queue: unreadable job %s dropped", entry_id)
            await self._ack(entry_id)
            return
        self._busy += 1
        try:
            await self._handler(job)
        except Exception:
            # Left unacknowledged: claimed and retried after translation_claim_seconds.
            log.exception("translation job failed: %s %s → %s", job.kind, job.item_id, job.target)
            return
        finally:
            self._busy -= 1
        await self._ack(entry_id)

    async def _ack(self, entry_id: Any) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, self.group, entry_id)
            pipe.xdel(self.stream, entry_id)
            await pipe.execute()
        with contextlib.suppress(Exception):
            metrics.TRANSLATION_QUEUE.set(await self.depth())


def create_queue(settings: Settings, redis: RedisClient | None) -> JobQueue:
    """The job queue for the broker URL's scheme: the Redis stream (shared) or in-process tasks."""
    if uses_redis(settings.broker_url) and redis is not None:
        return RedisQueue(
            redis,
            settings.redis_prefix,
            tasks=settings.translation_jobs,
            claim_seconds=settings.translation_claim_seconds,
        )
    return MemoryQueue(tasks=settings.translation_jobs)
