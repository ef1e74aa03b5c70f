"""``redis+cluster://``: the broker on a Redis Cluster (Redis 7+) — sharded pub/sub, one slot per channel.

Every key of a channel carries the hash tag ``{P:channel}`` (``P`` is ``settings.redis_prefix``),
so a channel lives in one slot and its publish script runs on one shard:

- ``{P:channel}:meta``  hash: ``seq``, ``epoch`` and ``node`` (the replication id of the master
  that wrote it, see below);
- ``{P:channel}:hist``  the newest ``history_size`` encoded events, expiring ``history_ttl``
  seconds after the last publish;
- ``{P:channel}:id:N``  the ``seq`` outbox event ``N`` was published under (exactly once);
- ``{P:channel}:ev``    the shard channel (``SPUBLISH``/``SSUBSCRIBE``) carrying the events;
- ``{P:control}``       the shard channel of messages to every process (one slot, one shard).

The contracts are ``broker_redis.py``'s: one script numbers the event, appends it to the
history and publishes it; :func:`decide_recovery` decides every recovery; when a link
breaks the broker reconnects, subscribes again and tells the hub (``on_reconnect``), which
refills each channel from history.

**Failover.** Replication is asynchronous: a master can publish event 100 to readers and
die before its replica copied it; the promoted replica would then number the next event
100 again under the same epoch, and a reader holding 100 would miss it without knowing.
So each script compares the ``node`` recorded in the channel's ``meta`` with the
replication id of the master it runs on (``master_replid``, which a replica replaces when
it is promoted); when they differ it drops the history and starts a new epoch. After any
change of the master serving a channel, readers are told ``recovered: false`` and reload
through the REST API: a failover may cost a reload, never an event.

**Pub/sub links.** The broker keeps one pub/sub connection per master that serves a slot
it listens to, created without redis-py's silent reconnects (a silent reconnect would
hide what was missed). When any link fails, or a master says a slot moved away
(``sunsubscribe`` it was not asked for), every link is closed, the slot map is read
again, the channels are subscribed on their current masters and the hub refills gaps.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisClusterException, RedisError

from server.channels.broker import (
    Broker,
    BrokerUnavailable,
    Recovery,
    decide_recovery,
    new_epoch,
    now_iso,
)
from server.channels.broker_redis import RECONNECT_DELAYS, decode
from server.redis_clients import cluster_client, parse_cluster_url

log = logging.getLogger("homeroom.broker")

# Start a new epoch (and drop the history) unless this master wrote the channel's meta.
_SAME_MASTER = """
local node = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)')
if redis.call('HGET', KEYS[1], 'node') ~= node then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', ARGV[5], 'node', node)
end
"""

# KEYS: meta, hist[, id]. ARGV: shard channel, body, history size, ttl, new epoch.
PUBLISH = (
    _SAME_MASTER
    + """
if KEYS[3] then
  local seen = redis.call('GET', KEYS[3])
  if seen then return tonumber(seen) end
end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
if KEYS[3] then redis.call('SET', KEYS[3], seq, 'EX', ARGV[4]) end
local msg = '{"seq":' .. seq .. ',"epoch":"' .. epoch .. '",' .. ARGV[2]
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('SPUBLISH', ARGV[1], msg)
return seq
"""
)

# KEYS: meta, hist. ARGV: since (-1: none), -, -, -, new epoch.
HISTORY = (
    _SAME_MASTER
    + """
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
)

CONFIRM_SECONDS = 5.0


class _Link:
    """The pub/sub connection to one master and the task reading it."""

    __slots__ = ("client", "name", "pubsub", "reader")

    def __init__(self, name: str, client: Redis, pubsub: PubSub) -> None:
        self.name = name
        self.client = client
        self.pubsub = pubsub
        self.reader: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self.reader
        with contextlib.suppress(RedisError, OSError, RuntimeError):
            await self.pubsub.aclose()
        with contextlib.suppress(RedisError, OSError):
            await self.client.aclose()


def _sha(source: str) -> str:
    return hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


