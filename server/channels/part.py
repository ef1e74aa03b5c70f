"""``LivePart``: the live layer's lifetime — broker, hub, presence, outbox, and the re-checks of rights.

Started by the app after the database, it fills ``services.live`` (for ``/ws`` and the
rights re-checks) and the ``broker`` readiness check. Its contracts:

- :meth:`after_commit` (the app's first commit listener): publish committed outbox rows at once;
- :meth:`access_changed`: re-check a user's connections in every process, through the
  broker's control channel (:meth:`school_access_changed`: every parent's in a school);
  every connection is re-checked when the broker reconnects, as control messages may have
  been lost;
- the renderers it is built with (translation's) render each event per reader variant.

What does not live here: frame handling (``endpoint.py``), fan-out (``hub.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select

from server.auth.principal import SignedIn, resolve_token
from server.channels.broker import Broker, BrokerUnavailable, create_broker
from server.channels.connection import Connection
from server.channels.hub import Hub
from server.channels.outbox import OutboxPublisher
from server.channels.protocol import CloseCode, error_frame, parse_channel
from server.channels.render import Renderer, Rendering, Variant
from server.channels.rules import may_subscribe
from server.db.models import OutboxEvent, Session, User
from server.errors import ApiError
from server.presence import Presence, create_presence
from server.services import Services
from server.timeutil import utcnow

log = logging.getLogger("homeroom.live")

SESSION_SWEEP_SECONDS = 60.0
OUTBOX_PRUNE_SECONDS = 300.0


class LivePart:
    """The live layer of one process."""

    def __init__(self, *, renderers: Mapping[str, Renderer] | None = None, relay_poll: float = 0.5) -> None:
        self.rendering = Rendering(renderers)
        self.relay_poll = relay_poll
        self.process_key = secrets.token_hex(4)
        self.services: Services | None = None
        self.broker: Broker | None = None
        self.hub: Hub | None = None
        self.presence: Presence | None = None
        self.outbox: OutboxPublisher | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []

    async def start(self, services: Services) -> None:
        settings = services.settings
        self.services = services
        self.broker = create_broker(settings)
        self.hub = Hub(self.broker, self.rendering, control=self._on_control, reconnected=self.reconnected)
        await self.broker.start()
        self.presence = create_presence(settings)
        await self.presence.start()
        self.outbox = OutboxPublisher(services, self.broker, poll=self.relay_poll)
        self.outbox.start()
        services.live = self
        services.ready_checks["broker"] = self.broker.ping
        self._loops = [
            asyncio.create_task(self._every(SESSION_SWEEP_SECONDS, self.sweep_sessions)),
            asyncio.create_task(self._every(OUTBOX_PRUNE_SECONDS, self.prune_outbox)),
            asyncio.create_task(self._every(max(0.5, settings.presence_ttl_seconds / 3), self.presence_tick)),
        ]

    async def after_commit(self, rows: list[OutboxEvent]) -> None:
        """Publish a committed batch of outbox rows at once (a commit listener; never raises)."""
        if self.outbox is not None:
            await self.outbox.publish_committed(rows)

    async def stop(self) -> None:
        if self.services is not None and self.services.live is self:
            self.services.live = None
        for task in self._loops:
            task.cancel()
        for task in [*self._loops, *self._tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.hub is not None:
            await self.hub.close(CloseCode.RESYNC, "server restarting")
        if self.outbox is not None:
            await self.outbox.stop()
        if self.presence is not None:
            await self.presence.stop()
        if self.broker is not None:
            await self.broker.stop()

    # Rights changes ----------------------------------------------------------------

    async def access_changed(self, user_id: int) -> None:
        """Re-check one user's connections in every process (``services.access_changed``).

        Called after the change has committed (a guardian unlinked, their child moved or
        left, a suspension, a logout, a new role). One control message reaches every
        process; each re-reads that user's rights from the database with the same
        :func:`may_subscribe` as a subscription, closes the connections whose session
        ended (4003), and drops exactly the channels no longer allowed, each with the
        API.md ``error`` frame (``forbidden``, naming the channel) that clients treat as
        a refused channel. The rest of the connection stays: a family whose child moved
        keeps the school story and their messages without a reconnect, and gains the new
        class on their next ``sub``. Closing with 1012 (as erasure does, to make readers
        reload) would also cut access, but every tab of the family would resubscribe to
        everything, and a re-subscription is checked the same way anyway.

        The message says only whom to re-check, never what they may read, so a late or
        repeated message grants nothing. A subscription racing the change is re-checked
        when it completes (``Connection.rechecks``). Limits: pub/sub is at-most-once, so a
        process whose Redis link is down at that instant re-checks on the broker's
        reconnect instead (:meth:`reconnected`); with the broker unreachable here, only
        this process re-checks now.
        """
        assert self.broker is not None
        try:
            await self.broker.control({"kind": "access", "user_id": user_id})
        except BrokerUnavailable:
            log.warning("live: broker down; re-checking user %d in this process only", user_id)
            await self.recheck_user(user_id)

    async def school_access_changed(self, school_id: int) -> None:
        """Re-check every parent's connections of one school, in every process (a new policy)."""
        assert self.broker is not None
        try:
            await self.broker.control({"kind": "school_access", "school_id": school_id})
        except BrokerUnavailable:
            log.warning("live: broker down; re-checking school %d in this process only", school_id)
            await self.recheck_school(school_id)

    async def forget_history(self, channels: list[str]) -> None:
        """Drop these channels' history and make their readers resubscribe, in every process."""
        assert self.broker is not None and self.hub is not None
        try:
            for channel in channels:
                await self.broker.forget(channel)
            await self.broker.control({"kind": "forget", "channels": channels})
        except BrokerUnavailable:
            log.warning("live: broker down; %d channels' history expires on its own", len(channels))
            for channel in channels:
                self.hub.reset(channel)

    def _on_control(self, message: dict[str, Any]) -> None:
        kind = message.get("kind")
        if kind == "access" and isinstance(message.get("user_id"), int):
            self.spawn(self.recheck_user(message["user_id"]))
        elif kind == "school_access" and isinstance(message.get("school_id"), int):
            self.spawn(self.recheck_school(message["school_id"]))

    def reconnected(self) -> None:
        """The broker's link came back (the hub refilled its channels): re-check every connection's rights.

        Control messages published while this process's pub/sub link was down never reach
        it (pub/sub is at-most-once); re-checking every local connection catches whatever
        rights change they carried. One connection at a time, in the background.
        """
        self.spawn(self.recheck_all())

    async def recheck_all(self) -> None:
        """:meth:`recheck` every connection of this process."""
        assert self.hub is not None
        for conn in self.hub.all_connections():
            await self.recheck(conn)

    async def recheck_user(self, user_id: int) -> None:
        """Close ended sessions; drop subscriptions no longer allowed; follow a new language."""
        assert self.hub is not None
        for conn in self.hub.connections_of(user_id):
            await self.recheck(conn)

    async def recheck_school(self, school_id: int) -> None:
        """:meth:`recheck_user` for every parent of the school connected to this process."""
        assert self.hub is not None
        for conn in self.hub.all_connections():
            principal = conn.principal
            if principal is not None and principal.school_id == school_id and principal.role == "parent":
                await self.recheck(conn)

    async def recheck(self, conn: Connection) -> None:
        """Close ``conn`` if its session ended; drop the channels its user may no longer read."""
        assert self.services is not None
        if conn.closed:
            return
        conn.rechecks += 1
        principal = await self.reauthenticate(conn)
        if principal is None:
            return
        async with self.services.read() as session:
            for name in sorted(conn.channels):
                channel = parse_channel(name)
                if channel is not None and await may_subscribe(session, principal, channel):
                    continue
                await self.leave(conn, name)
                conn.deliver(
                    error_frame("forbidden", "You no longer have access to this channel.", None, name)
                )

    async def reauthenticate(self, conn: Connection) -> SignedIn | None:
        """The connection's principal again; None (and the connection closed with 4003) if it ended."""
        assert self.services is not None
        principal = conn.principal
        assert principal is not None, "set when the connection signed in"
        try:
            fresh = await resolve_token(self.services, conn.token, principal.via)
        except ApiError as exc:
            conn.close(CloseCode.FORBIDDEN, "suspended" if exc.code == "suspended" else "session ended")
            return None
        if fresh.needs_policy:
            conn.close(CloseCode.FORBIDDEN, "policy not accepted")
            return None
        conn.principal = fresh.signed_in()
        assert self.hub is not None
        self.hub.regroup(conn, Variant(fresh.user.language or "en", fresh.is_staff))
        return conn.principal

    async def sweep_sessions(self) -> None:
        """Close connections whose session expired or was revoked, or whose user was suspended."""
        assert self.hub is not None and self.services is not None
        conns = [conn for conn in self.hub.all_connections() if not conn.closed]
        now = utcnow()
        for start in range(0, len(conns), 500):
            chunk = conns[start : start + 500]
            async with self.services.read() as session:
                ended = set(
                    (
                        await session.scalars(
                            select(Session.id)
                            .join(User, User.id == Session.user_id)
                            .where(
                                Session.id.in_({conn.session_id for conn in chunk}),
                                or_(
                                    Session.revoked_at.is_not(None),
                                    Session.expires_at <= now,
                                    User.suspended_at.is_not(None),
                                ),
                            )
                        )
                    ).all()
                )
            for conn in chunk:
                if conn.session_id in ended:
                    conn.close(CloseCode.FORBIDDEN, "session ended")

    async def prune_outbox(self) -> None:
        """Forget published outbox rows once they are past the history window."""
        assert self.outbox is not None and self.services is not None
        await self.outbox.prune(timedelta(seconds=self.services.settings.history_ttl_seconds))

    # Presence ----------------------------------------------------------------------

    def presence_key(self, conn: Connection) -> str:
        return f"{self.process_key}-{conn.id}"

    async def join_presence(self, conn: Connection, channel: str) -> list[dict[str, Any]] | None:
        """Record ``conn`` on a ``*:staff`` channel; announce the user if new; return who is present."""
        assert self.presence is not None and self.broker is not None
        try:
            if await self.presence.join(channel, self.presence_key(conn), conn.user):
                await self.broker.publish(channel, "presence.joined", {"user": conn.user})
            return await self.presence.members(channel)
        except Exception as exc:
            log.warning("live: presence unavailable on %s (%s)", channel, type(exc).__name__)
            return None

    async def leave(self, conn: Connection, channel: str) -> None:
        """Unsubscribe ``conn`` from ``channel`` (and from its presence)."""
        assert self.hub is not None
        if self.hub.unsubscribe(conn, channel) and channel.endswith(":staff"):
            await self.leave_presence(conn, channel)

    async def leave_presence(self, conn: Connection, channel: str) -> None:
        assert self.presence is not None and self.broker is not None
        try:
            if await self.presence.leave(channel, self.presence_key(conn), conn.user_id):
                await self.broker.publish(channel, "presence.left", {"user": conn.user})
        except Exception as exc:
            log.warning("live: presence unavailable on %s (%s)", channel, type(exc).__name__)

    async def admit(self, conn: Connection) -> str | None:
        """Take a socket slot for ``conn``: None when admitted, else the cap met (refuse it with 4029).

        The caps count sockets in every process (Redis presence). When the count cannot be
        reached the socket is let in uncounted, as presence does: live updates stay up.
        """
        assert self.presence is not None and self.services is not None
        settings = self.services.settings
        try:
            return await self.presence.claim_socket(
                self.presence_key(conn),
                conn.user_id,
                conn.session_id,
                settings.ws_connections_per_session,
                settings.ws_connections_per_user,
            )
        except Exception as exc:
            log.warning(
                "live: socket count unavailable (%s: %s); admitting uncounted", type(exc).__name__, exc
            )
            return None

    async def disconnected(self, conn: Connection) -> None:
        """Forget a closed connection everywhere, and give back its socket slot."""
        assert self.hub is not None and self.presence is not None
        for channel in self.hub.remove(conn):
            if channel.endswith(":staff"):
                await self.leave_presence(conn, channel)
        try:
            await self.presence.release_socket(self.presence_key(conn), conn.user_id, conn.session_id)
        except Exception as exc:  # the slot lapses within the presence TTL
            log.warning("live: socket slot not released (%s)", type(exc).__name__)

    async def presence_tick(self) -> None:
        """Renew this process's presence entries and socket slots; announce users who expired elsewhere."""
        assert self.hub is not None and self.presence is not None and self.broker is not None
        await self.presence.renew_sockets(
            [(self.presence_key(conn), conn.user_id, conn.session_id) for conn in self.hub.all_connections()]
        )
        entries = [
            (channel, self.presence_key(conn), conn.user_id)
            for conn in self.hub.all_connections()
            for channel in conn.channels
            if channel.endswith(":staff")
        ]
        await self.presence.heartbeat(entries)
        for channel, user in await self.presence.expire():
            await self.broker.publish(channel, "presence.left", {"user": user})

    # Background work ---------------------------------------------------------------

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _every(self, seconds: float, job: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("live: %s failed (%s)", job.__name__, type(exc).__name__)
