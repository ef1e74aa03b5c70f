"""Fixed-window counters for rate limits and failure budgets (P14).

``hit`` counts every attempt (messages, uploads, exports). ``take`` and ``give_back``
count what ``server.auth.throttle`` asks them to: an attempt takes a place before it is
checked and gives it back when it did not fail, so only failures stay counted, and
parallel attempts cannot all slip under the limit together.

Memory for one process; Redis so that several processes share one count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from server.redis_clients import RedisClient
from server.settings import Settings, uses_redis


class RateLimiter(Protocol):
    """Counts attempts per key and says how long to wait once over the limit."""

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        """Record an attempt; return seconds to wait when over ``limit``, else None."""
        ...

    async def take(self, key: str, limit: int, window: float) -> tuple[int, float | None]:
        """Count one attempt unless ``limit`` are counted already.

        Returns how many were counted before it, and the seconds until the window ends
        when it was refused (then nothing is counted), else None.
        """
        ...

    async def give_back(self, key: str) -> None:
        """Uncount one attempt counted by :meth:`take` (it succeeded, or never ran)."""
        ...


class MemoryRateLimiter:
    """Per-process counters; fine for the single-process embedded server."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    def _current(self, key: str, window: float) -> tuple[float, float, int]:
        now = self._clock()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= window:
            start, count = now, 0
        return now, start, count

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        now, start, count = self._current(key, window)
        count += 1
        self._windows[key] = (start, count)
        if len(self._windows) > 100_000:
            self._prune(now, window)
        return None if count <= limit else window - (now - start)

    async def take(self, key: str, limit: int, window: float) -> tuple[int, float | None]:
        now, start, count = self._current(key, window)
        if count >= limit:
            return count, window - (now - start)
        self._windows[key] = (start, count + 1)
        if len(self._windows) > 100_000:
            self._prune(now, window)
        return count, None

    async def give_back(self, key: str) -> None:
        entry = self._windows.get(key)
        if entry is not None and entry[1] > 0:
            self._windows[key] = (entry[0], entry[1] - 1)

    def _prune(self, now: float, window: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window}


# KEYS[1] counter; ARGV[1] limit, ARGV[2] window in ms. Returns {counted before, ms left or -1}.
_TAKE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if count >= tonumber(ARGV[1]) then
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    ttl = tonumber(ARGV[2])
  end
  return {count, ttl}
end
redis.call('INCR', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {count, -1}
"""

_GIVE_BACK = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then
  redis.call('DECR', KEYS[1])
end
return 0
"""


class RedisRateLimiter:
    """Counters in Redis, shared by every process."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._take = redis.register_script(_TAKE)
        self._give_back = redis.register_script(_GIVE_BACK)

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        name = f"{self._prefix}:rl:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.pexpire(name, int(window * 1000), nx=True)
            pipe.pttl(name)
            count, _, ttl = await pipe.execute()
        return None if count <= limit else max(ttl, 0) / 1000

    async def take(self, key: str, limit: int, window: float) -> tuple[int, float | None]:
        name = f"{self._prefix}:rl:{key}"
        count, ttl = await self._take(keys=[name], args=[limit, int(window * 1000)])
        return int(count), None if int(ttl) < 0 else max(int(ttl), 0) / 1000

    async def give_back(self, key: str) -> None:
        await self._give_back(keys=[f"{self._prefix}:rl:{key}"])


def create_rate_limiter(settings: Settings, redis: RedisClient | None) -> RateLimiter:
    """The limiter for the broker URL's scheme: Redis (shared by every process) or this process's memory."""
    if uses_redis(settings.broker_url):
        if redis is None:
            raise ValueError("a redis:// broker needs the process's Redis pool")
        return RedisRateLimiter(redis, settings.redis_prefix)
    return MemoryRateLimiter()
