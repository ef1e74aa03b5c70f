"""The ``Presence`` interface and the factory choosing its backend by the broker's URL."""

from __future__ import annotations

import abc
from typing import Any

from server.settings import Settings

User = dict[str, Any]


class Presence(abc.ABC):
    """Connections present per channel, reported as users (one entry per user)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl

    async def start(self) -> None:
        """Connect; called once before anything else."""
        return None

    async def stop(self) -> None:
        """Release every resource."""
        return None

    @abc.abstractmethod
    async def join(self, channel: str, conn_key: str, user: User) -> bool:
        """Record one connection of ``user``; True when the user was not present before."""

    @abc.abstractmethod
    async def leave(self, channel: str, conn_key: str, user_id: int) -> bool:
        """Forget one connection; True when it was the user's last one on the channel."""

    @abc.abstractmethod
    async def members(self, channel: str) -> list[User]:
        """The users present on ``channel``, by id."""

    async def heartbeat(self, entries: list[tuple[str, str, int]]) -> None:
        """Renew the expiry of this process's ``(channel, conn_key, user_id)`` entries."""
        return None

    async def expire(self) -> list[tuple[str, User]]:
        """Drop expired entries; returns ``(channel, user)`` for users who thereby left."""
        return []


def create_presence(settings: Settings) -> Presence:
    """Redis presence when the broker is Redis, memory otherwise."""
    if settings.broker_url.startswith(("redis://", "rediss://", "unix://")):
        from server.presence.redis import RedisPresence

        return RedisPresence(settings.broker_url, settings.redis_prefix, settings.presence_ttl_seconds)
    from server.presence.memory import MemoryPresence

    return MemoryPresence(settings.presence_ttl_seconds)
