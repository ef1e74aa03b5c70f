"""A broker listener made of plain callables, for tests that watch a broker directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.channels.broker import Published


class Listener:
    """``BrokerListener`` with each callback optional."""

    def __init__(
        self,
        *,
        on_event: Callable[[Published], None] | None = None,
        on_control: Callable[[dict[str, Any]], None] | None = None,
        on_reconnect: Callable[[], None] | None = None,
    ) -> None:
        self._event = on_event
        self._control = on_control
        self._reconnect = on_reconnect

    def on_event(self, event: Published) -> None:
        if self._event is not None:
            self._event(event)

    def on_control(self, message: dict[str, Any]) -> None:
        if self._control is not None:
            self._control(message)

    def on_reconnect(self) -> None:
        if self._reconnect is not None:
            self._reconnect()
