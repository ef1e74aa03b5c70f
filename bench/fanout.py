"""Fan-out benchmark: Homeroom's live layer against two floors, raw ``websockets`` and Node ``ws``, same load.

    .venv/bin/python bench/fanout.py --processes 2 --broker redis --clients 2000 [--client node]

It builds a school in a fresh database, starts the server itself (1 to 4 ``python -m
server serve`` processes; ``memory://``, ``redis://`` or a Redis Cluster started for the run),
connects N real websocket clients from separate client processes (Python, or Node with
``--client node``), subscribes them all to one channel, and publishes events through the real
HTTP API: a burst of K events as fast as the API takes them, then a steady R events/s for S
seconds. With one Redis it runs the same load against the floors (``--floors``):
``bench/floor.py`` (``websockets.broadcast()``) and ``bench/node/floor.js`` (``ws`` +
``ioredis``), the same number of processes fed by the same Redis messages, and prints
Homeroom's figures as ratios to each. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import orjson  # noqa: E402

from bench.procstat import cpu_seconds, loop_runner, rss_bytes  # noqa: E402

STAFF_USERS = 20
NODE_DIR = ROOT / "bench" / "node"
FLOORS = {
    # target name -> the command of one floor process (port, Redis URL and key are appended)
    "websockets": [sys.executable, str(ROOT / "bench" / "floor.py")],
    "node-ws": ["node", str(NODE_DIR / "floor.js")],
}


# The school -------------------------------------------------------------------------------


@dataclass
class BenchSchool:
    school_id: int
    class_id: int
    teacher_token: str
    admin_token: str
    parent_tokens: list[str]
    staff_tokens: list[str]
    third_parent_token: str
    invite_codes: list[str]


async def seed(database_url: str, parents: int, invites: int) -> BenchSchool:
    """A school with one class, ``parents`` signed-in guardians, staff, and one-use invite codes."""
    from server.auth.tokens import digest
    from server.db.engine import Database
    from server.db.models import Invite
    from server.school import seed as build

    db = Database(database_url)
    now = datetime.now(UTC)
    try:
        async with db.session() as session:
            school = await build.add_school(session, "Bench Primary")
            staff = await build.add_users(
                session, school, "teacher", [f"Teacher {i}" for i in range(STAFF_USERS)]
            )
            admin = await build.add_user(session, school, "admin", "Head")
            third = await build.add_user(session, school, "parent", "Third")
            klass = await build.add_class(session, school, "Year 4 Oak")
            students = await build.add_pupils(
                session, klass, [(f"Pupil{i}", "Bench") for i in range(max(1, parents // 2))]
            )
            guardians = await build.add_users(
                session, school, "parent", [f"Parent {i}" for i in range(parents)]
            )
            build.link_guardians(session, [(user, students[i // 2]) for i, user in enumerate(guardians)])
            tokens = {
                "parent": build.sign_in(session, guardians, now=now),
                "staff": build.sign_in(session, staff, now=now),
            }
            admin_token, third_token = build.sign_in(session, [admin, third], now=now)
            codes = [secrets.token_hex(6).upper() for _ in range(invites)]
            session.add_all(
                Invite(
                    school_id=school.id,
                    student_id=students[0].id,
                    code_hash=digest(code),
                    created_by=admin.id,
                    expires_at=now + timedelta(days=1),
                    created_at=now,
                )
                for code in codes
            )
            await session.commit()
            return BenchSchool(
                school.id,
                klass.id,
                tokens["staff"][0],
                admin_token,
                tokens["parent"],
                tokens["staff"],
                third_token,
                codes,
            )
    finally:
        await db.dispose()


# Publishing through the HTTP API ----------------------------------------------------------


class Publisher:
    """Publishes bench events through the real HTTP API, round-robin over the server processes."""

    def __init__(self, urls: list[str], school: BenchSchool) -> None:
        self.urls = urls
        self.school = school
        self.mode = "posts"
        self._next = 0
        self._codes = iter(school.invite_codes)
        self.client = httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_connections=16))

    @property
    def channel(self) -> str:
        if self.mode == "posts":
            return f"class:{self.school.class_id}"
        return f"school:{self.school.school_id}:staff"

    @property
    def event_type(self) -> str:
        return "post.created" if self.mode == "posts" else "guardian_request.created"

    async def detect(self) -> None:
        """Class posts when this build has them; else third-guardian requests (on the staff channel)."""
        reply = await self.client.post(
            f"{self.urls[0]}/api/classes/{self.school.class_id}/posts",
            json={"text": "Welcome back!"},
            headers={"Authorization": f"Bearer {self.school.teacher_token}"},
        )
        self.mode = "posts" if reply.status_code in (200, 201) else "guardian-requests"

    async def publish_one(self) -> None:
        for attempt in range(3):
            try:
                return await self._publish_one()
            except httpx.TransportError:  # a keep-alive connection the server just closed
                if attempt == 2:
                    raise

    async def _publish_one(self) -> None:
        url = self.urls[self._next % len(self.urls)]
        self._next += 1
        if self.mode == "posts":
            reply = await self.client.post(
                f"{url}/api/classes/{self.school.class_id}/posts",
                json={"text": "Tomorrow is PE day: please bring trainers."},
                headers={"Authorization": f"Bearer {self.school.teacher_token}"},
            )
            ok = reply.status_code in (200, 201)
        else:
            reply = await self.client.post(
                f"{url}/api/me/children",
                json={"code": next(self._codes)},
                headers={"Authorization": f"Bearer {self.school.third_parent_token}"},
            )
            ok = reply.status_code == 409
        if not ok:
            raise RuntimeError(f"publishing failed: {reply.status_code} {reply.text[:200]}")

    async def burst(self, count: int, concurrency: int = 8) -> None:
        queue = iter(range(count))

        async def worker() -> None:
            for _ in queue:
                await self.publish_one()

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    async def steady(self, rate: float, seconds: float) -> None:
        start = time.monotonic()
        total = int(rate * seconds)
        pending: list[asyncio.Task[None]] = []
        for index in range(total):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(asyncio.create_task(self.publish_one()))
        await asyncio.gather(*pending)


# Client processes -----------------------------------------------------------------------


async def client_main(spec_path: str) -> None:
    """One client process: connect its share of clients, then count events per scenario (driven on stdin)."""
    from websockets.asyncio.client import connect

    spec = json.loads(await asyncio.to_thread(Path(spec_path).read_text))
    os.nice(spec["nice"])  # the clients stand in for phones elsewhere: servers get the CPU first
    kind, channel, event_type = spec["kind"], spec["channel"], spec["event_type"]
    conns: list[Any] = []
    expected = 0
    state: dict[str, Any] = {"seen": [], "lat": [], "last": 0.0}

    async def open_one(url: str, token: str) -> Any:
        ws = await connect(
            url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=60, max_queue=None
        )
        if kind == "homeroom":
            await ws.send(json.dumps({"op": "sub", "channel": channel}))
            while orjson.loads(await ws.recv())["op"] != "subbed":
                pass
        return ws

    for start in range(0, len(spec["clients"]), 50):
        conns += await asyncio.gather(
            *(open_one(url, token) for url, token in spec["clients"][start : start + 50])
        )
    state["seen"] = [set() for _ in conns]
    dupes = [0]
    progress = asyncio.Event()

    async def reader(index: int, ws: Any) -> None:
        seen = state["seen"][index]
        lat = state["lat"]
        with contextlib.suppress(Exception):
            async for raw in ws:
                now = time.time()
                if event_type not in raw:  # cheap filter before parsing
                    continue
                frame = orjson.loads(raw)
                if frame.get("type") != event_type:
                    continue
                key = (frame.get("epoch"), frame["seq"])
                if key in seen:
                    dupes[0] += 1
                    continue
                seen.add(key)
                lat.append(now - datetime.fromisoformat(frame["ts"]).timestamp())
                state["last"] = now
                if len(seen) >= expected:
                    progress.set()

    readers = [asyncio.create_task(reader(i, ws)) for i, ws in enumerate(conns)]
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while line := (await stdin.readline()).decode().split():
        if line[0] == "expect":
            expected = int(line[1])
            state["lat"].clear()
            for seen in state["seen"]:
                seen.clear()
            dupes[0] = 0
            deadline = time.monotonic() + float(line[2])
            while time.monotonic() < deadline and min(len(s) for s in state["seen"]) < expected:
                progress.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(progress.wait(), 0.2)
            out = Path(spec["out"] + f".{line[3]}")
            await asyncio.to_thread(
                out.write_bytes,
                orjson.dumps(
                    {
                        "lat": state["lat"],
                        "received": sum(len(s) for s in state["seen"]),
                        "lost": sum(max(0, expected - len(s)) for s in state["seen"]),
                        "dupes": dupes[0],
                        "last": state["last"],
                    }
                ),
            )
            print(f"done {out}", flush=True)
        elif line[0] == "stop":
            break
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)


class Clients:
    """The client processes of one target."""

    def __init__(
        self,
        kind: str,
        client: str,
        nice: int,
        urls: list[str],
        tokens: list[str],
        n: int,
        procs: int,
        channel: str,
        event_type: str,
        tmp: Path,
    ) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        assignments = [(urls[i % len(urls)], tokens[i % len(tokens)]) for i in range(n)]
        for index in range(procs):
            spec = tmp / f"{kind}-client-{index}.json"
            spec.write_text(
                json.dumps(
                    {
                        "kind": "homeroom" if kind == "homeroom" else "floor",
                        "nice": nice,
                        "channel": channel,
                        "event_type": event_type,
                        "clients": assignments[index::procs],
                        "out": str(tmp / f"{kind}-client-{index}"),
                    }
                )
            )
            command = [sys.executable, __file__, "--client-spec", str(spec)]
            if client == "node":
                command = ["node", str(NODE_DIR / "client.js"), str(spec)]
            self.procs.append(
                subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    cwd=ROOT,
                )
            )

    async def _line(self, proc: subprocess.Popen[bytes]) -> str:
        assert proc.stdout is not None
        line = await asyncio.to_thread(proc.stdout.readline)
        if not line:
            raise RuntimeError("a client process died")
        return line.decode().strip()

    async def ready(self) -> None:
        for proc in self.procs:
            assert await self._line(proc) == "ready"

    async def expect(self, count: int, deadline: float, label: str) -> list[dict[str, Any]]:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(f"expect {count} {deadline} {label}\n".encode())
            proc.stdin.flush()
        return []

    async def results(self) -> list[dict[str, Any]]:
        found = []
        for proc in self.procs:
            line = await self._line(proc)
            found.append(orjson.loads(await asyncio.to_thread(Path(line.split(" ", 1)[1]).read_bytes)))
        return found

    async def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(BrokenPipeError, OSError):
                assert proc.stdin is not None
                proc.stdin.write(b"stop\n")
                proc.stdin.flush()
        for proc in self.procs:
            try:
                await asyncio.to_thread(proc.wait, 20)
            except subprocess.TimeoutExpired:
                proc.kill()


# One measured run -------------------------------------------------------------------------


@dataclass
class Figures:
    target: str
    scenario: str
    events: int
    deliveries: int = 0
    lost: int = 0
    dupes: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    publish_cpu: float = 0.0
    lat: list[float] = field(default_factory=list)
    rss_per_conn: float = 0.0
    round: int = 1

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_delivery_us(self) -> float:
        return self.cpu / self.deliveries * 1e6 if self.deliveries else 0.0

    def pct(self, q: float) -> float:
        if not self.lat:
            return float("nan")
        ordered = sorted(self.lat)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def measure(
    target: str,
    scenario: str,
    clients: Clients,
    publisher: Publisher,
    target_pids: list[int],
    publisher_pids: list[int],
    args: argparse.Namespace,
) -> Figures:
    events = args.burst if scenario == "burst" else int(args.rate * args.seconds)
    figures = Figures(target, scenario, events)
    pids = sorted(set(target_pids) | set(publisher_pids))
    cpu0 = {pid: cpu_seconds(pid) for pid in pids}
    await clients.expect(events, 60.0 + events / max(args.rate, 1), scenario)
    started = time.time()
    if scenario == "burst":
        await publisher.burst(events)
    else:
        await publisher.steady(args.rate, args.seconds)
    results = await clients.results()
    cpu1 = {pid: cpu_seconds(pid) for pid in pids}
    figures.cpu = sum(cpu1[pid] - cpu0[pid] for pid in target_pids)
    figures.publish_cpu = sum(cpu1[pid] - cpu0[pid] for pid in publisher_pids if pid not in target_pids)
    figures.deliveries = sum(r["received"] for r in results)
    figures.lost = sum(r["lost"] for r in results)
    figures.dupes = sum(r["dupes"] for r in results)
    figures.seconds = max(r["last"] for r in results) - started
    figures.lat = [x for r in results for x in r["lat"]]
    return figures


async def run_target(
    target: str,
    args: argparse.Namespace,
    school: BenchSchool,
    publisher: Publisher,
    homeroom: list[Any],
    tmp: Path,
    redis_url: str | None,
    prefix: str,
) -> list[Figures]:
    floors: list[subprocess.Popen[bytes]] = []
    if target in FLOORS:
        from tests.live.servers import free_port

        ports = [free_port() for _ in homeroom]
        for port in ports:
            proc = await asyncio.to_thread(
                subprocess.Popen,
                [
                    *FLOORS[target],
                    "--port",
                    str(port),
                    "--redis",
                    str(redis_url),
                    "--key",
                    f"{prefix}:ev:{publisher.channel}",
                ],
                stdout=subprocess.PIPE,
                cwd=ROOT,
            )
            assert proc.stdout is not None
            assert (await asyncio.to_thread(proc.stdout.readline)).strip() == b"floor ready"
            floors.append(proc)
        urls = [f"ws://127.0.0.1:{port}/" for port in ports]
        pids = [proc.pid for proc in floors]
    else:
        urls = [server.ws_url for server in homeroom]
        pids = [server.pid for server in homeroom]
    tokens = school.parent_tokens if publisher.mode == "posts" else school.staff_tokens
    rss0 = sum(rss_bytes(pid) for pid in pids)
    clients = Clients(
        target,
        args.client,
        args.client_nice,
        urls,
        tokens,
        args.clients,
        args.client_procs,
        publisher.channel,
        publisher.event_type,
        tmp,
    )
    try:
        await clients.ready()
        total = sum(rss_bytes(pid) for pid in pids)
        rss = (total - rss0) / args.clients
        print(
            f"  {target:10} memory with {args.clients} connections open: {total / 2**20:.0f} MiB RSS"
            f" in {len(pids)} process(es)",
            flush=True,
        )
        found = []
        for scenario in args.scenarios:
            figures = await measure(
                target, scenario, clients, publisher, pids, [s.pid for s in homeroom], args
            )
            figures.rss_per_conn = rss
            found.append(figures)
            print(
                f"  {target:10} {scenario:6} done: {figures.deliveries} deliveries, {figures.lost} lost",
                flush=True,
            )
        return found
    finally:
        await clients.stop()
        for proc in floors:
            proc.terminate()
            proc.wait()


def report(results: list[Figures], args: argparse.Namespace) -> None:
    """The table, then Homeroom's figures as ratios to each floor's.

    "server CPU" counts every server process under the load: for Homeroom its own
    processes (HTTP API, database, broker, fan-out); for a floor, the floor processes
    plus Homeroom's processes that served the same publishing requests. "fan-out only"
    leaves the publishing side (measured during the first floor's run) out of all of them.
    """
    floors = {(f.round, f.scenario, f.target): f for f in results if f.target in FLOORS}
    publish: dict[tuple[int, str], float] = {}
    for f in results:
        if f.target in FLOORS:
            publish.setdefault((f.round, f.scenario), f.publish_cpu)
    print()
    print(
        f"{args.processes} process(es), broker {args.broker}, {args.clients} clients on one channel, "
        f"{args.client_procs} {args.client} client processes"
    )
    print(f"burst: {args.burst} events at once; steady: {args.rate:g} events/s for {args.seconds:g} s")
    print(
        f"{'round':5} {'target':10} {'scenario':8} {'events':>6} {'deliv/s':>8} {'p50':>6} {'p95':>6}"
        f" {'p99':>6}"
        f" {'max':>6} {'lost':>4} {'dup':>4} {'srv cpu':>7} {'µs/del':>6} {'fan-out':>7} {'KiB/conn':>8}"
    )
    for f in results:
        publishing = publish.get((f.round, f.scenario), 0.0)
        total = f.cpu + (f.publish_cpu if f.target in FLOORS else 0.0)
        fan_out = f.cpu - (publishing if f.target == "homeroom" else 0.0)
        per = total / f.deliveries * 1e6 if f.deliveries else float("nan")
        fan_per = fan_out / f.deliveries * 1e6 if f.deliveries else float("nan")
        f.total_per, f.fan_per = per, fan_per  # type: ignore[attr-defined]
        print(
            f"{f.round:5d} {f.target:10} {f.scenario:8} {f.events:6d} {f.rate:8.0f} {f.pct(0.5):6.1f}"
            f" {f.pct(0.95):6.1f}"
            f" {f.pct(0.99):6.1f} {f.pct(1.0):6.1f} {f.lost:4d} {f.dupes:4d} {total:7.2f} {per:6.1f}"
            f" {fan_per:7.1f} {f.rss_per_conn / 1024:8.1f}"
        )
    print("(latency: ms from commit to client; µs/del: server CPU per delivery; fan-out: without publishing)")
    for floor in FLOORS:
        if not any(key[2] == floor for key in floors):
            continue
        print(f"\nHomeroom / {floor} floor, same run, same load:")
        ratios: dict[str, list[list[float]]] = {}
        for f in results:
            base = floors.get((f.round, f.scenario, floor))
            if f.target != "homeroom" or base is None:
                continue
            row = [
                _ratio(f.total_per, base.total_per),  # type: ignore[attr-defined]
                _ratio(f.fan_per, base.fan_per),  # type: ignore[attr-defined]
                _ratio(f.rate, base.rate),
                _ratio(f.pct(0.5), base.pct(0.5)),
                _ratio(f.pct(0.99), base.pct(0.99)),
                _ratio(f.rss_per_conn, base.rss_per_conn),
            ]
            ratios.setdefault(f.scenario, []).append(row)
            print(f"  round {f.round} {f.scenario:6} " + _ratio_line(row))
        if args.repeat > 1:
            for scenario, rows in ratios.items():
                medians = [
                    statistics.median([v for v in column if v == v] or [float("nan")])  # skip NaN
                    for column in zip(*rows, strict=True)
                ]
                print(f"  median  {scenario:6} " + _ratio_line(medians))


def _ratio(value: float, base: float) -> float:
    return value / base if base else float("nan")


def _ratio_line(row: list[float]) -> str:
    cpu, fan, rate, p50, p99, memory = row
    return (
        f"server cpu/delivery {cpu:4.2f}x (fan-out only {fan:4.2f}x)  deliveries/s {rate:4.2f}x"
        f"  p50 {p50:4.2f}x  p99 {p99:4.2f}x  memory/conn {memory:4.2f}x"
    )


async def main(args: argparse.Namespace) -> None:
    from server.db.migrate import upgrade
    from tests.services import create_pg_database, drop_pg_database, postgres_admin_url

    tmp = Path(tempfile.mkdtemp(prefix="homeroom-bench-"))
    database = args.database or ("postgresql" if args.processes > 1 else "sqlite")
    pg_admin = postgres_admin_url() if database == "postgresql" else None
    if database == "sqlite":
        database_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    elif database == "postgresql":
        if pg_admin is None:
            raise SystemExit("no PostgreSQL configured (HOMEROOM_TEST_DATABASE_URL); use --database sqlite")
        database_url = await create_pg_database(pg_admin)
    else:
        database_url = database
    print(f"database: {database_url.split('@')[-1]}")
    try:
        await asyncio.to_thread(upgrade, database_url)
        await run_bench(args, tmp, database_url)
    finally:
        if pg_admin is not None:
            await drop_pg_database(pg_admin, database_url)


async def run_bench(args: argparse.Namespace, tmp: Path, database_url: str) -> None:
    if args.broker != "cluster":
        await run_bench_on(args, tmp, database_url, args.redis if args.broker == "redis" else None)
        return
    from tests.live.redis_cluster import LocalCluster

    cluster = LocalCluster(tmp / "redis-cluster")  # 3 masters + 3 replicas, started for this run
    try:
        await cluster.start()
        print(f"redis cluster: {cluster.url}")
        await run_bench_on(args, tmp, database_url, cluster.url)
    finally:
        await cluster.stop()


async def run_bench_on(args: argparse.Namespace, tmp: Path, database_url: str, redis_url: str | None) -> None:
    from tests.live.servers import server_env, start_server, unique_prefix

    # The floors read one plain pub/sub channel: they run beside a single Redis only.
    floors = [] if args.broker != "redis" or args.no_floor else args.floors
    invites = args.burst + int(args.rate * args.seconds) + 10
    invites *= (1 + len(floors)) * args.repeat
    school = await seed(database_url, args.clients, invites)
    prefix = unique_prefix()
    env = server_env(
        database_url=database_url,
        broker_url=redis_url or "memory://",
        data_dir=tmp,
        redis_prefix=prefix,
        extra={
            "HOMEROOM_CODE_ATTEMPTS_PER_MINUTE": "100000000",
            "HOMEROOM_WS_IDLE_SECONDS": "600",
            # Four processes at 30 connections each would pass PostgreSQL's default 100.
            "HOMEROOM_DATABASE_CONNECTIONS": str(min(30, 90 // args.processes)),
            # Many simulated readers share a few sign-ins.
            "HOMEROOM_WS_CONNECTIONS_PER_SESSION": "1000000",
            "HOMEROOM_WS_CONNECTIONS_PER_USER": "1000000",
        },
    )
    ws = None if args.ws == "homeroom" else args.ws
    homeroom = [start_server(env, tmp, ws=ws) for _ in range(args.processes)]
    try:
        # A busy machine starts several processes slowly: two minutes before giving up.
        await asyncio.gather(*(server.wait_ready(120) for server in homeroom))
        publisher = Publisher([server.http_url for server in homeroom], school)
        await publisher.detect()
        print(f"publishing {publisher.event_type} on {publisher.channel} via the HTTP API ({publisher.mode})")
        results: list[Figures] = []
        targets = [*floors, "homeroom"]
        for round_ in range(1, args.repeat + 1):
            for target in targets:  # alternating, so a change in the machine's load hits both
                print(f"round {round_}: running {target} ...", flush=True)
                found = await run_target(target, args, school, publisher, homeroom, tmp, redis_url, prefix)
                for figures in found:
                    figures.round = round_
                    if round_ > 1:  # freed memory of the last round is reused: only round 1 measures it
                        figures.rss_per_conn = float("nan")
                results += found
        report(results, args)
    finally:
        await asyncio.gather(*(server.stop() for server in homeroom))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2, choices=[1, 2, 3, 4])
    parser.add_argument(
        "--broker",
        choices=["memory", "redis", "cluster"],
        default="redis",
        help="cluster: a Redis Cluster of 3 masters + 3 replicas started for the run (no floors)",
    )
    parser.add_argument(
        "--redis", default=os.environ.get("HOMEROOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument(
        "--database",
        help="sqlite, postgresql (a fresh database on HOMEROOM_TEST_DATABASE_URL's server) or a URL;"
        " default: postgresql with 2 processes, sqlite with 1",
    )
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--client-procs", type=int, default=4)
    parser.add_argument(
        "--client-nice",
        type=int,
        default=10,
        help="niceness of the client processes (0: compete with the servers)",
    )
    parser.add_argument("--burst", type=int, default=200, help="events in the burst scenario")
    parser.add_argument("--rate", type=float, default=10.0, help="events/s in the steady scenario")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady scenario")
    parser.add_argument("--scenarios", default="burst,steady", type=lambda v: v.split(","))
    parser.add_argument(
        "--floors",
        default="websockets,node-ws",
        type=lambda v: [name for name in v.split(",") if name],
        help="floors to run beside Homeroom (with Redis): websockets, node-ws",
    )
    parser.add_argument("--no-floor", action="store_true", help="run Homeroom alone")
    parser.add_argument(
        "--client",
        choices=["python", "node"],
        default="python",
        help="load clients: Python websockets or Node ws (bench/node; run npm install there first)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds (floor then Homeroom each); medians shown"
    )
    parser.add_argument(
        "--ws",
        default="homeroom",
        help="homeroom (what `serve` runs) or uvicorn's wsproto or websockets-sansio",
    )
    parser.add_argument("--client-spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.broker == "memory" and args.processes > 1:
        parser.error("several processes need --broker redis or cluster")
    unknown = [name for name in args.floors if name not in FLOORS]
    if unknown:
        parser.error(f"unknown floors {unknown}: choose from {sorted(FLOORS)}")
    needs_node = args.client == "node" or ("node-ws" in args.floors and not args.no_floor)
    if needs_node and not args.client_spec and not (NODE_DIR / "node_modules" / "ws").exists():
        parser.error("the Node floor and clients need their packages: cd bench/node && npm install")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    runner = loop_runner()
    if arguments.client_spec:
        runner(client_main(arguments.client_spec))
    else:
        runner(main(arguments))
