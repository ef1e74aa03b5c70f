"""Fixed-window rate limits for logins and code attempts (P14).

Memory for one process; Redis so that several processes share one count.
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


class RateLimiter(Protocol):
    """Counts attempts per key and says how long to wait once over the limit."""

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        """Record an attempt; return seconds to wait when over ``limit``, else None."""
        ...


class MemoryRateLimiter:
    """Per-process counters; fine for the single-process embedded server."""

    def __init__(self, clock: object = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        now = self._clock()  # type: ignore[operator]
        start, count = self._windows.get(key, (now, 0))
        if now - start >= window:
            start, count = now, 0
        count += 1
        self._windows[key] = (start, count)
        if len(self._windows) > 100_000:
            self._prune(now, window)
        return None if count <= limit else window - (now - start)

    def _prune(self, now: float, window: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window}


class RedisRateLimiter:
    """Counters in Redis, shared by every process."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        name = f"{self._prefix}:rl:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.pexpire(name, int(window * 1000), nx=True)
            pipe.pttl(name)
            count, _, ttl = await pipe.execute()
        return None if count <= limit else max(ttl, 0) / 1000
