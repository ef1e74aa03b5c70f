"""Real servers for live tests: uvicorn processes via ``python -m server serve``, and private Redis servers.

Reusable by any test that needs the server as users run it::

    async with live_database("sqlite", tmp_path) as db_url:
        async with running_servers(2, database_url=db_url, broker_url=redis_url(),
                                   data_dir=tmp_path, redis_prefix=unique_prefix()) as (a, b):
            ... a.http_url, a.ws_url ...

- :func:`live_database` gives a migrated database: a SQLite file under ``tmp_path`` (shared
  by every process) or a fresh PostgreSQL database (dropped afterwards).
- :func:`running_servers` starts 1..N processes on free ports with the given ``HOMEROOM_*``
  settings, waits for each ``/readyz`` with a deadline, and stops them (SIGTERM, then SIGKILL).
  Pass a unique ``redis_prefix`` per test (:func:`unique_prefix`) so tests sharing a Redis
  never see each other's channels. A server's output is kept in ``<data_dir>/server-<port>.log``
  and shown when it fails to start.
- :class:`RedisServer` runs a private ``redis-server`` on a free port for tests that stop or
  restart Redis (``persistent=True`` keeps an append-only file, so history survives a restart).
- :func:`shared_services` builds an in-process :class:`Services` on the same database, to seed data
  with ``tests.factories`` and to emit events (see ``tests/live/emitter.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from server.auth.ratelimit import MemoryRateLimiter
from server.db.engine import Database
from server.db.migrate import upgrade
from server.services import Services
from server.settings import Settings
from tests.services import create_pg_database, drop_pg_database, postgres_admin_url

ROOT = Path(__file__).resolve().parents[2]
SECRET = "live-test-secret-key-that-is-long-enough-0123456789"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique_prefix() -> str:
    """A Redis key prefix of its own for one test."""
    return f"hrtest-{secrets.token_hex(5)}"


@dataclass
class LiveServer:
    """One running ``python -m server serve`` process."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(repr=False)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def wait_ready(self, deadline: float = 30.0) -> None:
        """Poll ``/readyz`` until it answers 200, the process exits, or the deadline passes."""
        end = time.monotonic() + deadline
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < end:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server on port {self.port} exited:\n{self.log()[-4000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.http_url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"server on port {self.port} not ready in {deadline}s:\n{self.log()[-4000:]}")

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)

    def kill(self) -> None:
        """SIGKILL at once (a crashed process)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def server_env(
    *,
    database_url: str,
    broker_url: str,
    data_dir: Path,
    redis_prefix: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a server process: this one's, minus any HOMEROOM_*, plus the given settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOMEROOM_")}
    env.update(
        HOMEROOM_DATABASE_URL=database_url,
        HOMEROOM_BROKER_URL=broker_url,
        HOMEROOM_DATA_DIR=str(data_dir),
        HOMEROOM_SECRET_KEY=SECRET,
        HOMEROOM_TRANSLATION_ENGINES="none",
        HOMEROOM_LOG_JSON="0",
        HOMEROOM_REDIS_PREFIX=redis_prefix or unique_prefix(),
    )
    env.update(extra or {})
    return env


def start_server(
    env: Mapping[str, str], data_dir: Path, port: int | None = None, *, ws: str | None = None
) -> LiveServer:
    """Spawn one server process (not yet ready: await :meth:`LiveServer.wait_ready`).

    ``ws`` runs plain uvicorn with that websocket implementation (``wsproto``,
    ``websockets-sansio``, …) instead of ``python -m server serve``, for comparisons.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if ws is not None:
        command = [sys.executable, "-m", "uvicorn", "server.asgi:build", "--factory", "--ws", ws]
        command += ["--ws-per-message-deflate", "false", "--host", "127.0.0.1", "--port", str(port)]
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return LiveServer(port, process, log_path, dict(env))


@contextlib.asynccontextmanager
async def running_servers(
    count: int,
    *,
    database_url: str,
    broker_url: str,
    data_dir: Path,
    redis_prefix: str | None = None,
    extra: Mapping[str, str] | None = None,
    ready_deadline: float = 30.0,
) -> AsyncIterator[list[LiveServer]]:
    """Start ``count`` servers sharing one database and broker; stop them all on exit."""
    env = server_env(
        database_url=database_url,
        broker_url=broker_url,
        data_dir=data_dir,
        redis_prefix=redis_prefix or unique_prefix(),
        extra=extra,
    )
    servers = [start_server(env, data_dir) for _ in range(count)]
    try:
        await asyncio.gather(*(server.wait_ready(ready_deadline) for server in servers))
        yield servers
    finally:
        await asyncio.gather(*(server.stop() for server in servers), return_exceptions=True)


@contextlib.asynccontextmanager
async def live_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database for servers and tests to share: ``sqlite`` (a file) or ``postgresql``."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    admin = postgres_admin_url()
    if admin is None:
        import pytest

        pytest.skip("HOMEROOM_TEST_DATABASE_URL=none: PostgreSQL tests disabled")
    url = await create_pg_database(admin)
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await drop_pg_database(admin, url)


@contextlib.asynccontextmanager
async def shared_services(database_url: str, data_dir: Path) -> AsyncIterator[Services]:
    """In-process services on the servers' database (for factories and emitting events)."""
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        media_dir=data_dir / "media",
        secret_key=SECRET,
        translation_engines=(),
    )
    db = Database(database_url)
    try:
        yield Services(settings=settings, db=db, limiter=MemoryRateLimiter())
    finally:
        await db.dispose()


class RedisServer:
    """A private ``redis-server`` on a free port, for tests that stop or restart Redis."""

    def __init__(self, data_dir: Path, *, persistent: bool) -> None:
        self.data_dir = data_dir
        self.persistent = persistent
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self, deadline: float = 10.0) -> None:
        """Start (or restart) the server and wait until it answers PING."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--save",
            "",
        ]
        args += (
            ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        )
        self.process = await asyncio.to_thread(
            subprocess.Popen, args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(b"PING\r\n")
                await writer.drain()
                reply = await asyncio.wait_for(reader.readline(), 1.0)
                writer.close()
                if reply.startswith(b"+PONG"):
                    return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"redis-server on port {self.port} did not start")

    async def stop(self) -> None:
        """Stop the server (SIGTERM; the append-only file, if any, is kept)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            await asyncio.to_thread(self.process.wait)
        self.process = None

    async def restart(self) -> None:
        """Stop and start again on the same port."""
        await self.stop()
        await self.start()
