"""``redis://``: the broker shared by many processes — one Lua script per publish, one pub/sub connection.

Keys (``P`` is ``settings.redis_prefix``, the channel in braces keeps a channel's keys in
one cluster slot):

- ``P:{channel}:meta``  hash: ``seq`` (the last number given) and ``epoch``;
- ``P:{channel}:hist``  list of the newest ``history_size`` encoded events, expiring
  ``history_ttl`` seconds after the last publish;
- ``P:{channel}:id:N``  the ``seq`` outbox event ``N`` was published under, for the
  history's lifetime: a second publish of the same event is a no-op (exactly once);
- ``P:ev:channel``      the pub/sub channel carrying the encoded events;
- ``P:control``         pub/sub channel for messages to every process.

:data:`PUBLISH` assigns the ``seq``, appends to history and publishes in one atomic
step, so every process sees a channel's events in ``seq`` order. Each process keeps a
single pub/sub connection and subscribes to a channel only while it has local
subscribers. When Redis goes away the reader reconnects with back-off, subscribes
again and tells the hub (``on_reconnect``), which re-reads each channel's history to
fill whatever it missed. A Redis restart without persistence loses ``meta``: the next
publish starts a new epoch and clients are told ``recovered: false``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from server.channels.broker import (
    Broker,
    BrokerUnavailable,
    Published,
    Recovery,
    decide_recovery,
    new_epoch,
    now_iso,
)
from server.redis_clients import pooled_client

log = logging.getLogger("homeroom.broker")

PUBLISH = """
if KEYS[3] then
  local seen = redis.call('GET', KEYS[3])
  if seen then return tonumber(seen) end
end
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[5])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
if KEYS[3] then redis.call('SET', KEYS[3], seq, 'EX', ARGV[4]) end
local msg = '{"seq":' .. seq .. ',"epoch":"' .. epoch .. '",' .. ARGV[2]
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('PUBLISH', ARGV[1], msg)
return seq
"""

HISTORY = """
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[2])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local since = tonumber(ARGV[1])
local out = {seq, epoch}
if since >= 0 and since < seq then
  local items = redis.call('LRANGE', KEYS[2], -(seq - since), -1)
  for i = 1, #items do out[#out + 1] = items[i] end
