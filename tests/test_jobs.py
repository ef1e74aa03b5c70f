"""The periodic job runner: a lease in ``job_leases`` makes each tick run in one process."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

from sqlalchemy import update

from server.db.models import JobLease
from server.jobs import Job, JobRunner
from server.services import Services
from server.timeutil import utcnow


def _name() -> str:
    return f"test-job-{secrets.token_hex(4)}"


async def test_run_once_runs_the_job_now(services: Services) -> None:
    runs: list[Services] = []

    async def job(given: Services) -> None:
        runs.append(given)

    name = _name()
    runner = JobRunner([Job(name, every=3600, run=job)], holder="a")
    runner.bind(services)
    assert await runner.run_once(name) is True
    assert await runner.run_once(name) is True  # run_once ignores the interval
    assert runs == [services, services]


async def test_a_lease_held_by_another_process_is_respected_until_it_expires(services: Services) -> None:
    runs: list[str] = []
    name = _name()
    holder = JobRunner([Job(name, every=60, run=lambda s: _append(runs, "a"))], holder="a")
    other = JobRunner([Job(name, every=60, run=lambda s: _append(runs, "b"))], holder="b")
    holder.bind(services)
    other.bind(services)
    await holder.run_once(name)
    async with services.transaction() as session:  # "a" is mid-run
        await session.execute(
            update(JobLease)
            .where(JobLease.name == name)
            .values(holder="a", until=utcnow() + timedelta(minutes=1))
        )
    assert await other.run_once(name) is False
    async with services.transaction() as session:  # "a" died; its lease ran out
        await session.execute(
            update(JobLease).where(JobLease.name == name).values(until=utcnow() - timedelta(seconds=1))
        )
    assert await other.run_once(name) is True
    assert runs == ["a", "b"]


async def _append(runs: list[str], value: str) -> None:
    runs.append(value)


async def test_two_ticking_processes_never_run_a_job_at_once(services: Services) -> None:
    name = _name()
    running = 0
    overlap = False
    runs = 0
    enough = asyncio.Event()

    async def job(_: Services) -> None:
        nonlocal running, overlap, runs
        running += 1
        overlap = overlap or running > 1
        await asyncio.sleep(0.02)
        running -= 1
        runs += 1
        if runs >= 4:
            enough.set()

    runners = [JobRunner([Job(name, every=0.05, run=job)], holder=h) for h in ("a", "b")]
    app_runner = services.jobs
    for runner in runners:
        await runner.start(services)
    try:
        await asyncio.wait_for(enough.wait(), timeout=10)
    finally:
        for runner in runners:
            await runner.stop()
        services.jobs = app_runner
    assert not overlap


async def test_a_failing_job_frees_its_lease(services: Services) -> None:
    name = _name()
    calls = 0

    async def job(_: Services) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    runner = JobRunner([Job(name, every=60, run=job)], holder="a")
    runner.bind(services)
    assert await runner.run_once(name) is True
    assert await runner.run_once(name) is True
    assert calls == 2
