"""``GET /ws``: the websocket endpoint of API.md — Origin check, sign-in, and the frame loop.

Order of a connection's life: the ``Origin`` header is checked before the upgrade
(cross-site websocket hijacking gets HTTP 403 and never a socket); the session cookie
or bearer token is resolved (unknown: accepted then closed 4001 so browsers can tell;
suspended or revoked: 4003); then ``sub``/``unsub``/``ping`` frames until the client
leaves. Bad frames are answered with ``error`` frames; a flood of frames, bad or not,
closes with 4029. So does a socket past its user's caps (``ws_connections_per_session``,
``ws_connections_per_user``, counted in every process), after a ``too_many_connections``
error frame. A connection that subscribes to nothing for ``ws_idle_seconds`` is
closed; dead peers are found by the server's protocol pings (``ws_ping_seconds``).

On ``serve``'s own protocol an admitted socket is handed to a :class:`LiveSession` and the
ASGI task ends (an idle socket then costs no task and no coroutine frames); on any other
ASGI server the same session is driven by a ``receive()`` loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from server.api.http import JSONResponse, request_token
from server.auth.origin import origin_allowed
from server.auth.principal import Principal, resolve_token
from server.channels.connection import AsgiOutlet, Connection, Outlet
from server.channels.part import LivePart
from server.channels.protocol import (
    BadFrame,
    CloseCode,
    FrameBudget,
    Ping,
    Sub,
    Unsub,
    error_frame,
    parse_frame,
    pong_frame,
    unsubbed_frame,
)
from server.channels.render import Variant
from server.channels.rules import may_subscribe
from server.channels.uvicorn_ws import FrameOutlet, frame_outlet
from server.db.engine import database_down
from server.errors import ApiError
from server.language.interface import N_
from server.presence.base import SESSION_FULL
from server.services import Services
from server.settings import Settings

log = logging.getLogger("homeroom.live")

_INTERNAL_ERROR = 1011  # a frame's handling failed: the client reconnects and resumes with ``since``

MAX_SUBSCRIPTIONS = 100


async def live_socket(websocket: WebSocket) -> None:
    """The ``/ws`` endpoint."""
    services: Services = websocket.app.state.services
    live: LivePart | None = services.live
    settings = services.settings
    headers = websocket.headers
    if live is None:
        await websocket.close(1011)
        return
    if not origin_allowed(
        headers.get("origin"), headers.get("host"), websocket.url.scheme, settings.allowed_origins
    ):
        await _deny(websocket)
        return
    principal, refusal = await _sign_in(services, websocket)
    await websocket.accept()
    outlet = _outlet(websocket, settings)
    if principal is None:
        code, error = refusal
        outlet.write(error_frame(error.code, error.message))
        outlet.close(code, error.code)
        await _until_disconnect(websocket)
        return
    user = principal.user
    conn = Connection(
        outlet,
        user_id=user.id,
        school_id=user.school_id,
        role=user.role,
        session_id=principal.session_id,
        token=principal.token,
        variant=Variant(user.language or "en", principal.is_staff),
        user={"id": user.id, "name": user.name, "role": user.role},
    )
    conn.principal = principal.signed_in()
    assert live.hub is not None
    cap = await live.admit(conn)
    if cap is not None:
        outlet.write(error_frame("too_many_connections", _too_many_message(cap, settings)))
        outlet.close(CloseCode.RATE_LIMITED, "too many connections")
        await _until_disconnect(websocket)
        return
    live.hub.add(conn)
    session = LiveSession(live, conn, settings.ws_idle_seconds)
    if isinstance(outlet, FrameOutlet):
        # Served by our own protocol: hand the socket over and let this ASGI task end, so an
        # idle connection keeps no task, no coroutine frames and no ASGI scope.
        outlet.detach(session)
        return
    try:
        await _serve(websocket, session)
    finally:
        await live.disconnected(conn)


def _too_many_message(cap: str, settings: Settings) -> str:
    if cap == SESSION_FULL:
        return (
            f"This sign-in already has {settings.ws_connections_per_session} live connections open; "
            "close a tab to open another."
        )
    return (
        f"You already have {settings.ws_connections_per_user} live connections open; "
        "close one to open another."
    )


async def _deny(websocket: WebSocket) -> None:
    body = {"error": {"code": "forbidden", "message": "Cross-origin websocket refused.", "details": {}}}
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse(body, status_code=403))
    else:
        await websocket.close(1008)


async def _sign_in(services: Services, websocket: WebSocket) -> tuple[Principal | None, Any]:
    presented = request_token(websocket)
    if presented is None:
        return None, (CloseCode.UNAUTHENTICATED, ApiError(401, "unauthenticated", N_("Please sign in.")))
    try:
        principal = await resolve_token(services, *presented)
    except ApiError as exc:
        return None, (CloseCode.FORBIDDEN if exc.status == 403 else CloseCode.UNAUTHENTICATED, exc)
    if principal.needs_policy:
        error = ApiError(403, "policy_not_accepted", N_("Please accept the school's code of conduct first."))
        return None, (CloseCode.FORBIDDEN, error)
    return principal, None


def _outlet(websocket: WebSocket, settings: Settings) -> Outlet:
    direct = frame_outlet(websocket.scope, settings.ws_queue_bytes)
    if direct is not None:
        return direct
    return AsgiOutlet(websocket._send, settings.ws_queue_bytes)


async def _until_disconnect(websocket: WebSocket) -> None:
    while (await websocket._receive())["type"] != "websocket.disconnect":
        pass


async def _serve(websocket: WebSocket, session: LiveSession) -> None:
    """The frame loop on any ASGI server: one ``receive()`` at a time until the client leaves."""
    conn = session.conn
    receive = websocket._receive
    while True:
        if conn.channels or conn.closed:
            message = await receive()
        else:
            try:
                message = await asyncio.wait_for(receive(), session.idle_seconds)
            except TimeoutError:
                conn.close(CloseCode.IDLE, "idle")
                continue
        if message["type"] == "websocket.disconnect":
            return
        await session.handle(message)


class LiveSession:
    """What a signed-in socket's client frames do: ``sub``, ``unsub``, ``ping``, within a frame budget.

    On our own protocol the socket is detached from its ASGI task once admitted: the protocol
    calls :meth:`received` with each ASGI receive event, frames are handled one at a time in
    order by a task that exists only while frames are waiting (reading is paused meanwhile),
    an idle timer stands in for the loop's ``receive()`` timeout, and the disconnect is handled
    after the frames before it. A frame whose handling fails closes the socket with 1011
    (internal error) rather than leaving a client waiting on an answer that never comes.
    """

    __slots__ = (
        "_budget",
        "_finished",
        "_idle",
        "_pending",
        "_worker",
        "conn",
        "idle_seconds",
        "live",
        "outlet",
    )

    def __init__(self, live: LivePart, conn: Connection, idle_seconds: float) -> None:
        self.live = live
        self.conn = conn
        self.idle_seconds = idle_seconds
        self.outlet: FrameOutlet | None = None
        self._budget = FrameBudget(asyncio.get_running_loop().time())
        self._pending: deque[dict[str, Any]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._finished = False

    async def handle(self, message: Mapping[str, Any]) -> None:
        """Answer one client frame (an ASGI ``websocket.receive`` event)."""
        conn = self.conn
        if conn.closed:
            return
        op = parse_frame(message.get("text") if message.get("text") is not None else message.get("bytes"))
        bad = isinstance(op, BadFrame)
        if not self._budget.frame(asyncio.get_running_loop().time(), bad):
            conn.close(CloseCode.RATE_LIMITED, "rate limited")
            return
        if isinstance(op, BadFrame):
            conn.deliver(error_frame(op.code, op.message, op.ref, op.channel))
        elif isinstance(op, Ping):
            conn.deliver(pong_frame(op.ref))
        elif isinstance(op, Sub):
            await _subscribe(self.live, conn, op)
        elif isinstance(op, Unsub):
            await self.live.leave(conn, op.channel.name)
            conn.deliver(unsubbed_frame(op.channel.name, op.ref))

    # Detached from the ASGI task ------------------------------------------------------

    def attached(self, outlet: FrameOutlet) -> None:
        """Called by the protocol once it sends receive events here; starts the idle timer."""
        self.outlet = outlet
        self._watch_idle()

    def received(self, message: dict[str, Any]) -> None:
        """Take one ASGI receive event from the protocol (never blocks)."""
        if self._finished:
            return
        if self._pending is None:
            self._pending = deque()
        self._pending.append(message)
        if message["type"] == "websocket.disconnect":
            self._finished = True
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        pending = self._pending
        assert pending is not None
        try:
            while pending:
                message = pending.popleft()
                if message["type"] == "websocket.disconnect":
                    try:
                        await self.live.disconnected(self.conn)
                    except Exception:
                        log.exception("live: a closed socket could not be forgotten")
                    return
                try:
                    await self.handle(message)
                except Exception:
                    log.exception("live: a frame could not be handled; closing the socket")
                    self.conn.close(_INTERNAL_ERROR, "internal error")
        finally:
            self._worker = None
            self._pending = None
        if not self._finished:
            self._watch_idle()
            if self.outlet is not None:
                self.outlet.resume_reading()

    def _watch_idle(self) -> None:
        """Close a socket that holds no subscription for ``idle_seconds`` (as the loop's timeout does)."""
        if self.conn.channels or self.conn.closed:
            return
        self._idle = asyncio.get_running_loop().call_later(self.idle_seconds, self._idle_close)

    def _idle_close(self) -> None:
        self._idle = None
        if not self.conn.channels:
            self.conn.close(CloseCode.IDLE, "idle")


async def _subscribe(live: LivePart, conn: Connection, op: Sub) -> None:
    assert live.hub is not None and live.services is not None
    name = op.channel.name
    if name not in conn.channels and len(conn.channels) >= MAX_SUBSCRIPTIONS:
        message = f"A connection may hold at most {MAX_SUBSCRIPTIONS} subscriptions."
        conn.deliver(error_frame("too_many_subscriptions", message, op.ref, name))
        return
    rechecks = conn.rechecks
    assert conn.principal is not None, "set when the connection signed in"
    try:
        async with live.services.read() as session:
            allowed = await may_subscribe(session, conn.principal, op.channel)
    except Exception as exc:
        if not database_down(exc):
            raise
        log.warning("live: subscribing to %s: database unavailable (%s)", name, type(exc).__name__)
        conn.deliver(error_frame("unavailable", "Live updates are briefly unavailable.", op.ref, name))
        return
    if not allowed:
        conn.deliver(error_frame("forbidden", "You may not subscribe to that channel.", op.ref, name))
        return
    if name in conn.channels:
        live.hub.unsubscribe(conn, name)  # a fresh "sub" restarts the subscription (e.g. with a new since)
    presence = await live.join_presence(conn, name) if op.channel.staff else None
    try:
        await live.hub.subscribe(conn, name, op.since, op.epoch, op.ref, presence)
    except Exception as exc:
        log.warning("live: subscribing to %s failed (%s)", name, type(exc).__name__)
        if op.channel.staff:
            await live.leave_presence(conn, name)
        conn.deliver(error_frame("unavailable", "Live updates are briefly unavailable.", op.ref, name))
        return
    if conn.rechecks != rechecks:  # the user's rights changed while this was decided: decide again
        await live.recheck(conn)


routes = [WebSocketRoute("/ws", live_socket)]
