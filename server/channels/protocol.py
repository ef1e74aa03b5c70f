"""The ``/ws`` frame protocol of API.md, sans I/O: parsing client frames, building server frames.

Nothing here touches a socket, the database or the clock (time is passed in), so every
rule is pinned down by table-driven tests. What lives here: channel names
(:func:`parse_channel`), client operations (:func:`parse_frame`), the server frames
(``subbed``, ``event``, ``error``, ``pong``), websocket framing of a payload that is
encoded once and written to many connections (:class:`Frame`), and the budget that turns
a flood of bad or excessive frames into close code 4029 (:class:`FrameBudget`).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import orjson


# Close codes of API.md.
class CloseCode(IntEnum):
    """Why the server closed a socket (API.md "Close codes"); the web client reads the same table."""

    IDLE = 1000
    GOING_AWAY = 1001
    RESYNC = 1012  # resubscribe with ``since``: history was dropped, or the server restarts
    UNAUTHENTICATED = 4001
    FORBIDDEN = 4003  # suspended, session ended, policy not accepted
    TOO_SLOW = 4008  # resume with ``since``
    RATE_LIMITED = 4029  # a flood of frames, or too many sockets


MAX_FRAME_CHARS = 4096
MAX_REF_CHARS = 64
MAX_EPOCH_CHARS = 64
MAX_ID = 2**62

_CHANNEL = re.compile(r"(school|class|student|user):([1-9][0-9]{0,18})(:staff)?")
_STAFF_KINDS = frozenset({"school", "class"})


@dataclass(frozen=True, slots=True)
class Channel:
    """A parsed channel name: ``kind`` (school, class, student, user), the id, and the staff flag."""

    kind: str
    id: int
    staff: bool = False

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.id}:staff" if self.staff else f"{self.kind}:{self.id}"


def parse_channel(name: object) -> Channel | None:
    """The channel a name denotes, or None when it is not one of API.md's channels."""
    if not isinstance(name, str) or len(name) > 40:
        return None
    match = _CHANNEL.fullmatch(name)
    if match is None:
        return None
    kind, raw_id, staff = match.groups()
    if staff and kind not in _STAFF_KINDS:
        return None
    ident = int(raw_id)
    if ident > MAX_ID:
        return None
    return Channel(kind, ident, bool(staff))


Ref = int | str | None


@dataclass(frozen=True, slots=True)
class Sub:
    """``{"op": "sub", "channel", "since"?, "epoch"?, "ref"?}``."""

    channel: Channel
    since: int | None = None
    epoch: str | None = None
    ref: Ref = None


@dataclass(frozen=True, slots=True)
class Unsub:
    """``{"op": "unsub", "channel", "ref"?}``."""

    channel: Channel
    ref: Ref = None


@dataclass(frozen=True, slots=True)
class Ping:
    """``{"op": "ping", "ref"?}``."""

    ref: Ref = None


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame the server refuses: answered with an error frame, counted against the budget."""

    code: str
    message: str
    ref: Ref = None
    channel: str | None = None


ClientOp = Sub | Unsub | Ping


def parse_frame(raw: str | bytes | None) -> ClientOp | BadFrame:
    """Parse one client frame; every problem becomes a :class:`BadFrame`, never an exception."""
    if raw is None or isinstance(raw, bytes):
        return BadFrame("bad_request", "Frames must be JSON text.")
    if len(raw) > MAX_FRAME_CHARS:
        return BadFrame("too_large", f"Frames are limited to {MAX_FRAME_CHARS} characters.")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return BadFrame("bad_request", "The frame is not valid JSON.")
    if not isinstance(doc, dict):
        return BadFrame("bad_request", "The frame must be a JSON object.")
    ref = doc.get("ref")
    if not _valid_ref(ref):
        return BadFrame("bad_request", "'ref' must be a number or a short string.")
    op = doc.get("op")
    if op == "ping":
        return Ping(ref)
    if op not in ("sub", "unsub"):
        return BadFrame("bad_request", "'op' must be 'sub', 'unsub' or 'ping'.", ref)
    name = doc.get("channel")
    channel = parse_channel(name)
    if channel is None:
        shown = name if isinstance(name, str) and len(name) <= 40 else None
        return BadFrame("bad_request", "That is not a channel name.", ref, shown)
    if op == "unsub":
        return Unsub(channel, ref)
    since = doc.get("since")
    if since is not None and (type(since) is not int or not 0 <= since <= MAX_ID):
        return BadFrame("bad_request", "'since' must be a whole number ≥ 0.", ref, channel.name)
    epoch = doc.get("epoch")
    if epoch is not None and (not isinstance(epoch, str) or len(epoch) > MAX_EPOCH_CHARS):
        return BadFrame("bad_request", "'epoch' must be a short string.", ref, channel.name)
    return Sub(channel, since, epoch, ref)


def _valid_ref(ref: object) -> bool:
    if ref is None:
        return True
    if type(ref) is int:
        return -(2**53) <= ref <= 2**53
    return isinstance(ref, str) and len(ref) <= MAX_REF_CHARS


# Server frames --------------------------------------------------------------------------


def _with_ref(doc: dict[str, Any], ref: Ref) -> dict[str, Any]:
    if ref is not None:
        doc["ref"] = ref
    return doc


def subbed_frame(
    channel: str,
    seq: int,
    epoch: str,
    recovered: bool,
    ref: Ref = None,
    presence: list[dict[str, Any]] | None = None,
) -> Frame:
    """``subbed``: the channel's position after any replay; ``presence`` on ``*:staff`` channels."""
    doc: dict[str, Any] = {
        "op": "subbed",
        "channel": channel,
        "seq": seq,
        "epoch": epoch,
        "recovered": recovered,
    }
    if presence is not None:
        doc["presence"] = presence
    return Frame(orjson.dumps(_with_ref(doc, ref)))


