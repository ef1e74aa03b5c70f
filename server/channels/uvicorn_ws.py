"""The websocket protocol ``python -m server serve`` runs: uvicorn's wsproto plus a frame outlet.

Why this one — measured with ``bench/fanout.py`` (2 processes + Redis + PostgreSQL, 2,000
clients on one channel, 200-event burst; server CPU per delivery and memory per idle
subscribed connection; bench/README.md has the whole runs):

=====================================================  ===========  =========
implementation                                         µs/delivery  KiB/conn
=====================================================  ===========  =========
uvicorn ``websockets-sansio`` + a queue per client     30.4         35.9
uvicorn ``wsproto`` + a queue per client               30.8         33.8
this protocol (frames written once per variant)        10.2         24.5
raw ``websockets.broadcast()`` floor, same run         13.3 [1]_    15.2
=====================================================  ===========  =========

.. [1] floor processes plus Homeroom's processes serving the same publishing requests.

Since then an admitted socket detaches from its ASGI task (:meth:`HomeroomWSProtocol.detach`)
and the protocol keeps its attributes in slots: 7.2 KiB per idle subscribed connection against
the floors' 14.4 (``websockets``) and 10.1 (Node ``ws``) in one run (bench/README.md).

- ``websockets-sansio`` (uvicorn's ``auto`` choice since 0.50) never pauses writing: an
  awaited ``send`` to a phone that stopped reading returns at once while its buffer grows
  without bound, so a slow client cannot even be detected through ASGI.
- ``wsproto`` pauses writing, but frames every message in pure Python once per
  connection, behind an ASGI ``send`` and a writer task per connection.
- the legacy ``websockets`` implementation drains after every send and keeps three tasks
  per connection.

This subclass keeps wsproto for the handshake, reading, pings and closing, and adds an
ASGI scope extension, ``homeroom.outlet``, through which the live layer writes frames
that were encoded and framed once per render variant straight to each transport —
the same thing ``websockets.broadcast()`` does, which an ASGI app cannot otherwise
reach. Server frames are unmasked and per-message deflate is off, so the bytes are
identical on every connection. The outlet measures the transport's own write buffer
against ``ws_queue_bytes``; a reader past it is closed with 4008 without waiting on it.

The live layer also works on any other ASGI server (without the extension it falls
back to :class:`server.channels.connection.AsgiOutlet`, the "queue per client" rows).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import wsproto.events
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.wsproto_impl import WSProtocol
from wsproto.utilities import LocalProtocolError

from server.channels.protocol import Frame

EXTENSION = "homeroom.outlet"
_DETACHED_SCOPE: dict[str, Any] = {"type": "websocket", "path": "/ws", "query_string": b"", "headers": []}


class FrameOutlet:
    """Writes pre-framed websocket bytes to one transport, bounded by its buffered bytes."""

    __slots__ = ("_protocol", "_transport", "limit")

    def __init__(self, protocol: HomeroomWSProtocol, limit: int = 512 * 1024) -> None:
        self._protocol = protocol
        self._transport = protocol.transport
        self.limit = limit

    def write(self, frame: Frame) -> bool:
        transport = self._transport
        if self._protocol.close_sent or transport.is_closing():
            return True
        if transport.get_write_buffer_size() > self.limit:
            return False
        transport.write(frame.wire)
        return True

    def detach(self, receiver: Receiver) -> None:
        """Send this socket's receive events to ``receiver`` from now on; the ASGI app may then return."""
        self._protocol.detach(receiver)
        receiver.attached(self)

    def resume_reading(self) -> None:
        """Read the client's next frames (reading pauses after each message until its handler is done)."""
        protocol = self._protocol
        if protocol.read_paused and not self._transport.is_closing():
            protocol.read_paused = False
            self._transport.resume_reading()

    def buffered(self) -> int:
        """Bytes written but not yet taken by the socket."""
        return self._transport.get_write_buffer_size()

    def close(self, code: int, reason: str) -> None:
        """Send a close frame now, without waiting for a stalled reader; abort if it never answers."""
        protocol = self._protocol
        transport = self._transport
        if protocol.close_sent or transport.is_closing():
            return
        protocol.close_sent = True
        protocol.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        try:
            output = protocol.conn.send(wsproto.events.CloseConnection(code=code, reason=reason))
        except LocalProtocolError:
            transport.close()
            return
        transport.write(output)
        if protocol.read_paused:
            protocol.read_paused = False
            transport.resume_reading()
        # A reader that never drains its buffer would hold the socket forever: abort it.
        protocol.close_timer = protocol.loop.call_later(protocol.close_timeout, transport.abort)


class Receiver(Protocol):
    """Takes a detached socket's ASGI receive events (:meth:`FrameOutlet.detach`)."""

    def attached(self, outlet: FrameOutlet) -> None:
        """Events go to :meth:`received` from now on."""
        ...

    def received(self, message: dict[str, Any]) -> None:
        """One receive event (``websocket.receive`` or ``websocket.disconnect``); must not block."""
        ...


