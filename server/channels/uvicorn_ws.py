"""The websocket protocol ``python -m server serve`` runs: uvicorn's wsproto plus a frame outlet.

Why this one (measured with ``bench/fanout.py``; see bench/README.md):

- uvicorn's ``websockets-sansio`` (the ``auto`` choice since 0.50) never pauses writing:
  an awaited ``send`` to a phone that stopped reading returns at once while its buffer
  grows without bound, so a slow client cannot even be detected through ASGI.
- ``wsproto`` pauses writing, but frames every message in pure Python, once per
  connection: the dominant cost of a fan-out.
- the legacy ``websockets`` implementation drains after every send, and keeps three
  tasks per connection.

This subclass keeps wsproto for the handshake, reading, pings and closing, and adds an
ASGI scope extension, ``homeroom.outlet``, through which the live layer writes frames
that were encoded and framed once per render variant straight to each transport —
the same thing ``websockets.broadcast()`` does, which an ASGI app cannot otherwise
reach. Server frames are unmasked and per-message deflate is off, so the bytes are
identical on every connection. The outlet measures the transport's own write buffer
against ``ws_queue_bytes``; a reader past it is closed with 4008 without waiting on it.

The live layer also works on any other ASGI server (without the extension it falls
back to :class:`server.channels.connection.AsgiOutlet`).
"""

from __future__ import annotations

from typing import Any

import wsproto.events
from uvicorn.protocols.websockets.wsproto_impl import WSProtocol
from wsproto.utilities import LocalProtocolError

from server.channels.protocol import Frame

EXTENSION = "homeroom.outlet"


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


class HomeroomWSProtocol(WSProtocol):
    """uvicorn's wsproto websocket protocol, with the ``homeroom.outlet`` scope extension."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        extensions = self.scope.setdefault("extensions", {})  # type: ignore[typeddict-item]
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
