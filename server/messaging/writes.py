"""Write transactions that survive SQLite's single writer.

PostgreSQL takes concurrent writers as they come. SQLite allows one writer at a
time, and a transaction that read before writing fails at once with "database is
locked" (it cannot wait: its snapshot is stale) when another writer committed in
between. So on SQLite the writes of one process go through one asyncio lock,
taken *before* a connection is checked out so waiting writers hold no connection,
and a write that still meets a lock held by another process (or by code that does
not use this helper) is retried from the start with a short randomised back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from server.services import Services

T = TypeVar("T")
ATTEMPTS = 10


def _is_locked(exc: OperationalError) -> bool:
    text = str(exc.orig or exc).lower()
    return "database is locked" in text or "database table is locked" in text


@contextlib.asynccontextmanager
async def _serialised(services: Services) -> AsyncIterator[None]:
    if not services.db.is_sqlite:
        yield
        return
    async with services.db.write_lock:
        yield


async def write(services: Services, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction; on SQLite serialised and retried when locked."""
    for attempt in range(ATTEMPTS):
        try:
            async with _serialised(services), services.transaction() as session:
                return await work(session)
        except OperationalError as exc:
            if not services.db.is_sqlite or not _is_locked(exc) or attempt == ATTEMPTS - 1:
                raise
        await asyncio.sleep(random.uniform(0.005, 0.02) * 2 ** min(attempt, 5))
    raise AssertionError("unreachable")
