"""Presence inside one process: a dict of users and their connections per channel."""

from __future__ import annotations

from server.presence.base import SESSION_FULL, USER_FULL, Presence, User


class MemoryPresence(Presence):
    """Presence for the single-process server; nothing expires because nothing outlives the process."""

    def __init__(self, ttl: float) -> None:
        super().__init__(ttl)
        self._channels: dict[str, dict[int, tuple[User, set[str]]]] = {}
        self._sockets: dict[int, dict[str, int]] = {}  # user id → conn key → session id

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

    async def claim_socket(
        self, conn_key: str, user_id: int, session_id: int, per_session: int, per_user: int
    ) -> str | None:
        sockets = self._sockets.get(user_id, {})
        if sum(1 for held in sockets.values() if held == session_id) >= per_session:
            return SESSION_FULL
        if len(sockets) >= per_user:
            return USER_FULL
        self._sockets.setdefault(user_id, {})[conn_key] = session_id
        return None

    async def release_socket(self, conn_key: str, user_id: int, session_id: int) -> None:
        sockets = self._sockets.get(user_id)
        if sockets is not None:
            sockets.pop(conn_key, None)
            if not sockets:
                del self._sockets[user_id]
