"""A tiny ``/ws`` client for live tests: connect as a user, send ops, wait for a matching frame.

    async with LiveClient.connect(server.ws_url, actor.token) as client:
        await client.sub("class:3", ref=1)
        subbed = await client.wait_for(lambda f: f["op"] == "subbed")
        event = await client.wait_for(lambda f: f.get("type") == "post.created", deadline=5)

Every frame received is kept in ``client.frames``; :meth:`wait_for` looks at frames not yet
consumed by an earlier wait, in arrival order, and fails with the frames seen when the
deadline passes. :meth:`closed_with` waits for the server to close and returns the close code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

Frame = dict[str, Any]


class LiveClient:
    """One websocket connection to ``/ws`` with frame bookkeeping."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[Frame] = []
        self._next = 0
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls,
        url: str,
        token: str | None = None,
        *,
        origin: str | None = None,
        cookie: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[LiveClient]:
        """Open a connection with a bearer token (or a session cookie) and optional Origin."""
        headers: dict[str, str] = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if cookie:
            headers["Cookie"] = f"session={cookie}"
        if origin:
            headers["Origin"] = origin
        ws = await connect(url, additional_headers=headers, open_timeout=10, **kwargs)
        client = cls(ws)
        try:
            yield client
        finally:
            await client.close()

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                frame = json.loads(raw)
                async with self._arrived:
                    self.frames.append(frame)
                    self._arrived.notify_all()
        async with self._arrived:
            self._arrived.notify_all()

    async def send(self, frame: Frame | str) -> None:
        """Send one frame (a dict is sent as JSON, a string as is)."""
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def sub(
        self, channel: str, *, since: int | None = None, epoch: str | None = None, ref: Any = None
    ) -> None:
        frame: Frame = {"op": "sub", "channel": channel}
        if since is not None:
            frame["since"] = since
        if epoch is not None:
            frame["epoch"] = epoch
        if ref is not None:
            frame["ref"] = ref
        await self.send(frame)

    async def subscribe(self, channel: str, *, since: int | None = None, epoch: str | None = None) -> Frame:
        """Subscribe and return the ``subbed`` (or ``error``) answer."""
        ref = f"sub-{channel}-{len(self.frames)}"
        await self.sub(channel, since=since, epoch=epoch, ref=ref)
        return await self.wait_for(lambda f: f.get("ref") == ref and f["op"] in ("subbed", "error"))

    async def wait_for(self, predicate: Callable[[Frame], bool], deadline: float = 5.0) -> Frame:
        """The first not-yet-consumed frame matching ``predicate``; frames before it are consumed."""
        async with asyncio.timeout(deadline), self._arrived:
            while True:
                for index in range(self._next, len(self.frames)):
                    if predicate(self.frames[index]):
                        self._next = index + 1
                        return self.frames[index]
                if self._reader.done():
                    raise AssertionError(
                        f"connection closed ({self.close_code}); last frames: {self.frames[-10:]}"
                    )
                await self._arrived.wait()

    async def events(self, channel: str, count: int, deadline: float = 10.0) -> list[Frame]:
        """The next ``count`` event frames of ``channel``."""
        found: list[Frame] = []
        async with asyncio.timeout(deadline):
            while len(found) < count:
                found.append(
                    await self.wait_for(lambda f: f["op"] == "event" and f["channel"] == channel, deadline)
                )
        return found

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

    async def closed_with(self, deadline: float = 5.0) -> int | None:
        """Wait until the server closes the connection; its close code."""
        async with asyncio.timeout(deadline):
            await self.ws.wait_closed()
            await self._reader
        return self.ws.close_code

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