def unsubbed_frame(channel: str, ref: Ref = None) -> Frame:
    """``unsubbed``: the reply to ``unsub``."""
    return Frame(orjson.dumps(_with_ref({"op": "unsubbed", "channel": channel}, ref)))


def error_frame(code: str, message: str, ref: Ref = None, channel: str | None = None) -> Frame:
    """``error``: a refused operation; the connection stays open."""
    doc: dict[str, Any] = {"op": "error", "code": code, "message": message}
    if channel is not None:
        doc["channel"] = channel
    return Frame(orjson.dumps(_with_ref(doc, ref)))


def pong_frame(ref: Ref = None) -> Frame:
    """``pong``: the reply to ``ping``."""
    return Frame(orjson.dumps(_with_ref({"op": "pong"}, ref)))


def event_frame(channel: str, seq: int, type_: str, data: dict[str, Any], ts: str) -> Frame:
    """``event``: encoded once per (event, render variant) and shared by every reader of it."""
    return Frame(
        orjson.dumps({"op": "event", "channel": channel, "seq": seq, "type": type_, "data": data, "ts": ts})
    )


class Frame:
    """One server frame: its JSON payload, and (lazily, once) the websocket bytes on the wire.

    Server-to-client frames are never masked and per-message deflate is off, so the same
    bytes are valid on every connection: the header is computed once and the frame is
    written to each reader's transport as is.
    """

    __slots__ = ("_text", "_wire", "payload")

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self._wire: bytes | None = None
        self._text: str | None = None

    @property
    def wire(self) -> bytes:
        """The complete websocket text frame (FIN, opcode 1, unmasked)."""
        if self._wire is None:
            self._wire = frame_header(len(self.payload)) + self.payload
        return self._wire

    @property
    def text(self) -> str:
        """The payload as text, for ASGI servers without a direct frame outlet."""
        if self._text is None:
            self._text = self.payload.decode()
        return self._text

    def __len__(self) -> int:
        return len(self.payload) + 10


def frame_header(length: int) -> bytes:
    """RFC 6455 header of an unmasked, final text frame carrying ``length`` bytes."""
    if length < 126:
        return bytes((0x81, length))
    if length < 65536:
        return struct.pack("!BBH", 0x81, 126, length)
    return struct.pack("!BBQ", 0x81, 127, length)


class FrameBudget:
    """Token buckets for client frames: a few bad frames are forgiven, a flood is not.

    ``bad_burst`` bad frames are allowed at once, refilling one every ``bad_every`` seconds;
    any frames at all are limited to ``burst`` at once, refilling ``rate`` per second. When
    either runs dry the connection is closed with 4029.
    """

    __slots__ = ("_bad", "_bad_burst", "_bad_every", "_burst", "_last", "_rate", "_tokens")

    def __init__(
        self,
        now: float,
        *,
        burst: int = 60,
        rate: float = 20.0,
        bad_burst: int = 10,
        bad_every: float = 2.0,
    ) -> None:
        self._burst = float(burst)
        self._rate = rate
        self._bad_burst = float(bad_burst)
        self._bad_every = bad_every
        self._tokens = float(burst)
        self._bad = float(bad_burst)
        self._last = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
        self._bad = min(self._bad_burst, self._bad + elapsed / self._bad_every)

    def frame(self, now: float, bad: bool) -> bool:
        """Count one frame; False means the client is flooding and must be closed with 4029."""
        self._refill(now)
        self._tokens -= 1.0
        if bad:
            self._bad -= 1.0
        return self._tokens >= 0.0 and self._bad >= 0.0
