"""The running server's parts, built once at start-up and passed to every handler.

``Services`` is what a route reaches through ``request.app.state.services``: the
settings, the database, the rate limiter, the clock (and the way to wait) and the
live-event outlet.
Tests build their own with a fake clock or another database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.ratelimit import RateLimiter
from server.db.engine import Database
from server.db.models import OutboxEvent
from server.settings import Settings
from server.timeutil import utcnow

OutboxSink = Callable[[list[OutboxEvent]], Awaitable[None]]
AccessHook = Callable[[int], Awaitable[None]]
ForgetHook = Callable[[list[str]], Awaitable[None]]


async def _drop(_: list[OutboxEvent]) -> None:
    return None


async def _forget_nothing(_: list[str]) -> None:
    return None


async def _nothing(_: int) -> None:
    return None


@dataclass
class Services:
    """Everything a request handler may need, owned by the app's lifespan."""

    settings: Settings
    db: Database
    limiter: RateLimiter
    clock: Callable[[], datetime] = utcnow
    # How sign-in throttling waits (``server.auth.throttle``); tests pass one that records.
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    after_commit: OutboxSink = _drop
    # Called after a commit that changed what a user may see or whether they may be
    # signed in at all (suspension, session revoked, child unlinked, account erased).
    # The live layer re-checks that user's connections in every process: closing
    # those whose session ended (4003) and dropping subscriptions no longer allowed.
    access_changed: AccessHook = _nothing
    # Called after a commit that changed the terms for a whole school (a new code of
    # conduct, P17): every process re-checks the connections of that school's parents.
    school_access_changed: AccessHook = _nothing
    # Called after an erasure: drop these channels' live history in the broker and make
    # their readers in every process resubscribe, so erased data is not replayed (P18).
    forget_history: ForgetHook = _forget_nothing
    extras: dict[str, Any] = field(default_factory=dict)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit on success, then publish the events it emitted."""
        async with self.db.session() as session:
            yield session
            await session.commit()
            rows: list[OutboxEvent] = session.info.pop("outbox", [])
        if rows:
            await self.after_commit(rows)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only; nothing is committed."""
        async with self.db.session() as session:
            yield session
