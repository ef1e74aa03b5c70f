"""Presence shared by every process through Redis: sorted sets of connections scored by expiry.

Keys (``P`` is the prefix): ``P:pr:{channel}:conns`` (zset of ``user_id:conn_key`` scored
by expiry in ms), ``P:pr:{channel}:users`` (hash ``user_id`` → user JSON) and ``P:pr:index``
(zset of channels with entries). Each change of a channel is one Lua script on its two
keys (one hash tag, so one slot of a Redis Cluster), so two processes never both announce
the same user joining or leaving; the index is written beside it in the same round trip.

Sockets: ``P:pr:{user:ID}:sockets``, a zset of ``session_id:conn_key`` scored by expiry in ms
(the key itself expires with its newest entry). Claiming a slot drops expired entries, counts
and adds in one script, so two processes cannot both take the last slot; a killed process's
slots lapse within the TTL because nobody renews them.
"""

from __future__ import annotations

import time

import orjson

from server.presence.base import SESSION_FULL, USER_FULL, Presence, User
from server.redis_clients import RedisClient, shared_client

# KEYS: conns, users. ARGV: member, user_id, user_json, expires_ms, now_ms.
JOIN = """
local prefix = ARGV[2] .. ':'
local present = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[5], '+inf')) do
  if string.sub(m, 1, #prefix) == prefix then present = 1 break end
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
if present == 1 then return 0 end
return 1
"""

# KEYS: conns, users. ARGV: member, user_id, now_ms.
LEAVE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local prefix = ARGV[2] .. ':'
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[3], '+inf')) do
  if string.sub(m, 1, #prefix) == prefix then return 0 end
end
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
"""

# KEYS: conns, users. ARGV: now_ms. Returns the JSON of users whose last entry expired.
EXPIRE = """
local gone = {}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
if #expired == 0 then return gone end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
local seen = {}
for _, m in ipairs(expired) do
  local uid = string.match(m, '^([^:]+):')
  if uid and not seen[uid] then
    seen[uid] = true
    local still = false
    for _, l in ipairs(live) do
      if string.sub(l, 1, #uid + 1) == uid .. ':' then still = true break end
    end
    if not still then
      local user = redis.call('HGET', KEYS[2], uid)
      redis.call('HDEL', KEYS[2], uid)
      if user then gone[#gone + 1] = user end
    end
  end
end
return gone
"""


# KEYS: sockets. ARGV: member, session_prefix, now_ms, expires_ms, per_session, per_user, ttl_ms.
# Returns 0 (claimed), 1 (the session's sockets are at their cap) or 2 (the user's are).
CLAIM_SOCKET = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local held = redis.call('ZRANGE', KEYS[1], 0, -1)
local in_session = 0
for _, m in ipairs(held) do
  if string.sub(m, 1, #ARGV[2]) == ARGV[2] then in_session = in_session + 1 end
end
if in_session >= tonumber(ARGV[5]) then return 1 end
if #held >= tonumber(ARGV[6]) then return 2 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 0
"""

_CLAIM_ANSWERS = {0: None, 1: SESSION_FULL, 2: USER_FULL}


class RedisPresence(Presence):
    """Presence across processes, expiring the entries of processes that stopped heartbeating."""

    def __init__(self, url: str, prefix: str, ttl: float) -> None:
        super().__init__(ttl)
        self._url = url
        self._prefix = prefix
        self._redis: RedisClient | None = None
        self._index = f"{prefix}:pr:index"

    def _keys(self, channel: str) -> list[str]:
        return [f"{self._prefix}:pr:{{{channel}}}:conns", f"{self._prefix}:pr:{{{channel}}}:users"]

    def _client(self) -> RedisClient:
        if self._redis is None:
            self._redis = shared_client(self._url)
        return self._redis

    async def stop(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    def _expiry(self) -> tuple[int, int]:
        now = int(time.time() * 1000)
        return now, now + int(self.ttl * 1000)

    async def join(self, channel: str, conn_key: str, user: User) -> bool:
        now, expires = self._expiry()
        member = f"{user['id']}:{conn_key}"
        args = [member, user["id"], orjson.dumps(user), expires, now]
        # The index is a key of its own slot (on a cluster), so it is written beside the
        # script rather than in it; it only tells expire() which channels to look at.
        async with self._client().pipeline(transaction=False) as pipe:
            pipe.eval(JOIN, 2, *self._keys(channel), *args)
            pipe.zadd(self._index, {channel: expires})
            joined, _ = await pipe.execute()
        return bool(joined)

    async def leave(self, channel: str, conn_key: str, user_id: int) -> bool:
        now, _ = self._expiry()
        args: list[str | int] = [f"{user_id}:{conn_key}", user_id, now]
        return bool(await self._client().eval(LEAVE, 2, *self._keys(channel), *args))

    async def members(self, channel: str) -> list[User]:
        raw = await self._client().hgetall(self._keys(channel)[1])
        users = [orjson.loads(value) for value in raw.values()]
        return sorted(users, key=lambda user: user["id"])

    async def heartbeat(self, entries: list[tuple[str, str, int]]) -> None:
        if not entries:
            return
        _, expires = self._expiry()
        by_channel: dict[str, dict[str, int]] = {}
        for channel, conn_key, user_id in entries:
            by_channel.setdefault(channel, {})[f"{user_id}:{conn_key}"] = expires
        async with self._client().pipeline(transaction=False) as pipe:
            for channel, members in by_channel.items():
                pipe.zadd(self._keys(channel)[0], members, xx=True)
                pipe.zadd(self._index, {channel: expires}, gt=True)
            await pipe.execute()

    async def expire(self) -> list[tuple[str, User]]:
        now, _ = self._expiry()
        client = self._client()
        gone: list[tuple[str, User]] = []
        for raw in await client.zrange(self._index, 0, -1):
            channel = raw.decode() if isinstance(raw, bytes) else str(raw)
            for user in await client.eval(EXPIRE, 2, *self._keys(channel), now):
                gone.append((channel, orjson.loads(user)))
        await client.zremrangebyscore(self._index, "-inf", f"({now}")
        return gone

    def _sockets_key(self, user_id: int) -> str:
        return f"{self._prefix}:pr:{{user:{user_id}}}:sockets"

    async def claim_socket(
        self, conn_key: str, user_id: int, session_id: int, per_session: int, per_user: int
    ) -> str | None:
        now, expires = self._expiry()
        member, ttl_ms = f"{session_id}:{conn_key}", int(self.ttl * 1000)
        args: list[str | int] = [member, f"{session_id}:", now, expires, per_session, per_user, ttl_ms]
        answer = await self._client().eval(CLAIM_SOCKET, 1, self._sockets_key(user_id), *args)
        return _CLAIM_ANSWERS[int(answer)]

    async def release_socket(self, conn_key: str, user_id: int, session_id: int) -> None:
        await self._client().zrem(self._sockets_key(user_id), f"{session_id}:{conn_key}")

    async def renew_sockets(self, sockets: list[tuple[str, int, int]]) -> None:
        if not sockets:
            return
        _, expires = self._expiry()
        by_user: dict[int, dict[str, int]] = {}
        for conn_key, user_id, session_id in sockets:
            by_user.setdefault(user_id, {})[f"{session_id}:{conn_key}"] = expires
        ttl_ms = int(self.ttl * 1000)
        async with self._client().pipeline(transaction=False) as pipe:
            for user_id, members in by_user.items():
                pipe.zadd(self._sockets_key(user_id), members, xx=True)
                pipe.pexpire(self._sockets_key(user_id), ttl_ms)
            await pipe.execute()