end
return out
"""

RECONNECT_DELAYS = (0.05, 0.1, 0.2, 0.5, 1.0)


def decode(raw: bytes | str) -> Published:
    """An event as the publish script encoded it."""
    doc = orjson.loads(raw)
    return Published(doc["channel"], doc["seq"], doc["epoch"], doc["type"], doc["data"], doc["ts"])


class RedisBroker(Broker):
    """Sequence numbers, history and fan-out through Redis, shared by every process."""

    def __init__(self, url: str, prefix: str, history_size: int, history_ttl: float) -> None:
        super().__init__(history_size, history_ttl)
        self._url = url
        self._prefix = prefix
        self._control_key = f"{prefix}:control"
        self._redis: Redis | None = None
        self._pubsub_client: Redis | None = None
        self._pubsub: PubSub | None = None
        self._wanted: set[str] = set()
        self._confirm: dict[str, asyncio.Future[None]] = {}
        self._connected = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._publish_sha = ""
        self._history_sha = ""

    def _event_key(self, channel: str) -> str:
        return f"{self._prefix}:ev:{channel}"

    def _keys(self, channel: str) -> list[str]:
        return [f"{self._prefix}:{{{channel}}}:meta", f"{self._prefix}:{{{channel}}}:hist"]

    async def start(self) -> None:
        self._redis = pooled_client(self._url)
        # The pub/sub connection must not reconnect behind our back: a silent reconnect
        # would hide the events missed meanwhile. Errors surface; the reader handles them.
        self._pubsub_client = Redis.from_url(self._url, retry=Retry(NoBackoff(), 0))
        self._reader = asyncio.create_task(self._read_forever(), name="homeroom-broker-reader")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=5.0)

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self._reader
        await self._close_pubsub()
        for client in (self._pubsub_client, self._redis):
            if client is not None:
                with contextlib.suppress(RedisError, OSError):
                    await client.aclose()

    async def _script(self, source: str, sha: str, keys: list[str], args: list[Any]) -> Any:
        assert self._redis is not None, "broker not started"
        try:
            if sha:
                try:
                    return await self._redis.evalsha(sha, len(keys), *keys, *args)
                except RedisError as exc:
                    if "NOSCRIPT" not in str(exc):
                        raise
            return await self._redis.eval(source, len(keys), *keys, *args)
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(str(exc)) from exc

    async def _load_scripts(self) -> None:
        assert self._redis is not None
        self._publish_sha = await self._redis.script_load(PUBLISH)
        self._history_sha = await self._redis.script_load(HISTORY)

    async def publish(
        self,
        channel: str,
        type_: str,
        data: dict[str, Any],
        ts: str | None = None,
        event_id: int | None = None,
    ) -> int:
        body = orjson.dumps({"channel": channel, "type": type_, "data": data, "ts": ts or now_iso()})[1:]
        ttl = max(1, int(self.history_ttl))
        args = [self._event_key(channel), body, self.history_size, ttl, new_epoch()]
        keys = self._keys(channel)
        if event_id is not None:
            keys.append(f"{self._prefix}:{{{channel}}}:id:{event_id}")
        seq = await self._script(PUBLISH, self._publish_sha, keys, args)
        return int(seq)

    async def forget(self, channel: str) -> None:
        assert self._redis is not None, "broker not started"
        try:
            await self._redis.delete(*self._keys(channel))
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(str(exc)) from exc

    async def history(self, channel: str, since: int | None, epoch: str | None) -> Recovery:
        start = -1 if since is None else since
        reply = await self._script(HISTORY, self._history_sha, self._keys(channel), [start, new_epoch()])
        seq, current = int(reply[0]), reply[1].decode()
        held = [decode(raw) for raw in reply[2:]]
        oldest = self.oldest_allowed(datetime.now(UTC))
        return decide_recovery(seq, current, since, epoch, held, oldest)

    async def subscribe(self, channel: str) -> None:
        key = self._event_key(channel)
        pubsub = self._pubsub
        if pubsub is None:
            raise BrokerUnavailable("not connected to Redis")
        self._wanted.add(key)
        try:
            waiter = self._confirm.get(key)
            if waiter is None or waiter.done():
                waiter = self._confirm[key] = asyncio.get_running_loop().create_future()
                await pubsub.subscribe(key)
            await asyncio.wait_for(asyncio.shield(waiter), timeout=5.0)
        except (RedisError, OSError, TimeoutError, BrokerUnavailable) as exc:
            # Not subscribed: forget the channel so a reconnect does not subscribe it for nobody.
            self._wanted.discard(key)
            self._confirm.pop(key, None)
            raise BrokerUnavailable(f"could not subscribe: {type(exc).__name__}") from exc

    async def unsubscribe(self, channel: str) -> None:
        key = self._event_key(channel)
        self._wanted.discard(key)
        self._confirm.pop(key, None)
        pubsub = self._pubsub
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.unsubscribe(key)

    async def control(self, message: dict[str, Any]) -> None:
        assert self._redis is not None, "broker not started"
        try:
            await self._redis.publish(self._control_key, orjson.dumps(message))
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(str(exc)) from exc

    async def ping(self) -> None:
        assert self._redis is not None, "broker not started"
        await self._redis.ping()
        if not self._connected.is_set():
            raise BrokerUnavailable("pub/sub connection is down")

    # The reader ---------------------------------------------------------------------

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        self._connected.clear()
        for waiter in self._confirm.values():
            if not waiter.done():
                waiter.set_exception(BrokerUnavailable("Redis connection lost"))
                waiter.exception()  # retrieved: nobody may be waiting
        self._confirm.clear()
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError, RuntimeError):
                await pubsub.aclose()

    async def _read_forever(self) -> None:
        failures = 0
        first = True
        while True:
            try:
                pubsub = await self._connect_pubsub()
                failures = 0
                if not first:
                    log.info("broker: reconnected to Redis; recovering missed events")
                    self.listener.on_reconnect()
                first = False
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if failures == 0:
                    log.warning("broker: Redis connection lost (%s); reconnecting", type(exc).__name__)
                await self._close_pubsub()
                await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])
                failures += 1

    async def _connect_pubsub(self) -> PubSub:
        assert self._pubsub_client is not None
        await self._load_scripts()
        pubsub = self._pubsub_client.pubsub()
        self._pubsub = pubsub
        keys = [self._control_key, *sorted(self._wanted)]
        loop = asyncio.get_running_loop()
        for key in keys:
            self._confirm[key] = loop.create_future()
        await pubsub.subscribe(*keys)
        # Confirmations arrive in order; read them here so the channels are live before we go on.
        pending = set(keys)
        while pending:
            message = await pubsub.get_message(timeout=None)
            if message is not None:
                self._handle(message)
                if message["type"] == "subscribe":
                    pending.discard(message["channel"].decode())
        self._connected.set()
        return pubsub

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is not None:
                self._handle(message)
                # Buffered messages come back without suspending: yield after each fan-out so
                # a burst never starves the HTTP requests and pings sharing this event loop.
                await asyncio.sleep(0)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "message":
            key = message["channel"]
            if key == self._control_key.encode():
                self._safely(self.listener.on_control, orjson.loads(message["data"]))
            else:
                self._safely(self.listener.on_event, decode(message["data"]))
        elif kind == "subscribe":
            waiter = self._confirm.get(message["channel"].decode())
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    @staticmethod
    def _safely(sink: Any, value: Any) -> None:
        try:
            sink(value)
        except Exception:
            log.exception("broker: a subscriber failed on a delivered message")
