"""The ``Presence`` interface and the factory choosing its backend by the broker's URL.

Presence is kept at two grains: users per ``*:staff`` channel (who is online), and the open
sockets of each user (the per-session and per-user connection caps).
"""

from __future__ import annotations

import abc
from typing import Any

from server.settings import Settings, uses_redis

User = dict[str, Any]

# What :meth:`Presence.claim_socket` answers when a socket may not open: which cap it met.
SESSION_FULL = "session"
USER_FULL = "user"


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

    # Sockets per user: every open ``/ws`` connection holds a slot until it closes (or its
    # process stops renewing it), so a user cannot open sockets without bound.

    @abc.abstractmethod
    async def claim_socket(
        self, conn_key: str, user_id: int, session_id: int, per_session: int, per_user: int
    ) -> str | None:
        """Take a slot for one socket; None when taken, else the cap met (``SESSION_FULL``/``USER_FULL``)."""

    @abc.abstractmethod
    async def release_socket(self, conn_key: str, user_id: int, session_id: int) -> None:
        """Give a socket's slot back."""

    async def renew_sockets(self, sockets: list[tuple[str, int, int]]) -> None:
        """Renew the expiry of this process's ``(conn_key, user_id, session_id)`` slots."""
        return None


def create_presence(settings: Settings) -> Presence:
    """Redis presence when the broker is Redis, memory otherwise."""
    if uses_redis(settings.broker_url):
        from server.presence.redis import RedisPresence

        return RedisPresence(settings.broker_url, settings.redis_prefix, settings.presence_ttl_seconds)
    from server.presence.memory import MemoryPresence

    return MemoryPresence(settings.presence_ttl_seconds)
