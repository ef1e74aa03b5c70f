"""Failure budgets for sign-in, invite codes and password changes: slow down, then refuse.

Only failures count (a wrong password, an unknown code), never successes, so a whole
staff room signing in from the school's one address is never refused. Per-account
failures are counted per account *and* address, so someone elsewhere guessing a
password cannot lock its owner out; a wider budget per address stops one address from
trying many accounts.

Each attempt takes a place in every budget before its credentials are checked and gives
it back unless it failed: parallel attempts cannot all slip under a limit together. Past
half a budget each attempt waits first (0.5 s, doubling, at most 5 s; awaited, so the
event loop carries on); a spent budget answers 429 ``rate_limited`` with ``Retry-After``
without checking anything. The counters are the rate limiter's: Redis when configured,
so every process shares them, else memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from server.auth.tokens import digest
from server.errors import ApiError, rate_limited
from server.services import Services

FIRST_DELAY = 0.5
MAX_DELAY = 5.0


@dataclass(frozen=True)
class Budget:
    """At most ``failures`` failed attempts on ``key`` per ``window`` seconds."""

    key: str
    failures: int
    window: float = 60.0


def budget_key(bucket: str, *parts: str) -> str:
    """A counter name; emails and codes are hashed so the counters hold no personal data."""
    return f"{bucket}:{digest('|'.join(parts))[:32]}"


def delay_before(failed: int, allowed: int) -> float:
    """Seconds the next attempt waits after ``failed`` recent failures of ``allowed``.

    The first half of a budget is free (people mistype); then 0.5 s, doubling, up to 5 s.
    """
    free = max(1, allowed // 2)
    if failed < free:
        return 0.0
    return float(min(MAX_DELAY, FIRST_DELAY * 2 ** (failed - free)))


@asynccontextmanager
async def attempt(
    services: Services, budgets: Sequence[Budget], *, failed: Callable[[ApiError], bool]
) -> AsyncIterator[None]:
    """Run one checked attempt inside ``budgets``; an ``ApiError`` that ``failed`` accepts counts.

    429 before the body runs when any budget is spent; waits first when one is past half.
    """
    limiter = services.limiter
    taken: list[str] = []
    delay = 0.0
    try:
        for budget in budgets:
            before, wait = await limiter.take(budget.key, budget.failures, budget.window)
            if wait is not None:
                raise rate_limited(wait)
            taken.append(budget.key)
            delay = max(delay, delay_before(before, budget.failures))
    except BaseException:
        for key in taken:
            await limiter.give_back(key)
        raise
    counted = False
    try:
        if delay:
            await services.sleep(delay)
        yield
    except ApiError as exc:
        counted = failed(exc)
        raise
    finally:
        if not counted:
            for key in taken:
                await limiter.give_back(key)


async def spend(services: Services, budgets: Sequence[Budget]) -> None:
    """Count an attempt that always costs (asking for a reset email): 429 once a budget is spent."""
    limiter = services.limiter
    for budget in budgets:
        _, wait = await limiter.take(budget.key, budget.failures, budget.window)
        if wait is not None:
            raise rate_limited(wait)
