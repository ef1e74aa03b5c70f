"""The local hub: this process's connections grouped per channel and render variant, and the fan-out.

For each event the broker hands over, the hub renders and encodes the frame once per
variant (reader language, staff or not) and gives the same bytes to every connection of
that variant, without awaiting any of them (:meth:`Connection.deliver`). It keeps each
channel's last ``seq`` so that a gap (events missed while Redis was away) is noticed and
filled from the broker's history before anything newer is delivered; if history no longer
reaches back, the channel's readers are closed with 1012 and resume with ``since``, which
answers ``recovered: false``.

A subscribing connection first "joins": live events are buffered for it while its replay
is read, then the replay, ``subbed`` and the buffered events go out in ``seq`` order, with
no duplicates and no gap. What does not live here: access rules, frame parsing, the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from server.channels.broker import Broker, BrokerUnavailable, Published, Recovery
from server.channels.connection import Connection
from server.channels.protocol import CloseCode, Frame, event_frame, subbed_frame
from server.channels.render import Rendering, Variant, strip_audience
from server.observability import metrics

log = logging.getLogger("homeroom.hub")

MAX_JOIN_BUFFER = 2000


class _Joining:
    __slots__ = ("after", "buffer")

    def __init__(self) -> None:
        self.after: int | None = None  # None: replay not sent yet, buffer everything
        self.buffer: list[Published] = []


class _Channel:
    __slots__ = ("epoch", "groups", "joining", "name", "repairing", "seq")

    def __init__(self, name: str) -> None:
        self.name = name
        self.seq: int | None = None
        self.epoch: str | None = None
        self.groups: dict[Variant, dict[Connection, None]] = {}
        self.joining: dict[Connection, _Joining] = {}
        self.repairing: list[Published] | None = None

    def empty(self) -> bool:
        return not self.groups and not self.joining

    def connections(self) -> Iterator[Connection]:
        for members in self.groups.values():
            yield from members
        yield from self.joining


def _ignore(_: dict[str, Any]) -> None:
    return None


def _nothing() -> None:
    return None


class Hub:
    """Local subscriptions and fan-out for one process; the broker's one listener.

    ``rendering`` renders events per reader variant; ``control`` receives the broker's
    control messages other than ``forget`` (which the hub handles itself), and
    ``reconnected`` is told after the hub has refilled its channels on a broker reconnect.
    """

    def __init__(
        self,
        broker: Broker,
        rendering: Rendering | None = None,
        *,
        control: Callable[[dict[str, Any]], None] = _ignore,
        reconnected: Callable[[], None] = _nothing,
    ) -> None:
        self.broker = broker
        self.rendering = rendering or Rendering()
        self._control = control
        self._reconnected = reconnected
        self._channels: dict[str, _Channel] = {}
        self._by_user: dict[int, set[Connection]] = {}
        self._broker_channels: set[str] = set()
        self._broker_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        broker.listen(self)

    # The broker's listener (``BrokerListener``) -----------------------------------

    def on_event(self, event: Published) -> None:
        """An event of a channel this process subscribed to: fan it out."""
        self.dispatch(event)

    def on_control(self, message: dict[str, Any]) -> None:
        """A control message to every process: ``forget`` channels here, the rest to the owner."""
        channels = message.get("channels")
        if message.get("kind") == "forget" and isinstance(channels, list):
            for channel in channels:
                if isinstance(channel, str):
                    self.reset(channel)
            return
        self._control(message)

    def on_reconnect(self) -> None:
        """The broker's link came back: refill every channel's gap, then tell the owner."""
        self.resync()
        self._reconnected()

    def encode(self, event: Published, variant: Variant | None) -> Frame | None:
        """The event frame for one variant (``None``: the same for all), or None if not in its audience."""
        if variant is None:
            data = strip_audience(event.data)
        else:
            rendered = self.rendering.render(event.type, event.data, variant)
            if rendered is None:
                return None
            data = rendered
        return event_frame(event.channel, event.seq, event.type, data, event.ts)

    # Connections -------------------------------------------------------------------

    def add(self, conn: Connection) -> None:
        """Register a newly accepted connection."""
        self._by_user.setdefault(conn.user_id, set()).add(conn)
        metrics.CONNECTIONS.inc()

    def remove(self, conn: Connection) -> list[str]:
        """Forget a connection and all its subscriptions; returns the channels it had."""
        had = list(conn.channels)
        for name in had:
            self._detach(conn, name)
        users = self._by_user.get(conn.user_id)
        if users is not None:
            users.discard(conn)
            if not users:
                del self._by_user[conn.user_id]
        metrics.CONNECTIONS.dec()
        return had

    def connections_of(self, user_id: int) -> list[Connection]:
        """This process's open connections of one user."""
        return list(self._by_user.get(user_id, ()))

    def all_connections(self) -> list[Connection]:
        """Every open connection of this process."""
        return [conn for conns in self._by_user.values() for conn in conns]

    def subscribers(self, channel: str) -> int:
        """How many local connections read ``channel``."""
        state = self._channels.get(channel)
        return 0 if state is None else sum(len(m) for m in state.groups.values()) + len(state.joining)

    # Subscribing -------------------------------------------------------------------

    async def subscribe(
        self,
        conn: Connection,
        channel: str,
        since: int | None,
        epoch: str | None,
        ref: Any = None,
        presence: list[dict[str, Any]] | None = None,
    ) -> Recovery:
        """Join ``channel``: replay what ``since`` missed, then live events; returns what ``subbed`` says.

        The caller sends nothing itself: replay and ``subbed`` are delivered here, in order.
        Raises :class:`BrokerUnavailable` when the broker cannot be reached.
        """
        state = self._channels.get(channel)
        if state is None:
            state = self._channels[channel] = _Channel(channel)
        joining = _Joining()
        state.joining[conn] = joining
        conn.channels.add(channel)
        metrics.SUBSCRIPTIONS.inc()
        try:
            await self._ensure_broker(channel)
            recovery = await self.broker.history(channel, since, epoch)
        except BaseException:
            if state.joining.get(conn) is joining:
                self._detach(conn, channel)
            raise
        if conn.closed or state.joining.get(conn) is not joining:
            return recovery
        for event in recovery.events:
            frame = self.encode(event, conn.variant)
            if frame is not None:
                conn.deliver(frame)
        conn.deliver(subbed_frame(channel, recovery.seq, recovery.epoch, recovery.recovered, ref, presence))
        last = recovery.seq
        for event in joining.buffer:
            if event.seq > last and event.epoch == recovery.epoch:
                frame = self.encode(event, conn.variant)
                if frame is not None:
                    conn.deliver(frame)
                last = event.seq
        joining.buffer = []
        joining.after = last
        if state.seq is None:
            state.seq, state.epoch = recovery.seq, recovery.epoch
        if state.epoch != recovery.epoch or state.seq >= last:
            self._promote(state, conn)
        return recovery

    def _promote(self, state: _Channel, conn: Connection) -> None:
        state.joining.pop(conn, None)
        group = state.groups.get(conn.variant)
        if group is None:
            group = state.groups[conn.variant] = {}
        group[conn] = None

    def regroup(self, conn: Connection, variant: Variant) -> None:
        """The reader's variant changed (e.g. a new preferred language): render for them anew."""
        if variant == conn.variant:
            return
        for channel in conn.channels:
            state = self._channels.get(channel)
            group = state.groups.get(conn.variant) if state is not None else None
            if state is None or group is None or conn not in group:
                continue
            del group[conn]
            if not group:
                del state.groups[conn.variant]
            state.groups.setdefault(variant, {})[conn] = None
        conn.variant = variant

    def unsubscribe(self, conn: Connection, channel: str) -> bool:
        """Leave ``channel``; False when the connection was not subscribed."""
        if channel not in conn.channels:
            return False
        self._detach(conn, channel)
        return True

    def _detach(self, conn: Connection, channel: str) -> None:
        if channel in conn.channels:
            conn.channels.discard(channel)
            metrics.SUBSCRIPTIONS.dec()
        state = self._channels.get(channel)
        if state is None:
            return
        state.joining.pop(conn, None)
        group = state.groups.get(conn.variant)
        if group is not None:
            group.pop(conn, None)
            if not group:
                del state.groups[conn.variant]
        if state.empty():
            del self._channels[channel]
            self._spawn(self._release_broker(channel))

    async def _ensure_broker(self, channel: str) -> None:
        if channel in self._broker_channels:
            return
        async with self._broker_lock:
            if channel not in self._broker_channels:
                await self.broker.subscribe(channel)
                self._broker_channels.add(channel)

    async def _release_broker(self, channel: str) -> None:
        async with self._broker_lock:
            if channel in self._channels or channel not in self._broker_channels:
                return
            self._broker_channels.discard(channel)
            with contextlib.suppress(BrokerUnavailable):
                await self.broker.unsubscribe(channel)

    # Fan-out -----------------------------------------------------------------------

    def dispatch(self, event: Published) -> None:
        """Hand one broker event to this process's readers, checking ``seq`` continuity."""
        state = self._channels.get(event.channel)
        if state is None:
            return
        if state.repairing is not None:
            state.repairing.append(event)
            return
        if state.seq is not None and state.epoch is not None:
            if event.epoch == state.epoch and event.seq <= state.seq:
                return
            if event.epoch != state.epoch or event.seq != state.seq + 1:
                state.repairing = [event]
                self._spawn(self._repair(state))
                return
        self._fan_out(state, event)

    def _fan_out(self, state: _Channel, event: Published) -> None:
        state.seq, state.epoch = event.seq, event.epoch
        delivered = 0
        if state.groups:
            shared = None if self.rendering.varies(event.type, event.data) else self.encode(event, None)
            for variant, members in state.groups.items():
                frame = shared if shared is not None else self._encode_safely(event, variant)
                if frame is None:
                    continue
                for conn in members:
                    conn.deliver(frame)
                delivered += len(members)
        if state.joining:  # after the groups: a connection promoted here already has this event
            self._feed_joining(state, event)
        if delivered:
            metrics.EVENTS_DELIVERED.inc(delivered)
            _observe_latency(event.ts)

    def _feed_joining(self, state: _Channel, event: Published) -> None:
        ready: list[Connection] = []
        for conn, joining in state.joining.items():
            if joining.after is None:
                if len(joining.buffer) >= MAX_JOIN_BUFFER:
                    conn.close(CloseCode.TOO_SLOW, "too slow: reconnect with since")
                else:
                    joining.buffer.append(event)
                continue
            if event.seq > joining.after:
                frame = self.encode(event, conn.variant)
                if frame is not None:
                    conn.deliver(frame)
                joining.after = event.seq
            if event.seq >= joining.after:
                ready.append(conn)
        for conn in ready:
            self._promote(state, conn)

    # Gaps and reconnects -----------------------------------------------------------

    def reset(self, channel: str) -> None:
        """The channel's history was dropped: its readers resubscribe (and reload) at once."""
        state = self._channels.get(channel)
        if state is None:
            return
        for conn in list(state.connections()):
            conn.close(CloseCode.RESYNC, "resubscribe with since")
        state.seq = state.epoch = None

    def resync(self) -> None:
        """The broker reconnected: every channel may have missed events; fill them from history."""
        for state in list(self._channels.values()):
            if state.repairing is None and state.seq is not None:
                state.repairing = []
                self._spawn(self._repair(state))

    async def _repair(self, state: _Channel) -> None:
        delay = 0.05
        while True:
            try:
                recovery = await self.broker.history(state.name, state.seq, state.epoch)
                break
            except BrokerUnavailable:
                if self._channels.get(state.name) is not state:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        waiting, state.repairing = state.repairing or [], None
        if self._channels.get(state.name) is not state:
            return
        if not recovery.recovered:
            log.warning("hub: %s lost continuity (history gone); readers resubscribe", state.name)
            for conn in list(state.connections()):
                conn.close(CloseCode.RESYNC, "resubscribe with since")
            state.seq, state.epoch = recovery.seq, recovery.epoch
            return
        for event in recovery.events:
            if state.seq is None or event.seq > state.seq:
                self._fan_out(state, event)
        for event in waiting:
            self.dispatch(event)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _encode_safely(self, event: Published, variant: Variant) -> Frame | None:
        """A renderer of another layer must not stop the fan-out to everyone else."""
        try:
            return self.encode(event, variant)
        except Exception:
            log.exception("hub: rendering %s for %s failed; those readers miss it", event.type, variant)
            return None

    async def close(self, code: int, reason: str) -> None:
        """Close every connection (server shutting down) and wait for background work."""
        for conn in self.all_connections():
            conn.close(code, reason)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _observe_latency(ts: str) -> None:
    try:
        sent = datetime.fromisoformat(ts).timestamp()
    except ValueError:
        return
    metrics.DELIVERY_LATENCY.observe(max(0.0, time.time() - sent))
