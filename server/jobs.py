"""Periodic jobs (releasing held messages, retention) run by every process, each tick by one.

:class:`JobRunner` is a :class:`server.app.Part`. Every process runs one; before a
job runs, the runner claims the job's row in ``job_leases`` with a conditional
UPDATE (the lease is free and the job's interval has passed since its last run),
so with several processes each tick runs in exactly one of them. A lease has an
expiry, so a process that dies mid-run only delays the job. Jobs must still be
safe to run twice (a lease can expire under a very slow run): the message release
claims each row it releases, for instance.

Leases are timed by the wall clock, never by ``services.clock`` (which tests move
around): the clock a job reads to decide *what* is due is the injected one.
Tests run a job now with ``await runner.run_once(name)`` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.engine import rowcount
from server.db.models import JobLease
from server.messaging.writes import write
from server.services import Services
from server.timeutil import utcnow

log = logging.getLogger("homeroom.jobs")


@dataclass(frozen=True)
class Job:
    """A named job run every ``every`` seconds; ``lease`` bounds how long one run may hold it."""

    name: str
    every: float
    run: Callable[[Services], Awaitable[Any]]
    lease: float = 120.0


class JobRunner:
    """Runs its jobs on their intervals, claiming each tick through the ``job_leases`` table."""

    def __init__(
        self,
        jobs: Sequence[Job],
        *,
        holder: str | None = None,
        wall_clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.jobs = {job.name: job for job in jobs}
        self.holder = holder or f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
        self.wall_clock = wall_clock
        self.services: Services | None = None
        self._local = {name: asyncio.Lock() for name in self.jobs}
        self._task: asyncio.Task[None] | None = None

    def bind(self, services: Services) -> None:
        """Use these services without ticking (``run_once`` only): another process, in tests."""
        self.services = services

    async def start(self, services: Services) -> None:
        """Begin ticking; the runner is reachable as ``services.jobs``."""
        self.bind(services)
        services.jobs = self
        if self.jobs:
            self._task = asyncio.create_task(self._loop(), name="homeroom-jobs")

    async def stop(self) -> None:
        """Stop ticking; a run in progress is cancelled and its lease expires on its own."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self, name: str) -> bool:
        """Run a job now, whatever its interval; False when another process holds its lease."""
        return await self._run(self.jobs[name], due_only=False)

    async def _loop(self) -> None:
        pause = min(job.every for job in self.jobs.values())
        while True:
            for job in self.jobs.values():
                try:
                    await self._run(job, due_only=True)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("job %s could not run", job.name)
            await asyncio.sleep(pause)

    async def _run(self, job: Job, *, due_only: bool) -> bool:
        services = self.services
        if services is None:
            raise RuntimeError("the job runner has not been started")
        async with self._local[job.name]:
            if not await self._claim(services, job, due_only=due_only):
                return False
            try:
                await job.run(services)
            except Exception:
                log.exception("job %s failed", job.name)
            finally:
                await self._release(services, job)
            return True

    async def _claim(self, services: Services, job: Job, *, due_only: bool) -> bool:
        now = self.wall_clock()
        free = or_(JobLease.until.is_(None), JobLease.until <= now)
        if due_only:
            last_due = now - timedelta(seconds=job.every * 0.9)
            free = and_(free, or_(JobLease.last_run_at.is_(None), JobLease.last_run_at <= last_due))

        async def take(session: AsyncSession) -> bool:
            result = await session.execute(
                update(JobLease)
                .where(JobLease.name == job.name, free)
                .values(holder=self.holder, until=now + timedelta(seconds=job.lease))
                .execution_options(synchronize_session=False)
            )
            if rowcount(result):
                return True
            if await session.get(JobLease, job.name) is not None:
                return False
            session.add(JobLease(name=job.name, holder=self.holder, until=now + timedelta(seconds=job.lease)))
            await session.flush()
            return True

        try:
            return await write(services, take)
        except IntegrityError:
            return False  # another process created the row first, and holds it

    async def _release(self, services: Services, job: Job) -> None:
        async def done(session: AsyncSession) -> None:
            await session.execute(
                update(JobLease)
                .where(JobLease.name == job.name, JobLease.holder == self.holder)
                .values(until=None, last_run_at=self.wall_clock())
                .execution_options(synchronize_session=False)
            )

        await write(services, done)
