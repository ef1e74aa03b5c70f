"""Translations cached by (SHA-256 of the text, source, target) in the ``translations`` table.

A weekly reminder posted again is never translated twice, and identical jobs that
run at the same moment share one translation: :class:`Coalescer` within a process,
a short Redis lock across worker processes (the later job waits for the row the
first one writes). :func:`forget` removes the translations of a deleted or erased
text unless another post or message still says exactly the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, exists, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Message, Post, Translation, TranslationReport

T = TypeVar("T")
CacheKey = tuple[str, str, str]


def content_hash(text: str) -> str:
    """SHA-256 of the exact text, hex: the cache key's first part."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(text: str, source: str, target: str) -> CacheKey:
    return (content_hash(text), source, target)


@dataclass(frozen=True)
class Cached:
    """A stored translation and the engine that made it."""

    text: str
    engine: str


async def lookup_many(
    session: AsyncSession, items: Iterable[tuple[str, str]], target: str
) -> dict[tuple[str, str], Cached]:
    """Stored translations into ``target`` of many (text, source) items, in one query."""
    wanted: dict[tuple[str, str], tuple[str, str]] = {}
    for text, source in items:
        if source != target:
            wanted[(content_hash(text), source)] = (text, source)
    if not wanted:
        return {}
    found: dict[tuple[str, str], Cached] = {}
    keys = list(wanted)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = await session.execute(
            select(Translation.content_hash, Translation.source, Translation.text, Translation.engine).where(
                Translation.target == target,
                tuple_(Translation.content_hash, Translation.source).in_(chunk),
            )
        )
        for digest, source, text, engine in rows.all():
            found[wanted[(digest, source)]] = Cached(text, engine)
    return found


async def lookup(session: AsyncSession, text: str, source: str, target: str) -> Cached | None:
    """The stored translation of one text, if any."""
    return (await lookup_many(session, [(text, source)], target)).get((text, source))


# Built once: every new post asks it, and building a statement costs as much as running it.
_LANGUAGES_OF = select(Translation.target, Translation.text).where(
    Translation.content_hash == bindparam("content_hash"), Translation.source == bindparam("source")
)


async def languages_of(session: AsyncSession, text: str, source: str) -> dict[str, str]:
    """Every stored translation of a text, by target language ({lang: text})."""
    rows = await session.execute(_LANGUAGES_OF, {"content_hash": content_hash(text), "source": source})
    return {target: translated for target, translated in rows.all()}


async def store(
    session: AsyncSession, text: str, source: str, target: str, translated: str, engine: str
) -> None:
    """Keep a translation; a row already there (a concurrent job) wins and is left alone."""
    values: dict[str, Any] = {
        "content_hash": content_hash(text),
        "source": source,
        "target": target,
        "text": translated,
        "engine": engine,
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        await session.execute(pg_insert(Translation).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        await session.execute(sqlite_insert(Translation).values(**values).on_conflict_do_nothing())
    else:  # pragma: no cover - the server runs on SQLite or PostgreSQL
        if await lookup(session, text, source, target) is None:
            session.add(Translation(**values))


async def forget(session: AsyncSession, text: str, source: str) -> int:
    """Remove every translation of a deleted text unless another post or message has the same text.

    Call it in the transaction that deletes the post or message, after the delete.
    """
    await session.flush()
    still_used = await session.scalar(
        select(
            exists().where(Post.text == text, Post.lang == source)
            | exists().where(Message.text == text, Message.lang == source)
        )
    )
    if still_used:
        return 0
    result = await session.execute(
        delete(Translation).where(
            Translation.content_hash == content_hash(text), Translation.source == source
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_reports(session: AsyncSession, kind: str, item_ids: Iterable[int]) -> None:
    """Drop readers' reports of these posts or messages: they keep copies of both texts (P18).

    Call it when the post or message goes, when its text is blanked or replaced (the
    reported translation is forgotten then too).
    """
    ids = sorted(set(item_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        await session.execute(
            delete(TranslationReport).where(
                TranslationReport.kind == kind, TranslationReport.item_id.in_(chunk)
            )
        )


async def forget_reports_by(session: AsyncSession, user_id: int) -> None:
    """Drop the reports a user made; they go with the user's account (P18)."""
    await session.execute(delete(TranslationReport).where(TranslationReport.reporter_id == user_id))


class Coalescer:
    """Identical concurrent work shares one run: the second caller awaits the first one's result."""

    def __init__(self) -> None:
        self._running: dict[object, asyncio.Future[Any]] = {}
        self.runs = 0
        self.joined = 0

    def __len__(self) -> int:
        return len(self._running)

    async def run(self, key: object, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work`` unless the same key is already running; either way return its result."""
        while (running := self._running.get(key)) is not None:
            self.joined += 1
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                if not running.cancelled():
                    raise  # this caller was cancelled
                # The run we joined was cancelled (its caller went away): run it ourselves.
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        # Nobody may be waiting: mark a failure as seen so asyncio does not log it at collection.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._running[key] = future
        self.runs += 1
        try:
            result = await work()
        except Exception as exc:
            future.set_exception(exc)
            raise
        except BaseException:
            future.cancel()
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._running[key]


class RedisLock:
    """A short cross-process lock (SET NX PX) so two workers do not translate the same text at once.

    The lock lives ``ttl_seconds`` and is renewed while its holder works (:meth:`keep`), so a
    worker that dies holding it delays the others by at most ``ttl_seconds``.
    """

    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
    _EXTEND = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then "
        "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
    )

    def __init__(self, redis: Any, prefix: str, ttl_seconds: float = 5.0) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_ms = int(ttl_seconds * 1000)

    def _name(self, key: CacheKey) -> str:
        return f"{self.prefix}:translation:lock:{key[0]}:{key[1]}:{key[2]}"

    async def acquire(self, key: CacheKey, token: str) -> bool:
        return bool(await self.redis.set(self._name(key), token, nx=True, px=self.ttl_ms))

    async def release(self, key: CacheKey, token: str) -> None:
        # Delete only our own lock (it may have expired and been taken by another worker).
        await self.redis.eval(self._RELEASE, 1, self._name(key), token)

    async def held(self, key: CacheKey) -> bool:
        return bool(await self.redis.exists(self._name(key)))

    @asynccontextmanager
    async def keep(self, key: CacheKey, token: str) -> AsyncIterator[None]:
        """Hold an acquired lock for the block, renewing it, and release it at the end."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.ttl_ms / 3000)
                await self.redis.eval(self._EXTEND, 1, self._name(key), token, self.ttl_ms)

        renewing = asyncio.create_task(renew())
        try:
            yield
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
            await self.release(key, token)


async def wait_until(
    check: Callable[[], Awaitable[bool]], wait_seconds: float, interval: float = 0.05
) -> bool:
    """Poll ``check`` until it is true or ``wait_seconds`` seconds pass; return whether it became true."""
    deadline = time.monotonic() + wait_seconds
    while True:
        if await check():
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)
