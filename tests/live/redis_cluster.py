"""A private Redis Cluster for tests: 3 masters + 3 replicas started on free ports in a temporary dir.

    cluster = LocalCluster(tmp_path / "cluster")
    await cluster.start()          # six redis-server processes, `redis-cli --cluster create`
    cluster.url                    # redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3
    await cluster.kill_master_of("{homeroom:class:5}:ev")   # SIGKILL; waits for the failover
    await cluster.stop()

Every wait polls with a deadline (``cluster info`` says ``cluster_state:ok``, every slot
served by a master that answers). ``cluster-node-timeout`` is short (1 s) so a killed
master's replica takes over within a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis
from redis.crc import key_slot
from redis.exceptions import RedisError

from tests.live.servers import free_port

NODE_TIMEOUT_MS = 1000


@dataclass
class _Node:
    port: int
    bus_port: int
    process: subprocess.Popen[bytes]
    log_path: Path


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed")
    return found


def _new_port(taken: set[int]) -> int:
    """A free port not handed out yet in this cluster (client and bus ports must all differ)."""
    while (port := free_port()) in taken:
        continue
    taken.add(port)
    return port


def redis_major_version() -> int | None:
    """The installed ``redis-server``'s major version, or None when there is none."""
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    found = re.search(
        r"v=(\d+)\.", subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    )
    return int(found.group(1)) if found else None


class LocalCluster:
    """Six ``redis-server --cluster-enabled yes`` processes joined into 3 masters with a replica each."""

    def __init__(self, data_dir: Path, masters: int = 3, replicas: int = 1) -> None:
        self.data_dir = data_dir
        self.masters = masters
        self.replicas = replicas
        self.nodes: list[_Node] = []

    @property
    def url(self) -> str:
        """The broker URL naming the (first three) nodes the servers start from."""
        seeds = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes[:3])
        return f"redis+cluster://{seeds}"

    async def start(self, deadline: float = 60.0) -> None:
        """Start the nodes, create the cluster and wait until every slot is served."""
        server = _binary("redis-server")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        taken: set[int] = set()
        for index in range((self.replicas + 1) * self.masters):
            port, bus = _new_port(taken), _new_port(taken)
            node_dir = self.data_dir / f"node-{index}"
            node_dir.mkdir(parents=True, exist_ok=True)
            args = [
                server,
                "--port", str(port),
                "--cluster-port", str(bus),
                "--bind", "127.0.0.1",
                "--dir", str(node_dir),
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                "--save", "",
                "--appendonly", "no",
                "--logfile", str(node_dir / "redis.log"),
            ]  # fmt: skip
            process = await asyncio.to_thread(
                subprocess.Popen, args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            self.nodes.append(_Node(port, bus, process, node_dir / "redis.log"))
        end = time.monotonic() + deadline
        for node in self.nodes:
            await self._wait_for(lambda n=node: self._answers(n.port), end, f"node {node.port} to start")
        create = [_binary("redis-cli"), "--cluster", "create"]
        create += [f"127.0.0.1:{node.port}" for node in self.nodes]
        create += ["--cluster-replicas", str(self.replicas), "--cluster-yes"]
        done = await asyncio.to_thread(subprocess.run, create, capture_output=True, timeout=deadline)
        if done.returncode != 0:
            raise RuntimeError(
                f"redis-cli --cluster create failed:\n{done.stdout.decode()}{done.stderr.decode()}"
            )
        await self.wait_ok(end - time.monotonic())
        await self._wait_for(self._replicas_online, end, "every replica to finish its first sync")

    async def _replicas_online(self) -> bool:
        """Every master has its replicas connected and in sync (so a failover can promote one)."""
        for port in await self._masters(self.alive()[0].port):
            client = Redis(host="127.0.0.1", port=port, socket_timeout=2, socket_connect_timeout=2)
            try:
                info = await client.info("replication")
            finally:
                await client.aclose()
            replicas = [
                value for key, value in info.items() if key.startswith("slave") and isinstance(value, dict)
            ]
            if sum(replica.get("state") == "online" for replica in replicas) < self.replicas:
                return False
        return True

    async def stop(self) -> None:
        """Stop every node still running (SIGTERM, then SIGKILL)."""
        for node in self.nodes:
            if node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            try:
                await asyncio.to_thread(node.process.wait, 10)
            except subprocess.TimeoutExpired:
                node.process.kill()
                await asyncio.to_thread(node.process.wait)

    # Asking the cluster ---------------------------------------------------------------

    @staticmethod
    async def ask(port: int, *command: str) -> str:
        """One command to one node (``CLUSTER INFO``, ``PING``…); its raw reply as text."""
        client = Redis(host="127.0.0.1", port=port, socket_timeout=2, socket_connect_timeout=2)
        try:
            reply = await client.execute_command(*command)
        finally:
            await client.aclose()
        return reply.decode() if isinstance(reply, bytes) else str(reply)

    async def _answers(self, port: int) -> bool:
        with contextlib.suppress(RedisError, OSError):
            return await self.ask(port, "PING") in ("True", "PONG")
        return False

    async def _masters(self, port: int) -> dict[int, list[tuple[int, int]]]:
        """What one node believes: each healthy master's port and its slot ranges."""
        masters: dict[int, list[tuple[int, int]]] = {}
        for line in (await self.ask(port, "CLUSTER", "NODES")).splitlines():
            parts = line.split()
            if len(parts) < 8 or "master" not in parts[2] or "fail" in parts[2]:
                continue
            spans = []
            for span in parts[8:]:
                if not span.startswith("["):  # a slot being migrated, not served
                    low, _, high = span.partition("-")
                    spans.append((int(low), int(high or low)))
            masters[int(parts[1].split("@")[0].rsplit(":", 1)[1])] = spans
        return masters

    def alive(self) -> list[_Node]:
        return [node for node in self.nodes if node.process.poll() is None]

    async def _healthy(self) -> bool:
        """Every live node says ``cluster_state:ok`` and sees live masters serve all 16384 slots."""
        live = self.alive()
        ports = {node.port for node in live}
        for node in live:
            try:
                if "cluster_state:ok" not in await self.ask(node.port, "CLUSTER", "INFO"):
                    return False
                masters = await self._masters(node.port)
            except (RedisError, OSError):
                return False
            if not set(masters) <= ports:
                return False  # a dead master still listed as serving slots
            if sum(high - low + 1 for spans in masters.values() for low, high in spans) != 16384:
                return False
        return True

    async def wait_ok(self, deadline: float = 30.0) -> None:
        """Poll until the cluster is whole (every slot on a live master), or fail at the deadline."""
        await self._wait_for(self._healthy, time.monotonic() + deadline, "cluster_state:ok")

    @staticmethod
    async def _wait_for(check: Callable[[], Awaitable[bool]], end: float, what: str) -> None:
        while time.monotonic() < end:
            if await check():
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"waited too long for {what}")

    async def master_of(self, key: str) -> _Node:
        """The live node that serves ``key``'s slot as master right now."""
        slot = key_slot(key.encode())
        for port, spans in (await self._masters(self.alive()[0].port)).items():
            if any(low <= slot <= high for low, high in spans):
                return next(node for node in self.nodes if node.port == port)
        raise LookupError(f"no master serves slot {slot}")

    async def kill_master_of(self, key: str, deadline: float = 30.0) -> _Node:
        """SIGKILL the master serving ``key`` and wait until its replica has taken over."""
        doomed = await self.master_of(key)
        doomed.process.kill()
        await asyncio.to_thread(doomed.process.wait)
        await self.wait_ok(deadline)
        return doomed
