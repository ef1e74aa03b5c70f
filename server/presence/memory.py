"""Presence inside one process: a dict of users and their connections per channel."""

from __future__ import annotations

from server.presence.base import Presence, User


class MemoryPresence(Presence):
    """Presence for the single-process server; nothing expires because nothing outlives the process."""

    def __init__(self, ttl: float) -> None:
        super().__init__(ttl)
        self._channels: dict[str, dict[int, tuple[User, set[str]]]] = {}

    async def join(self, channel: str, conn_key: str, user: User) -> bool:
        users = self._channels.setdefault(channel, {})
        entry = users.get(user["id"])
        if entry is None:
            users[user["id"]] = (user, {conn_key})
            return True
        entry[1].add(conn_key)
        return False

    async def leave(self, channel: str, conn_key: str, user_id: int) -> bool:
        users = self._channels.get(channel)
        if users is None or user_id not in users:
            return False
        keys = users[user_id][1]
        keys.discard(conn_key)
        if keys:
            return False
        del users[user_id]
        if not users:
            del self._channels[channel]
        return True

    async def members(self, channel: str) -> list[User]:
        users = self._channels.get(channel, {})
        return [users[user_id][0] for user_id in sorted(users)]