class ClusterBroker(Broker):
    """Sequence numbers, history and fan-out through a Redis Cluster, shared by every process."""

    def __init__(self, url: str, prefix: str, history_size: int, history_ttl: float) -> None:
        super().__init__(history_size, history_ttl)
        if "{" in prefix or "}" in prefix:
            raise ValueError("HOMEROOM_REDIS_PREFIX may not contain { or } with a Redis Cluster")
        self._url = url
        self._address = parse_cluster_url(url)
        self._prefix = prefix
        self._control_key = f"{{{prefix}:control}}"
        self._control_bytes = self._control_key.encode()
        self._cluster: RedisCluster | None = None
        self._links: dict[str, _Link] = {}
        self._placed: dict[str, str] = {}  # shard channel -> name of the master it is subscribed on
        self._wanted: set[str] = set()
        self._leaving: dict[str, int] = {}  # shard channels we asked to leave, not yet confirmed
        self._confirm: dict[str, asyncio.Future[None]] = {}
        self._connected = asyncio.Event()
        self._broken = asyncio.Event()
        self._broken_because = ""
        self._generation = 0
        self._links_lock = asyncio.Lock()
        self._supervisor: asyncio.Task[None] | None = None

    def _tag(self, channel: str) -> str:
        return f"{{{self._prefix}:{channel}}}"

    def _event_key(self, channel: str) -> str:
        return f"{self._tag(channel)}:ev"

    def _keys(self, channel: str) -> list[str]:
        tag = self._tag(channel)
        return [f"{tag}:meta", f"{tag}:hist"]

    async def start(self) -> None:
        self._cluster = cluster_client(self._url)
        self._supervisor = asyncio.create_task(self._run(), name="homeroom-cluster-broker")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=5.0)

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self._supervisor
        await self._disconnect()
        if self._cluster is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._cluster.aclose()

    # Commands -----------------------------------------------------------------------

    def _client(self) -> RedisCluster:
        assert self._cluster is not None, "broker not started"
        return self._cluster

    async def _script(self, source: str, keys: list[str], args: list[Any]) -> Any:
        cluster = self._client()
        try:
            try:
                return await cluster.evalsha(_sha(source), len(keys), *keys, *args)
            except NoScriptError:
                return await cluster.eval(source, len(keys), *keys, *args)
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(str(exc)) from exc

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
            keys.append(f"{self._tag(channel)}:id:{event_id}")
        return int(await self._script(PUBLISH, keys, args))

    async def forget(self, channel: str) -> None:
        try:
            await self._client().delete(*self._keys(channel))
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(str(exc)) from exc

    async def history(self, channel: str, since: int | None, epoch: str | None) -> Recovery:
        start = -1 if since is None else since
        reply = await self._script(HISTORY, self._keys(channel), [start, "", "", "", new_epoch()])
        seq, current = int(reply[0]), reply[1].decode()
        held = [decode(raw) for raw in reply[2:]]
        oldest = self.oldest_allowed(datetime.now(UTC))
        return decide_recovery(seq, current, since, epoch, held, oldest)

    async def control(self, message: dict[str, Any]) -> None:
        try:
            await self._client().execute_command("SPUBLISH", self._control_key, orjson.dumps(message))
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(str(exc)) from exc

    async def ping(self) -> None:
        await self._client().ping(target_nodes=RedisCluster.PRIMARIES)
        if not self._connected.is_set():
            raise BrokerUnavailable("pub/sub links to the cluster are down")

    # Subscriptions ------------------------------------------------------------------

    async def subscribe(self, channel: str) -> None:
        key = self._event_key(channel)
        if not self._connected.is_set():
            raise BrokerUnavailable("not connected to the Redis Cluster")
        self._wanted.add(key)
        try:
            waiter = self._confirm.get(key)
            if waiter is None or waiter.done():
                waiter = self._confirm[key] = asyncio.get_running_loop().create_future()
                await self._subscribe_on_master(key)
            await asyncio.wait_for(asyncio.shield(waiter), timeout=CONFIRM_SECONDS)
        except (RedisError, OSError, TimeoutError, BrokerUnavailable) as exc:
            # Not subscribed: forget the channel so a reconnect does not subscribe it for nobody.
            self._wanted.discard(key)
            self._confirm.pop(key, None)
            raise BrokerUnavailable(f"could not subscribe: {type(exc).__name__}") from exc

    async def _subscribe_on_master(self, key: str) -> None:
        generation = self._generation
        async with self._links_lock:
            if generation != self._generation or not self._connected.is_set():
                raise BrokerUnavailable("the cluster link was reset")
            node = self._master_of(key)
            await self._subscribe_on(self._links.get(node.name) or self._open_link(node), key)

    async def unsubscribe(self, channel: str) -> None:
        key = self._event_key(channel)
        self._wanted.discard(key)
        self._confirm.pop(key, None)
        link = self._links.get(self._placed.pop(key, ""))
        if link is not None:
            self._leaving[key] = self._leaving.get(key, 0) + 1
            with contextlib.suppress(RedisError, OSError):
                await link.pubsub.sunsubscribe(key)

    # The links ----------------------------------------------------------------------

    def _master_of(self, key: str) -> ClusterNode:
        """The master serving ``key``'s slot in the client's slot map."""
        try:
            node = self._client().get_node_from_key(key)
        except RedisClusterException as exc:
            raise BrokerUnavailable(str(exc)) from exc
        if node is None:
            raise BrokerUnavailable(f"no master serves {key} right now")
        return node

    def _open_link(self, node: ClusterNode) -> _Link:
        """A pub/sub connection to one master (connected by its first command; the caller holds the lock)."""
        address = self._address
        # No retries: a silent reconnect would hide the events missed meanwhile.
        client = Redis(
            host=node.host,
            port=int(node.port),
            username=address.username,
            password=address.password,
            ssl=address.tls,
            retry=Retry(NoBackoff(), 0),
        )
        link = self._links[node.name] = _Link(node.name, client, client.pubsub())
        return link

    async def _subscribe_on(self, link: _Link, key: str) -> None:
        """Send ``SSUBSCRIBE`` on a link (the caller holds the lock); the link's reader confirms it."""
        self._placed[key] = link.name
        await link.pubsub.ssubscribe(key)
        if link.reader is None:  # its connection exists from the first command on
            link.reader = asyncio.create_task(self._read(link), name=f"homeroom-cluster-link-{link.name}")

    async def _read(self, link: _Link) -> None:
        pubsub = link.pubsub
        try:
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is not None:
                    self._handle(message)
                    # Yield after each fan-out so a burst never starves the event loop.
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._break(f"link to {link.name} failed ({type(exc).__name__})")

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "smessage":
            if message["channel"] == self._control_bytes:
                self._safely(self.listener.on_control, orjson.loads(message["data"]))
            else:
                self._safely(self.listener.on_event, decode(message["data"]))
            return
        key = message["channel"].decode()
        if kind == "ssubscribe":
            waiter = self._confirm.get(key)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        elif kind == "sunsubscribe":
            asked = self._leaving.get(key, 0)
            if asked:
                if asked == 1:
                    del self._leaving[key]
                else:
                    self._leaving[key] = asked - 1
            elif key in self._wanted or key == self._control_key:
                self._break(f"the master of {key} gave up its slot")

    def _break(self, reason: str) -> None:
        if not self._broken.is_set():
            self._broken_because = reason
            self._broken.set()

    async def _connect(self) -> None:
        """Read the slot map, subscribe every wanted channel on its master, wait for confirmations."""
        self._broken.clear()
        cluster = self._client()
        await cluster.nodes_manager.initialize()
        keys = [self._control_key, *sorted(self._wanted)]
        loop = asyncio.get_running_loop()
        waiters = []
        async with self._links_lock:
            for key in keys:
                node = self._master_of(key)
                waiter = self._confirm[key] = loop.create_future()
                waiters.append(waiter)
                await self._subscribe_on(self._links.get(node.name) or self._open_link(node), key)
        await asyncio.wait_for(asyncio.gather(*waiters), timeout=CONFIRM_SECONDS)
        self._connected.set()

    async def _disconnect(self) -> None:
        self._generation += 1
        self._connected.clear()
        for waiter in self._confirm.values():
            if not waiter.done():
                waiter.set_exception(BrokerUnavailable("Redis Cluster link lost"))
                waiter.exception()  # retrieved: nobody may be waiting
        self._confirm.clear()
        async with self._links_lock:
            links, self._links = list(self._links.values()), {}
            self._placed.clear()
            self._leaving.clear()
            for link in links:
                await link.close()

    async def _run(self) -> None:
        failures = 0
        first = True
        while True:
            try:
                await self._connect()
                failures = 0
                if not first:
                    log.info("broker: reconnected to the Redis Cluster; recovering missed events")
                    self.listener.on_reconnect()
                first = False
                await self._broken.wait()
                log.warning("broker: %s; reconnecting", self._broken_because)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if failures == 0:
                    log.warning("broker: cannot reach the Redis Cluster (%s); retrying", type(exc).__name__)
                failures += 1
            await self._disconnect()
            await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])

    @staticmethod
    def _safely(sink: Any, value: Any) -> None:
        try:
            sink(value)
        except Exception:
            log.exception("broker: a subscriber failed on a delivered message")