class _Handover:
    """Stands in for the receive queue once the socket is detached: events go straight to a receiver."""

    __slots__ = ("_receiver",)

    def __init__(self, receiver: Receiver) -> None:
        self._receiver = receiver

    def put_nowait(self, item: Any) -> None:
        self._receiver.received(item)

    def empty(self) -> bool:
        return True


class _Inbox:
    """The protocol's queue of ASGI receive events, without ``asyncio.Queue``'s four deques."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class _Flag:
    """The protocol's "writable" flag, without ``asyncio.Event``'s deque."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] = []

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if not self._set:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
        return True


class _Handshaken:
    """Stands in for wsproto's finished HTTP/1.1 handshake (and its h11 state) once the socket is open."""

    __slots__ = ()

    def events(self) -> Iterator[Any]:
        return iter(())


_WSPROTOCOL_FIELDS = (
    "app",
    "app_state",
    "asgi_version",
    "buffer",
    "client",
    "close_sent",
    "close_timeout",
    "close_timer",
    "config",
    "conn",
    "connections",
    "default_headers",
    "disconnected",
    "handshake_complete",
    "last_ping_rtt",
    "logger",
    "loop",
    "pending_ping_payload",
    "ping_interval",
    "ping_sent_at",
    "ping_timeout",
    "ping_timer",
    "pong_timer",
    "queue",
    "read_paused",
    "response_started",
    "root_path",
    "scheme",
    "scope",
    "server",
    "tasks",
    "transport",
    "writable",
)


def _slotted(base: type) -> type:
    """``base`` (uvicorn's ``WSProtocol``) with its attributes in slots instead of an instance dict.

    Its 33 attributes are past the 30 a split (shared-key) dict holds, so each connection
    pays for a whole dict of its own, about 1.5 KiB of an idle socket. The methods are
    uvicorn's own; an attribute a newer uvicorn adds fails loudly (AttributeError) at the
    first connection, which the live tests make.
    """
    methods = {
        name: value
        for name, value in vars(base).items()
        if name not in {"__dict__", "__weakref__", "__slots__", "__module__", "__qualname__"}
    }
    return type(f"Slotted{base.__name__}", (asyncio.Protocol,), {**methods, "__slots__": _WSPROTOCOL_FIELDS})


if TYPE_CHECKING:
    _SlottedWSProtocol = WSProtocol
else:
    _SlottedWSProtocol = _slotted(WSProtocol)


class _FewEvents(list[Any]):
    """Stands in for wsproto's event deque (about 600 bytes even when empty) once the socket is open."""

    __slots__ = ()

    def popleft(self) -> Any:
        return self.pop(0)


class HomeroomWSProtocol(_SlottedWSProtocol):
    """uvicorn's wsproto websocket protocol, with the ``homeroom.outlet`` scope extension.

    It also trims what an idle connection holds (a server keeps thousands): attributes in
    slots, a list-based receive queue and writable flag instead of ``asyncio.Queue`` and
    ``asyncio.Event``, and wsproto's handshake state and event deque are dropped once the
    connection is accepted.
    """

    __slots__ = ("detached",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Stand-ins with the few methods uvicorn calls, not subclasses of the types it declares.
        self.queue = _Inbox()  # type: ignore[assignment]  # for asyncio.Queue
        self.writable = _Flag()  # type: ignore[assignment]  # for asyncio.Event
        self.detached = False

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.conn.connection is not None:
            self.conn.handshake = _Handshaken()  # type: ignore[assignment]  # for wsproto's H11Handshake
            self.conn.connection._events = _FewEvents()  # type: ignore[assignment]  # for a deque

    def detach(self, receiver: Receiver) -> None:
        """Hand the socket's receive events to ``receiver``, those already queued first.

        Afterwards the ASGI task may end without closing the socket (:meth:`run_asgi`), and
        the ASGI scope is let go: an idle connection then keeps only this protocol, its
        transport and the receiver.
        """
        queued = self.queue._items if isinstance(self.queue, _Inbox) else []
        self.queue = _Handover(receiver)  # type: ignore[assignment]  # for asyncio.Queue
        self.detached = True
        self.scope = _DETACHED_SCOPE  # type: ignore[assignment]
        for item in queued:
            receiver.received(item)

    async def run_asgi(self) -> None:
        """uvicorn's, except that an app that detached the socket leaves it open when it returns."""
        try:
            await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            self.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
        else:
            if not self.handshake_complete:
                self.logger.error("ASGI callable returned without completing handshake.")
                self.send_500_response()
        if self.detached:
            return
        if self.close_timer is None:
            self.transport.close()

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        extensions = self.scope.setdefault("extensions", {})
        if extensions is not None:
            extensions[EXTENSION] = {"outlet": FrameOutlet(self)}


def frame_outlet(scope: Any, limit: int) -> FrameOutlet | None:
    """The connection's frame outlet when the server provides one (else None)."""
    extension = (scope.get("extensions") or {}).get(EXTENSION)
    if not extension:
        return None
    outlet: FrameOutlet = extension["outlet"]
    outlet.limit = limit
    return outlet
