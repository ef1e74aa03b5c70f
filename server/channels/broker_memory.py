"""``memory://``: the broker of a single process (the embedded default).

History lives in a bounded deque per channel; each channel gets a random epoch when
this process first sees it, so a restart (history lost) is a new epoch. Events are
handed to the hub with ``call_soon``, in publish order, so fan-out never runs inside
the publisher's own request.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from datetime import UTC, datetime
from typing import Any

from server.channels.broker import Broker, Published, Recovery, decide_recovery, new_epoch, now_iso

MAX_REMEMBERED_IDS = 100_000  # per channel; far more than a day of one channel's events


class _Channel:
    __slots__ = ("epoch", "events", "published_ids", "seq")

    def __init__(self, size: int) -> None:
        self.seq = 0
        self.epoch = new_epoch()
        self.events: deque[Published] = deque(maxlen=size)
        # event id -> (seq, monotonic time), oldest first: the de-duplication window.
        self.published_ids: OrderedDict[int, tuple[int, float]] = OrderedDict()


class MemoryBroker(Broker):
    """Sequence numbers, history and fan-out inside one process."""

    def __init__(self, history_size: int, history_ttl: float) -> None:
        super().__init__(history_size, history_ttl)
        self._channels: dict[str, _Channel] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._channels.clear()

    def _channel(self, name: str) -> _Channel:
        found = self._channels.get(name)
        if found is None:
            found = self._channels[name] = _Channel(self.history_size)
        return found

    async def publish(
        self,
        channel: str,
        type_: str,
        data: dict[str, Any],
        ts: str | None = None,
        event_id: int | None = None,
    ) -> int:
        state = self._channel(channel)
        if event_id is not None:
            seen = self._seen(state, event_id)
            if seen is not None:
                return seen
        state.seq += 1
        if event_id is not None:
            state.published_ids[event_id] = (state.seq, time.monotonic())
        event = Published(channel, state.seq, state.epoch, type_, data, ts or now_iso())
        state.events.append(event)
        assert self._loop is not None, "broker not started"
        self._loop.call_soon(self.listener.on_event, event)
        return state.seq

    def _seen(self, state: _Channel, event_id: int) -> int | None:
        """The seq ``event_id`` was published under, if within the window; forgets older ids."""
        ids = state.published_ids
        horizon = time.monotonic() - self.history_ttl
        while ids and (len(ids) > MAX_REMEMBERED_IDS or next(iter(ids.values()))[1] < horizon):
            ids.popitem(last=False)
        found = ids.get(event_id)
        return None if found is None else found[0]

    async def forget(self, channel: str) -> None:
        self._channels.pop(channel, None)

    async def history(self, channel: str, since: int | None, epoch: str | None) -> Recovery:
        state = self._channel(channel)
        oldest = self.oldest_allowed(datetime.now(UTC))
        return decide_recovery(state.seq, state.epoch, since, epoch, tuple(state.events), oldest)

    async def subscribe(self, channel: str) -> None:
        return None

    async def unsubscribe(self, channel: str) -> None:
        return None

    async def control(self, message: dict[str, Any]) -> None:
        assert self._loop is not None, "broker not started"
        self._loop.call_soon(self.listener.on_control, message)

    async def ping(self) -> None:
        return None
