"""A reader that stops reading is closed with 4008; everyone else on the channel keeps receiving it all."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.live.client import LiveClient
from tests.live.conftest import Site
from tests.live.emitter import emit_events, number, payloads

pytestmark = pytest.mark.live

PAD = 8 * 1024
BATCH = 40


async def _subscribed(url: str, token: str, channel: str, **kwargs: object) -> ClientConnection:
    ws = await connect(url, additional_headers={"Authorization": f"Bearer {token}"}, **kwargs)  # type: ignore[arg-type]
    await ws.send(json.dumps({"op": "sub", "channel": channel}))
    while json.loads(await ws.recv())["op"] != "subbed":
        pass
    return ws


async def _reports_until_end(ws: ClientConnection) -> list[int]:
    seen: list[int] = []
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("type") == "report.created":
            if number(frame) == "end":
                return seen
            seen.append(number(frame))


class RawReader:
    """A websocket client on a bare socket that can stop reading entirely (then resume to see the close)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, token: str, channel: str) -> RawReader:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Authorization: Bearer {token}\r\n\r\n"
            ).encode()
        )
        assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
        client = cls(reader, writer)
        client.send_text(json.dumps({"op": "sub", "channel": channel}))
        opcode, payload = await client.frame()
        assert opcode == 1 and json.loads(payload)["op"] == "subbed"
        return client

    def send_text(self, text: str) -> None:
        data = text.encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        assert len(data) < 126
        self.writer.write(bytes((0x81, 0x80 | len(data))) + mask + masked)

    async def frame(self) -> tuple[int, bytes]:
        head = await self.reader.readexactly(2)
        length = head[1] & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return head[0] & 0x0F, await self.reader.readexactly(length)

    async def drain_until_close(self) -> tuple[int, int]:
        """Read everything the server sent; (close code, number of report events)."""
        reports = 0
        while True:
            opcode, payload = await self.frame()
            if opcode == 8:
                return struct.unpack("!H", payload[:2])[0], reports
            if opcode == 1:
                reports += json.loads(payload).get("type") == "report.created"


async def _slow_closes(server_url: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{server_url}/metrics")).text
    for line in text.splitlines():
        if line.startswith("homeroom_ws_slow_client_closes_total "):
            return float(line.split()[1])
    return 0.0


async def test_slow_client_is_closed_with_4008_while_200_others_receive_every_event(
    memory_site: Site,
) -> None:
    world = await memory_site.world()
    server = memory_site.servers[0]
    channel = f"school:{world.school.id}"
    before = await _slow_closes(server.http_url)
    slow = await RawReader.open(server.port, world.teacher.token, channel)
    others = await asyncio.gather(
        *(_subscribed(server.ws_url, world.teacher.token, channel) for _ in range(200))
    )
    try:
        sent = 0
        readers = [asyncio.create_task(_reports_until_end(ws)) for ws in others]
        async with LiveClient.connect(server.ws_url, world.teacher.token) as watcher:
            await watcher.subscribe(channel)
            while await _slow_closes(server.http_url) == before:
                assert sent < 1000, "the slow reader was never closed"
                await emit_events(memory_site.services, channel, "report.created", payloads(BATCH, sent, PAD))
                await watcher.events(channel, BATCH, deadline=10)  # published and fanned out
                sent += BATCH
        await emit_events(memory_site.services, channel, "report.created", [{"report": {"n": "end"}}])
        async with asyncio.timeout(30):
            received = await asyncio.gather(*readers)
        assert all(seen == list(range(sent)) for seen in received)
        async with asyncio.timeout(15):
            code, got = await slow.drain_until_close()
        assert code == 4008 and got < sent
        print(f"slow reader closed after {got} of {sent} events")
    finally:
        slow.writer.close()
        await asyncio.gather(*(ws.close() for ws in others), return_exceptions=True)
