"""One live connection: who it belongs to, what it reads, and the bounded outlet its frames go through.

Frames are handed to a connection with :meth:`Connection.deliver`, which never awaits:
the fan-out loop writes to thousands of connections without waiting for any one. Each
connection's pending bytes are bounded (``settings.ws_queue_bytes``); a reader that
falls that far behind is closed with 4008 and resumes with ``since``.

Two outlets exist. :class:`server.channels.uvicorn_ws.FrameOutlet` (the server we
ship) writes the pre-framed bytes straight to the socket's transport and measures the
transport's own buffer. :class:`AsgiOutlet` is the portable fallback for any other ASGI
server: a byte-bounded queue drained by a writer task through ``websocket.send``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from typing import TYPE_CHECKING, Protocol

from starlette.types import Send

from server.channels.protocol import CloseCode, Frame
from server.channels.render import Variant
from server.observability import metrics

if TYPE_CHECKING:
    from server.auth.principal import SignedIn

_ids = itertools.count(1)


class Outlet(Protocol):
    """Where a connection's frames go; never blocks."""

    def write(self, frame: Frame) -> bool:
        """Queue a frame; False when the reader is too far behind (the caller closes with 4008)."""
        ...

    def close(self, code: int, reason: str) -> None:
        """Start the closing handshake now; the endpoint's ``receive()`` then reports the disconnect."""
        ...


class Connection:
    """A signed-in websocket client as the hub sees it."""

    __slots__ = (
        "channels",
        "close_code",
        "id",
        "outlet",
        "principal",
        "rechecks",
        "role",
        "school_id",
        "session_id",
        "token",
        "user",
        "user_id",
        "variant",
    )

    def __init__(
        self,
        outlet: Outlet,
        *,
        user_id: int,
        school_id: int,
        role: str,
        session_id: int,
        token: str,
        variant: Variant,
        user: dict[str, object],
    ) -> None:
        self.id = next(_ids)
        self.outlet = outlet
        self.user_id = user_id
        self.school_id = school_id
        self.role = role
        self.session_id = session_id
        self.token = token
        self.variant = variant
        self.user = user  # {"id", "name", "role"}: what presence shows of this user
        self.channels: set[str] = set()
        self.principal: SignedIn | None = None  # who it signed in as, refreshed on re-checks
        self.rechecks = 0  # re-checks of its rights begun so far (a subscribe in flight compares it)
        self.close_code: int | None = None

    @property
    def closed(self) -> bool:
        return self.close_code is not None

    def deliver(self, frame: Frame) -> None:
        """Queue one frame without waiting; overflow closes this connection (4008)."""
        if self.close_code is not None:
            return
        if not self.outlet.write(frame):
            metrics.SLOW_CLIENT_CLOSES.inc()
            self.close(CloseCode.TOO_SLOW, "too slow: reconnect with since")

    def close(self, code: int, reason: str = "") -> None:
        """Close once with ``code``; later calls do nothing."""
        if self.close_code is not None:
            return
        self.close_code = code
        self.outlet.close(code, reason)

    def __repr__(self) -> str:
        return f"<Connection {self.id} user={self.user_id} channels={len(self.channels)}>"


class AsgiOutlet:
    """A byte-bounded queue drained through ASGI ``websocket.send`` by a writer task.

    The writer exists only while frames are waiting. Awaiting ``send`` is safe here (it
    is this connection's own task), and on a server that pauses writing (wsproto, the
    legacy websockets implementation) a stalled reader shows up as a growing queue.
    """

    __slots__ = ("_closing", "_limit", "_queue", "_queued", "_send", "_writer")

    def __init__(self, send: Send, limit: int) -> None:
        self._send = send
        self._limit = limit
        self._queue: deque[Frame] = deque()
        self._queued = 0
        self._writer: asyncio.Task[None] | None = None
        self._closing: tuple[int, str] | None = None

    def write(self, frame: Frame) -> bool:
        if self._closing is not None:
            return True
        size = len(frame)
        if self._queued + size > self._limit:
            return False
        self._queue.append(frame)
        self._queued += size
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._drain())
        return True

    def close(self, code: int, reason: str) -> None:
        if self._closing is not None:
            return
        self._closing = (code, reason)
        self._queue.clear()
        self._queued = 0
        if self._writer is not None:
            self._writer.cancel()
        self._writer = asyncio.get_running_loop().create_task(self._send_close())

    async def _drain(self) -> None:
        try:
            while self._queue:
                frame = self._queue[0]
                await self._send({"type": "websocket.send", "text": frame.text})
                if self._queue and self._queue[0] is frame:
                    self._queue.popleft()
                    self._queued -= len(frame)
        except (OSError, RuntimeError):
            self._queue.clear()
        finally:
            if self._closing is None:
                self._writer = None

    async def _send_close(self) -> None:
        assert self._closing is not None
        code, reason = self._closing
        with contextlib.suppress(OSError, RuntimeError):
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
