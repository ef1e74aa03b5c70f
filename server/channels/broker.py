"""The ``Broker`` interface: per-channel ``seq``, short history, fan-out to every process; chosen by URL.

A broker assigns each event on a channel the next ``seq`` (atomically, whatever the
number of processes), keeps the channel's recent history (``history_size`` events or
``history_ttl_seconds``), and hands every event to each process that subscribed to the
channel. Recovery is decided by :func:`decide_recovery`, shared by both backends: all or
nothing, and never across an ``epoch`` change (history lost, ``seq`` restarted).

Implementations live beside this file: ``broker_memory.py`` (one process),
``broker_redis.py`` (one Redis: pub/sub + Lua) and ``broker_cluster.py`` (a Redis Cluster:
sharded pub/sub + Lua). :func:`create_broker` picks one by URL scheme.
"""

from __future__ import annotations

import abc
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from server.settings import Settings, uses_redis, uses_redis_cluster


@dataclass(frozen=True, slots=True)
class Published:
    """One event as the broker numbered it."""

    channel: str
    seq: int
    epoch: str
    type: str
    data: dict[str, Any]
    ts: str


@dataclass(frozen=True, slots=True)
class Recovery:
    """A channel's position (``seq``, ``epoch``) and, when recovered, the events after ``since``."""

    seq: int
    epoch: str
    events: Sequence[Published]
    recovered: bool


def new_epoch() -> str:
    """A fresh, short, unguessable epoch label."""
    return secrets.token_urlsafe(6)


def decide_recovery(
    seq: int,
    epoch: str,
    since: int | None,
    client_epoch: str | None,
    held: Sequence[Published],
    oldest_allowed: datetime | None = None,
) -> Recovery:
    """Whether the events after ``since`` can be replayed completely from ``held``.

    ``held`` are the newest events of the channel, in ``seq`` order, ending at ``seq``.
    Recovery needs the client's epoch to match, ``since`` not to be ahead of the channel,
    and every event from ``since + 1`` up to ``seq`` to be held (and, with ``oldest_allowed``,
    not older than it). Otherwise nothing is replayed and ``recovered`` is False.
    """
    if since is None:
        return Recovery(seq, epoch, (), False)
    if client_epoch != epoch or since > seq:
        return Recovery(seq, epoch, (), False)
    if since == seq:
        return Recovery(seq, epoch, (), True)
    wanted = [event for event in held if event.seq > since]
    if len(wanted) != seq - since or wanted[0].seq != since + 1 or wanted[-1].seq != seq:
        return Recovery(seq, epoch, (), False)
    if any(event.epoch != epoch for event in wanted):
        return Recovery(seq, epoch, (), False)
    if oldest_allowed is not None and datetime.fromisoformat(wanted[0].ts) < oldest_allowed:
        return Recovery(seq, epoch, (), False)
    return Recovery(seq, epoch, tuple(wanted), True)


class BrokerListener(Protocol):
    """What a broker tells its process (the hub implements it)."""

    def on_event(self, event: Published) -> None:
        """An event of a channel this process subscribed to."""

    def on_control(self, message: dict[str, Any]) -> None:
        """A control message sent to every process (e.g. "user 7's rights changed")."""

    def on_reconnect(self) -> None:
        """The link came back: events may have been missed; re-check each channel's position."""


class _Deaf:
    def on_event(self, event: Published) -> None:
        return None

    def on_control(self, message: dict[str, Any]) -> None:
        return None

    def on_reconnect(self) -> None:
        return None


_DEAF: BrokerListener = _Deaf()


class BrokerUnavailable(RuntimeError):
    """The broker cannot be reached right now (publish or history failed)."""


class Broker(abc.ABC):
    """Fan-out, sequence numbers and short history for live channels.

    One :class:`BrokerListener` (the hub) registers with :meth:`listen` before
    :meth:`start`; the broker calls it on the event loop, and it must not block.
    """

    def __init__(self, history_size: int, history_ttl: float) -> None:
        self.history_size = history_size
        self.history_ttl = history_ttl
        self.listener: BrokerListener = _DEAF

    def listen(self, listener: BrokerListener) -> None:
        """Deliver to ``listener`` from now on; a broker has one listener for its lifetime."""
        if self.listener is not _DEAF and self.listener is not listener:
            raise RuntimeError("this broker already has a listener")
        self.listener = listener

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect; called once before anything else."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Disconnect and release every resource."""

    @abc.abstractmethod
    async def publish(
        self,
        channel: str,
        type_: str,
        data: dict[str, Any],
        ts: str | None = None,
        event_id: int | None = None,
    ) -> int:
        """Number the event, append it to history, fan it out; returns its ``seq``.

        ``ts`` (ISO 8601) defaults to now; the outbox passes the time of the commit.
        ``event_id`` (the outbox row's id) makes the publish idempotent for the history
        window: publishing the same id again on the channel does nothing and returns the
        ``seq`` it was given the first time. The outbox relies on it to deliver exactly
        once when a process dies between publishing a row and marking it published.
        """

    @abc.abstractmethod
    async def forget(self, channel: str) -> None:
        """Drop the channel's history; its next event starts a new epoch (after an erasure).

        Whoever recovers with ``since`` is then told ``recovered: false`` and reloads through
        the REST API, which no longer holds what was erased.
        """

    @abc.abstractmethod
    async def history(self, channel: str, since: int | None, epoch: str | None) -> Recovery:
        """The channel's position and, when complete, the events after ``since``."""

    @abc.abstractmethod
    async def subscribe(self, channel: str) -> None:
        """Receive the channel's events in this process; returns once delivery is guaranteed."""

    @abc.abstractmethod
    async def unsubscribe(self, channel: str) -> None:
        """Stop receiving the channel's events in this process."""

    @abc.abstractmethod
    async def control(self, message: dict[str, Any]) -> None:
        """Send a control message to every process, this one included."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise unless the broker is reachable (the ``/readyz`` check)."""

    def oldest_allowed(self, now: datetime) -> datetime:
        """Events older than this are no longer replayed."""
        return now - timedelta(seconds=self.history_ttl)


def now_iso() -> str:
    """The current UTC time as API.md writes timestamps."""
    return datetime.now(UTC).isoformat()


def create_broker(settings: Settings) -> Broker:
    """The broker named by ``settings.broker_url``: ``memory://``, ``redis://…`` or ``redis+cluster://…``."""
    url = settings.broker_url
    if url.startswith("memory://"):
        from server.channels.broker_memory import MemoryBroker

        return MemoryBroker(settings.history_size, settings.history_ttl_seconds)
    if uses_redis_cluster(url):
        from server.channels.broker_cluster import ClusterBroker

        return ClusterBroker(url, settings.redis_prefix, settings.history_size, settings.history_ttl_seconds)
    if uses_redis(url):
        from server.channels.broker_redis import RedisBroker

        return RedisBroker(url, settings.redis_prefix, settings.history_size, settings.history_ttl_seconds)
    raise ValueError(f"unsupported broker URL scheme: {url.split(':', 1)[0]!r}")
