"""The running server's parts, built once at start-up and passed to every handler.

``Services`` is what a route reaches through ``request.app.state.services``: the
settings, the database, the one Redis pool of the process, the rate limiter, the clock
(and the way to wait), the media storage, and typed ports to the parts with a lifetime
(the live layer, translation, recordings, periodic jobs). Each part fills its own port
when the app starts it (``server/app.py``), and the ordered list of commit listeners
is built there too: nothing else is installed from outside.
Tests build their own with a fake clock or another database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.ratelimit import RateLimiter
from server.db.engine import Database
from server.db.models import OutboxEvent
from server.redis_clients import RedisClient
from server.settings import Settings
from server.timeutil import utcnow

if TYPE_CHECKING:
    from server.channels.part import LivePart
    from server.jobs import JobRunner
    from server.media.processing import RecordingPart
    from server.media.storage import Storage
    from server.notify.mail import Mailer
    from server.notify.worker import PushWorker
    from server.translation.fetch_job import FetchPart
    from server.translation.part import TranslationPart

CommitListener = Callable[[list[OutboxEvent]], Awaitable[None]]
"""Called with the outbox rows of each committed transaction, in order; must not raise."""

ReadyCheck = Callable[[], Awaitable[object]]
"""Raises unless a backing service answers (``/readyz``)."""


@runtime_checkable
class CommitListening(Protocol):
    """A part that wants every committed batch of events (the live outbox, translation)."""

    async def after_commit(self, rows: list[OutboxEvent]) -> None: ...


@dataclass
class Services:
    """Everything a request handler may need, owned by the app's lifespan."""

    settings: Settings
    db: Database
    limiter: RateLimiter
    clock: Callable[[], datetime] = utcnow
    # How sign-in throttling waits (``server.auth.throttle``); tests pass one that records.
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    # The process's one Redis client, of a server or a cluster (None with ``memory://``): shared by the rate
    # limiter, the translation queue and the pipeline's locks.
    redis: RedisClient | None = None
    storage: Storage | None = None
    # Run in this order after every commit with the rows it emitted (``server/app.py`` builds it).
    commit_listeners: list[CommitListener] = field(default_factory=list)
    ready_checks: dict[str, ReadyCheck] = field(default_factory=dict)
    # Ports, each filled by its part when the app starts it (None when the part does not run).
    live: LivePart | None = None
    translation: TranslationPart | None = None
    translation_fetch: FetchPart | None = None
    recordings: RecordingPart | None = None
    jobs: JobRunner | None = None
    push: PushWorker | None = None
    mail: Mailer | None = None

    def __post_init__(self) -> None:
        if self.storage is None:
            from server.media.storage import storage_for  # media imports this module

            self.storage = storage_for(self.settings)

    @property
    def media(self) -> Storage:
        """The media storage (always present)."""
        assert self.storage is not None
        return self.storage

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit on success, then hand the events it emitted to the listeners."""
        async with self.db.session() as session:
            yield session
            await session.commit()
            rows: list[OutboxEvent] = session.info.pop("outbox", [])
        if rows:
            for listener in self.commit_listeners:
                await listener(rows)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only: nothing is committed (on PostgreSQL there is no transaction)."""
        async with self.db.read_session() as session:
            yield session

    async def access_changed(self, user_id: int) -> None:
        """After a commit that changed what a user may see or whether they may be signed in.

        (Suspension, session revoked, child unlinked, account erased.) The live layer
        re-checks that user's connections in every process: closing those whose session
        ended (4003) and dropping subscriptions no longer allowed.
        """
        if self.live is not None:
            await self.live.access_changed(user_id)

    async def school_access_changed(self, school_id: int) -> None:
        """After a commit that changed the terms for a whole school (a new code of conduct, P17)."""
        if self.live is not None:
            await self.live.school_access_changed(school_id)

    async def forget_history(self, channels: list[str]) -> None:
        """After an erasure: drop these channels' live history everywhere so it is not replayed (P18)."""
        if self.live is not None:
            await self.live.forget_history(channels)
