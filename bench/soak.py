"""Soak: a mixed school day against 2 processes + Redis + PostgreSQL, checking exactly-once delivery.

    . tools/test-services.sh
    .venv/bin/python bench/soak.py --clients 500 --seconds 120

What one invocation does:

1. Builds a school in a fresh PostgreSQL database: ``--classes`` classes, each with a teacher
   and parents (two per pupil), all signed in; the school's working hours cover every day so
   parents' messages go straight through (quiet hours are tested elsewhere).
2. Starts two ``python -m server serve`` processes on the ``redis://`` broker.
3. Client processes (``--client-procs``, at ``nice 10``) open ``--clients`` websockets spread
   over both processes: teachers follow ``school``, ``class``, ``class:staff`` and their
   ``user`` channel; parents ``school``, ``class``, their child's ``student`` channel and their
   ``user`` channel. They ping like the web client, and about ``--reconnects`` times a second
   one of them drops and reconnects to the *other* process with ``since``/``epoch``.
4. For ``--seconds`` the driver runs the school day through the HTTP API, each action at its
   own rate (``--scale`` multiplies them all): parents sign in (argon2) and read the feed,
   teachers upload photos and post class stories, the head posts school stories, parents like
   posts, teachers award points, parents and teachers message each other.
5. Then it waits for the outbox to drain, reads every channel's last ``seq`` from Redis, lets
   each client catch up to it, and checks every connection: each committed post, like, award
   and message it should see arrived exactly once (by id, so a re-published event under a new
   ``seq`` counts as a duplicate), with no gap or repeat in ``seq`` and every reconnect
   recovered.

``--outage N`` also cuts PostgreSQL off for ``N`` seconds 40% into the run (the servers reach
it through a TCP proxy that the run stops and restarts): requests meanwhile get 503, clients
that reconnect meanwhile retry, and afterwards the same exactly-once check must hold.

It prints request throughput, error counts and latency percentiles per action, delivery
figures and latency (commit to arrival), server CPU and memory, and exits non-zero when
anything was lost or duplicated, or a request got a 5xx (or no answer) outside the outage.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import orjson  # noqa: E402

from bench.procstat import cpu_seconds, loop_runner, rss_bytes  # noqa: E402

PASSWORD = "soak-password-1"
ALL_DAY = ["00:00", "23:59"]

# Actions per second at --scale 1 (a busy school day squeezed into minutes).
RATES = {
    "login": 1.0,
    "feed": 12.0,
    "class_post": 0.5,
    "school_post": 0.1,
    "like": 8.0,
    "award": 2.0,
    "message": 3.0,
}


# The school -------------------------------------------------------------------------------


@dataclass
class Member:
    """One connected user: who they are and what they follow."""

    user_id: int
    token: str
    email: str
    role: str
    class_id: int
    student_id: int | None = None

    def channels(self, school_id: int) -> list[str]:
        own = [f"school:{school_id}", f"class:{self.class_id}"]
        if self.role == "teacher":
            return [*own, f"class:{self.class_id}:staff", f"user:{self.user_id}"]
        return [*own, f"student:{self.student_id}", f"user:{self.user_id}"]


@dataclass
class SoakSchool:
    school_id: int
    skill_id: int
    head_token: str
    teachers: dict[int, Member]  # class id -> its teacher
    parents: list[Member]
    pupils: dict[int, list[int]]  # class id -> pupil ids

    @property
    def members(self) -> list[Member]:
        return [*self.teachers.values(), *self.parents]


async def seed(database_url: str, clients: int, classes: int) -> SoakSchool:
    """A school whose ``clients`` members (a teacher per class, the rest parents) are signed in."""
    from server.auth.passwords import hash_password
    from server.db.engine import Database
    from server.school import seed as build

    password_hash = await hash_password(PASSWORD)
    db = Database(database_url)
    now = datetime.now(UTC)
    per_class = clients // classes
    try:
        async with db.session() as session:
            school = await build.add_school(session, "Soak Primary")
            school.working_hours = {day: ALL_DAY for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
            [skill] = await build.add_skills(session, school, [("Kindness", "heart", 1)])
            head = await build.add_user(
                session, school, "admin", "Head", email="head@soak.example", password_hash=password_hash
            )

            def sign_in(user: Any) -> str:
                [token] = build.sign_in(session, [user], now=now)
                return token

            teachers: dict[int, Member] = {}
            parents: list[Member] = []
            pupils: dict[int, list[int]] = {}
            for c in range(classes):
                teacher = await build.add_user(
                    session,
                    school,
                    "teacher",
                    f"Teacher {c}",
                    email=f"t{c}@soak.example",
                    password_hash=password_hash,
                )
                klass = await build.add_class(session, school, f"Class {c + 1}", staff=[teacher])
                count = per_class - 1
                guardians = await build.add_users(
                    session,
                    school,
                    "parent",
                    [f"Parent {c}-{i}" for i in range(count)],
                    emails=[f"p{c}-{i}@soak.example" for i in range(count)],
                    password_hash=password_hash,
                )
                students = await build.add_pupils(
                    session, klass, [(f"Pupil{i}", "Soak") for i in range((count + 1) // 2)]
                )
                pupils[klass.id] = [s.id for s in students]
                teachers[klass.id] = Member(
                    teacher.id, sign_in(teacher), teacher.email or "", "teacher", klass.id
                )
                build.link_guardians(
                    session, [(guardian, students[i // 2]) for i, guardian in enumerate(guardians)]
                )
                for i, guardian in enumerate(guardians):
                    parents.append(
                        Member(
                            guardian.id,
                            sign_in(guardian),
                            guardian.email or "",
                            "parent",
                            klass.id,
                            students[i // 2].id,
                        )
                    )
            await session.flush()
            head_token = sign_in(head)
            await session.commit()
            return SoakSchool(school.id, skill.id, head_token, teachers, parents, pupils)
    finally:
        await db.dispose()


def photo(seed: int) -> bytes:
    """A 640×480 JPEG of noisy colour (~60 KB), different every time, as a phone would upload."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.effect_noise((640, 480), 40).convert("RGB")
    tint = Image.new("RGB", image.size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    Image.blend(image, tint, 0.5).save(out, "JPEG", quality=80)
    return out.getvalue()


# What was committed ------------------------------------------------------------------------


@dataclass
class Ledger:
    """Every change the API confirmed, as the event keys each channel must then carry once."""

    by_channel: dict[str, Counter[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(Counter))
    posts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # story channel -> ids
    liked: set[tuple[int, int]] = field(default_factory=set)  # (post id, user id)
    conversations: list[tuple[int, Member, Member]] = field(default_factory=list)

    def add(self, channel: str, key: tuple[Any, ...]) -> None:
        self.by_channel[channel][key] += 1


@dataclass
class Timings:
    """Latency and outcome of every request, by action; when each 5xx or failure happened."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    status: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failed_at: list[tuple[float, float]] = field(default_factory=list)  # (start, end), monotonic
    outage: tuple[float, float] | None = None  # injected: from the cut until ready again

    def record(self, action: str, started: float, outcome: str) -> None:
        ended = time.perf_counter()
        self.latency[action].append(ended - started)
        self.status[action][outcome] += 1
        if outcome != "2xx" and outcome != "4xx":
            self.failed_at.append((started, ended))

    def failures_outside_outage(self) -> int:
        """5xx answers and transport errors of requests that did not overlap the injected outage."""
        if self.outage is None:
            return len(self.failed_at)
        cut, back = self.outage
        return sum(1 for start, end in self.failed_at if end < cut or start > back)


class Driver:
    """The school day through the HTTP API, round-robin over the server processes."""

    def __init__(self, urls: list[str], school: SoakSchool, timings: Timings, ledger: Ledger) -> None:
        self.urls = urls
        self.school = school
        self.timings = timings
        self.ledger = ledger
        self.http = httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_connections=64))
        self.turn = 0
        self.rng = random.Random(7)
        self.shown: Counter[str] = Counter()

    async def request(
        self, action: str, method: str, path: str, token: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        """One timed request; its JSON when it succeeded, else None (the outcome is counted)."""
        self.turn += 1
        url = self.urls[self.turn % len(self.urls)] + path
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            self.timings.record(action, started, type(exc).__name__)
            return None
        self.timings.record(action, started, f"{response.status_code // 100}xx")
        if response.status_code >= 300:
            shown = self.shown[action]
            if response.status_code >= 500 and shown < 2:  # a sample; the table counts them all
                self.shown[action] += 1
                print(f"  {action}: {response.status_code} {response.text[:160]}", flush=True)
            return None
        return response.json() if response.content else {}

    # Setup, not timed against the figures -----------------------------------------------------

    async def open_conversations(self, per_class: int) -> None:
        """Each class's first ``per_class`` parents open a conversation with the class teacher."""
        for teacher in self.school.teachers.values():
            parents = [p for p in self.school.parents if p.class_id == teacher.class_id][:per_class]
            for parent in parents:
                body = {"student_id": parent.student_id, "staff_id": teacher.user_id}
                found = await self.request("setup", "POST", "/api/conversations", parent.token, json=body)
                if found is not None:
                    self.ledger.conversations.append((found["id"], parent, teacher))

    # The actions ------------------------------------------------------------------------------

    async def login(self) -> None:
        parent = self.rng.choice(self.school.parents)
        body = {"email": parent.email, "password": PASSWORD}
        found = await self.request("login", "POST", "/api/auth/login", "", json=body)
        if found is not None:
            await self.request("feed", "GET", "/api/feed?limit=20", found["token"])
            await self.request("logout", "POST", "/api/auth/logout", found["token"])

    async def feed(self) -> None:
        if self.rng.random() < 0.8:
            await self.request(
                "feed", "GET", "/api/feed?limit=20", self.rng.choice(self.school.parents).token
            )
        else:
            teacher = self.rng.choice(list(self.school.teachers.values()))
            path = f"/api/classes/{teacher.class_id}/posts?limit=20"
            await self.request("class_posts", "GET", path, teacher.token)

    async def class_post(self) -> None:
        teacher = self.rng.choice(list(self.school.teachers.values()))
        files = {"file": ("photo.jpg", photo(self.rng.randrange(1 << 30)), "image/jpeg")}
        media = await self.request("upload", "POST", "/api/media", teacher.token, files=files)
        if media is None:
            return
        pupils = self.rng.sample(self.school.pupils[teacher.class_id], 2)
        body = {"text": "Look what we made today!", "media_ids": [media["id"]], "student_ids": pupils}
        path = f"/api/classes/{teacher.class_id}/posts"
        post = await self.request("class_post", "POST", path, teacher.token, json=body)
        if post is not None:
            channel = f"class:{teacher.class_id}"
            self.ledger.add(channel, ("post", post["id"]))
            self.ledger.posts[channel].append(post["id"])

    async def school_post(self) -> None:
        body = {"text": "Well done everyone for a wonderful assembly."}
        post = await self.request(
            "school_post", "POST", "/api/school/posts", self.school.head_token, json=body
        )
        if post is not None:
            channel = f"school:{self.school.school_id}"
            self.ledger.add(channel, ("post", post["id"]))
            self.ledger.posts[channel].append(post["id"])

    async def like(self) -> None:
        parent = self.rng.choice(self.school.parents)
        channel = self.rng.choice([f"class:{parent.class_id}", f"school:{self.school.school_id}"])
        choices = [
            p for p in self.ledger.posts[channel][-10:] if (p, parent.user_id) not in self.ledger.liked
        ]
        if not choices:
            return
        post_id = self.rng.choice(choices)
        self.ledger.liked.add((post_id, parent.user_id))  # before the request: never the same like twice
        found = await self.request("like", "PUT", f"/api/posts/{post_id}/like", parent.token)
        if found is not None:
            self.ledger.add(channel, ("like", post_id, found["like_count"]))
            self.ledger.add(f"{channel}:staff", ("staff_like", post_id, parent.user_id))

    async def award(self) -> None:
        teacher = self.rng.choice(list(self.school.teachers.values()))
        pupils = self.rng.sample(self.school.pupils[teacher.class_id], self.rng.randint(1, 3))
        body = {"student_ids": pupils, "skill_id": self.school.skill_id}
        found = await self.request("award", "POST", "/api/points", teacher.token, json=body)
        if found is not None:
            for award in found["awards"]:
                self.ledger.add(f"student:{award['student']['id']}", ("award", award["id"]))
                self.ledger.add(f"class:{teacher.class_id}:staff", ("award", award["id"]))

    async def message(self) -> None:
        if not self.ledger.conversations:
            return
        conversation_id, parent, teacher = self.rng.choice(self.ledger.conversations)
        sender = self.rng.choice([parent, teacher])
        body = {"text": "Thank you, that is lovely to hear."}
        path = f"/api/conversations/{conversation_id}/messages"
        found = await self.request("message", "POST", path, sender.token, json=body)
        if found is not None:
            for member in (parent, teacher):
                self.ledger.add(f"user:{member.user_id}", ("message", found["id"]))

    async def run(self, seconds: float, scale: float, in_flight: int) -> None:
        """Every action at its rate for ``seconds``, at most ``in_flight`` requests outstanding."""
        gate = asyncio.Semaphore(in_flight)
        end = time.monotonic() + seconds
        pending: set[asyncio.Task[None]] = set()

        async def guarded(action: Callable[[], Awaitable[None]]) -> None:
            try:
                await action()
            finally:
                gate.release()

        async def pace(action: Callable[[], Awaitable[None]], rate: float) -> None:
            interval, due = 1.0 / rate, time.monotonic()
            while due < end:
                await gate.acquire()
                task = asyncio.create_task(guarded(action))
                pending.add(task)
                task.add_done_callback(pending.discard)
                due += interval
                await asyncio.sleep(max(0.0, due - time.monotonic()))  # pacing, not synchronisation

        actions = {name: getattr(self, name) for name in RATES}
        await asyncio.gather(*(pace(actions[name], rate * scale) for name, rate in RATES.items()))
        await asyncio.gather(*list(pending))


# The clients -----------------------------------------------------------------------------


def event_key(frame: dict[str, Any]) -> list[Any] | None:
    """What identifies a counted event, whatever its ``seq``; None for the others."""
    kind, data = frame["type"], frame["data"]
    if kind == "post.created":
        return ["post", data["post"]["id"]]
    if kind == "post.liked":
        if "user" in data:
            return ["staff_like", data["post_id"], data["user"]["id"]]
        return ["like", data["post_id"], data["like_count"]]
    if kind == "points.awarded":
        return ["award", data["award"]["id"]]
    if kind == "message.created" and not data["message"].get("system"):
        return ["message", data["message"]["id"]]
    return None


class Follower:
    """One client connection: subscribes, follows ``seq`` per channel, reconnects when told to."""

    def __init__(self, index: int, urls: list[str], token: str, channels: list[str], first: int) -> None:
        self.index, self.urls, self.token, self.channels = index, urls, token, channels
        self.server = first
        self.since: dict[str, int] = {}
        self.epoch: dict[str, str] = {}
        self.keys: dict[str, list[list[Any]]] = {channel: [] for channel in channels}
        self.gaps = self.repeats = self.not_recovered = self.reconnects = self.failures = 0
        self.drop = asyncio.Event()
        self.subscribed = asyncio.Event()
        self.progress = asyncio.Event()
        self.latencies: list[float] = []

    async def run(self, ping_every: float) -> None:
        from websockets.asyncio.client import connect

        while True:
            try:
                url = self.urls[self.server]
                headers = {"Authorization": f"Bearer {self.token}"}
                async with connect(url, additional_headers=headers, open_timeout=60, max_queue=None) as ws:
                    await self._follow(ws, ping_every)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                await asyncio.sleep(0.2)
            self.server = (self.server + 1) % len(self.urls)  # the load balancer sends it elsewhere
            self.reconnects += 1

    async def _follow(self, ws: Any, ping_every: float) -> None:
        for ref, channel in enumerate(self.channels):
            sub: dict[str, Any] = {"op": "sub", "channel": channel, "ref": ref}
            if channel in self.since:
                sub |= {"since": self.since[channel], "epoch": self.epoch[channel]}
            await ws.send(orjson.dumps(sub).decode())
        answered = 0
        self.drop.clear()
        dropping = asyncio.ensure_future(self.drop.wait())
        receiving: asyncio.Future[Any] | None = None
        try:
            next_ping = time.monotonic() + ping_every
            while True:
                receiving = receiving or asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait(
                    {receiving, dropping},
                    timeout=max(0.0, next_ping - time.monotonic()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if dropping in done:
                    return
                if receiving not in done:
                    await ws.send('{"op":"ping"}')  # as the web client does, so the server keeps us
                    next_ping = time.monotonic() + ping_every
                    continue
                frame = orjson.loads(receiving.result())
                receiving = None
                op = frame["op"]
                if op == "event":
                    self._event(frame)
                elif op == "subbed":
                    self._subbed(frame)
                    answered += 1
                    if answered == len(self.channels):
                        self.subscribed.set()
                elif op == "error":
                    raise RuntimeError(f"server said {frame}")
        finally:
            for future in (receiving, dropping):
                if future is not None:
                    future.cancel()
                    if future.done() and not future.cancelled():
                        future.exception()  # retrieved: the connection is being left anyway

    def _subbed(self, frame: dict[str, Any]) -> None:
        channel = frame["channel"]
        if channel in self.since and not frame["recovered"]:
            self.not_recovered += 1
        if channel not in self.since or not frame["recovered"]:
            self.since[channel] = frame["seq"]
        self.epoch[channel] = frame["epoch"]
        self.progress.set()

    def _event(self, frame: dict[str, Any]) -> None:
        channel, seq = frame["channel"], frame["seq"]
        last = self.since.get(channel)
        if last is None:
            return  # a live event racing the first "subbed": its seq is at or below the answer's
        if seq <= last:
            self.repeats += 1
            return
        if seq != last + 1:
            self.gaps += seq - last - 1
        self.since[channel] = seq
        key = event_key(frame)
        if key is not None:
            self.keys[channel].append(key)
            if len(self.latencies) < 400:
                self.latencies.append(time.time() - datetime.fromisoformat(frame["ts"]).timestamp())
        self.progress.set()

    def caught_up(self, targets: dict[str, int]) -> bool:
        return all(self.since.get(channel, -1) >= targets.get(channel, 0) for channel in self.channels)


async def client_main(spec_path: str) -> None:
    """One client process: its followers, reconnects, and at the end what each received."""
    spec = json.loads(await asyncio.to_thread(Path(spec_path).read_text))
    os.nice(spec["nice"])
    followers = [Follower(i, spec["urls"], *conn) for i, conn in enumerate(spec["conns"])]
    tasks = []
    for start in range(0, len(followers), 50):
        batch = followers[start : start + 50]
        tasks += [asyncio.create_task(f.run(spec["ping_every"])) for f in batch]
        async with asyncio.timeout(120):
            await asyncio.gather(*(f.subscribed.wait() for f in batch))
    print("ready", flush=True)
    rng = random.Random(spec["seed"])
    stdin = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)

    async def reconnect_forever() -> None:
        if spec["reconnects"] <= 0:
            return
        while True:
            await asyncio.sleep(rng.expovariate(spec["reconnects"]))  # pacing
            rng.choice(followers).drop.set()

    churn = asyncio.create_task(reconnect_forever())
    line = (await stdin.readline()).decode().split()
    assert line[0] == "start", line
    line = (await stdin.readline()).decode().split()
    assert line[0] == "finish", line
    churn.cancel()
    targets = orjson.loads(await asyncio.to_thread(Path(line[1]).read_bytes))
    deadline = time.monotonic() + float(line[2])
    for follower in followers:
        while not follower.caught_up(targets) and time.monotonic() < deadline:
            follower.progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(follower.progress.wait(), deadline - time.monotonic())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    result = [
        {
            "channels": f.channels,
            "keys": f.keys,
            "caught_up": f.caught_up(targets),
            "gaps": f.gaps,
            "repeats": f.repeats,
            "not_recovered": f.not_recovered,
            "reconnects": f.reconnects,
            "failures": f.failures,
            "latencies": f.latencies,
        }
        for f in followers
    ]
    await asyncio.to_thread(Path(spec["out"]).write_bytes, orjson.dumps(result))
    print("done", flush=True)


class Clients:
    """The client processes, driven through stdin and stdout."""

    def __init__(self, spec_paths: list[Path]) -> None:
        self.procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--client", str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=ROOT,
            )
            for path in spec_paths
        ]

    async def expect(self, word: str) -> None:
        for proc in self.procs:
            assert proc.stdout is not None
            line = (await asyncio.to_thread(proc.stdout.readline)).decode().strip()
            if line != word:
                raise RuntimeError(f"a client process said {line!r}, not {word!r}")

    def tell(self, line: str) -> None:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{line}\n".encode())
            proc.stdin.flush()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


# Checking and reporting -------------------------------------------------------------------


@dataclass
class Verdict:
    expected: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    gaps: int = 0
    repeats: int = 0
    not_recovered: int = 0
    behind: int = 0
    reconnects: int = 0
    failures: int = 0
    latencies: list[float] = field(default_factory=list)


def check(results: list[dict[str, Any]], ledger: Ledger) -> Verdict:
    """Compare what each connection received with what it should have, exactly once each."""
    verdict = Verdict()
    for conn in results:
        for channel in conn["channels"]:
            expected = ledger.by_channel.get(channel, Counter())
            got = Counter(tuple(key) for key in conn["keys"][channel])
            verdict.expected += sum(expected.values())
            verdict.delivered += sum(got.values())
            verdict.lost += sum((expected - got).values())
            verdict.duplicated += sum(
                count - 1 for key, count in got.items() if key in expected and count > 1
            )
            verdict.unexpected += sum(count for key, count in got.items() if key not in expected)
        for name in ("gaps", "repeats", "not_recovered", "reconnects", "failures"):
            setattr(verdict, name, getattr(verdict, name) + conn[name])
        verdict.behind += not conn["caught_up"]
        verdict.latencies += conn["latencies"]
    return verdict


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(timings: Timings, verdict: Verdict, seconds: float, servers: list[dict[str, float]]) -> bool:
    """Print the figures; True when nothing was lost, duplicated or answered with a 5xx."""
    print(f"\nrequests over {seconds:.0f} s")
    print(
        f"{'action':<12} {'count':>6} {'/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
        f" {'max ms':>7}  outcomes"
    )
    fives = 0
    for action in sorted(timings.latency):
        ms = [v * 1000 for v in timings.latency[action]]
        outcomes = timings.status[action]
        fives += sum(n for outcome, n in outcomes.items() if outcome == "5xx")
        print(
            f"{action:<12} {len(ms):>6} {len(ms) / seconds:>6.1f} {percentile(ms, 0.5):>7.1f}"
            f" {percentile(ms, 0.95):>7.1f} {percentile(ms, 0.99):>7.1f} {max(ms):>7.1f}  "
            + " ".join(f"{k}:{v}" for k, v in sorted(outcomes.items()))
        )
    errors = sum(n for o in timings.status.values() for k, n in o.items() if k not in ("2xx",))
    lat = [v * 1000 for v in verdict.latencies]
    print(
        f"\ndeliveries: expected {verdict.expected}, delivered {verdict.delivered},"
        f" lost {verdict.lost}, duplicated {verdict.duplicated}, unexpected {verdict.unexpected}"
    )
    print(
        f"seq: gaps {verdict.gaps}, repeats {verdict.repeats}; reconnects {verdict.reconnects}"
        f" (not recovered {verdict.not_recovered}, failed {verdict.failures});"
        f" behind at the end {verdict.behind}"
    )
    print(
        f"delivery latency (commit → client, sample of {len(lat)}): p50 {percentile(lat, 0.5):.1f} ms,"
        f" p95 {percentile(lat, 0.95):.1f} ms, p99 {percentile(lat, 0.99):.1f} ms"
    )
    for index, figures in enumerate(servers):
        print(
            f"server {index}: cpu {figures['cpu']:.1f} s ({figures['cpu'] / seconds * 100:.0f}% of a core),"
            f" rss {figures['rss']:.0f} MiB"
        )
    outside = timings.failures_outside_outage()
    print(f"errors: {errors} non-2xx, {fives} 5xx; 5xx or failed outside the injected outage: {outside}")
    clean = verdict.lost == verdict.duplicated == verdict.unexpected == 0
    clean = clean and verdict.gaps == verdict.repeats == verdict.not_recovered == verdict.behind == 0
    return clean and outside == 0 and verdict.expected > 0


# The run --------------------------------------------------------------------------------


async def channel_seqs(redis_url: str, prefix: str, channels: set[str]) -> dict[str, int]:
    """Every channel's last ``seq``, as the broker's publish script left it in Redis."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        found = {}
        for channel in channels:
            seq = await client.hget(f"{prefix}:{{{channel}}}:meta", "seq")  # type: ignore[misc]
            found[channel] = int(seq or 0)
        return found
    finally:
        await client.aclose()


async def drain_outbox(database_url: str, deadline: float) -> None:
    """Wait until every committed event is marked published."""
    from sqlalchemy import func, select

    from server.db.engine import Database
    from server.db.models import OutboxEvent

    db = Database(database_url)
    try:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            async with db.session() as session:
                left = await session.scalar(
                    select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
                )
            if not left:
                return
            await asyncio.sleep(0.2)  # polling the database, with a deadline
        raise RuntimeError("the outbox did not drain")
    finally:
        await db.dispose()


async def cut_database(proxy: Any, urls: list[str], after: float, seconds: float, timings: Timings) -> None:
    """After ``after`` s, make PostgreSQL unreachable for ``seconds`` s; note the window until ready."""
    await asyncio.sleep(after)  # pacing the scenario
    cut = time.perf_counter()
    await proxy.stop()
    print(f"  database cut for {seconds:.0f} s", flush=True)
    await asyncio.sleep(seconds)
    await proxy.start()
    async with httpx.AsyncClient(timeout=2.0) as http:
        for url in urls:
            async with asyncio.timeout(60):
                while True:  # polling /readyz, with a deadline
                    if (await http.get(f"{url}/readyz")).status_code == 200:
                        break
                    await asyncio.sleep(0.05)
    timings.outage = (cut, time.perf_counter())
    print(f"  database back; ready again after {timings.outage[1] - cut:.1f} s", flush=True)


async def main(args: argparse.Namespace) -> int:
    from server.db.migrate import upgrade
    from tests.live.servers import server_env, start_server, unique_prefix
    from tests.services import create_pg_database, drop_pg_database, postgres_admin_url

    admin = postgres_admin_url()
    if admin is None:
        raise SystemExit("soak needs PostgreSQL: source tools/test-services.sh first")
    tmp = Path(tempfile.mkdtemp(prefix="homeroom-soak-"))
    database_url = await create_pg_database(admin)
    servers = []
    clients: Clients | None = None
    proxy = None
    try:
        await asyncio.to_thread(upgrade, database_url)
        school = await seed(database_url, args.clients, args.classes)
        prefix = unique_prefix()
        servers_database = database_url
        if args.outage:  # the servers reach PostgreSQL through a proxy the run can cut
            from sqlalchemy.engine import make_url

            from tests.live.proxy import TcpProxy

            direct = make_url(database_url)
            proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432)
            await proxy.start()
            servers_database = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(
                hide_password=False
            )
        env = server_env(
            database_url=servers_database,
            broker_url=args.redis,
            data_dir=tmp,
            redis_prefix=prefix,
            extra={
                "HOMEROOM_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
                "HOMEROOM_WS_CONNECTIONS_PER_SESSION": "1000000",
                "HOMEROOM_WS_CONNECTIONS_PER_USER": "1000000",
            },
        )
        servers = [start_server(env, tmp) for _ in range(2)]
        await asyncio.gather(*(server.wait_ready() for server in servers))
        print(
            f"school: {len(school.teachers)} classes, {len(school.members)} connected members;"
            f" servers {', '.join(s.http_url for s in servers)}",
            flush=True,
        )
        timings, ledger = Timings(), Ledger()
        driver = Driver([s.http_url for s in servers], school, timings, ledger)
        await driver.open_conversations(args.conversations_per_class)

        ws_urls = [s.http_url.replace("http", "ws", 1) + "/ws" for s in servers]
        conns = [(m.token, m.channels(school.school_id), i % 2) for i, m in enumerate(school.members)]
        specs = []
        for index in range(args.client_procs):
            spec = tmp / f"client-{index}.json"
            spec.write_text(
                json.dumps(
                    {
                        "urls": ws_urls,
                        "conns": conns[index :: args.client_procs],
                        "nice": args.client_nice,
                        "ping_every": 20.0,
                        "reconnects": args.reconnects / args.client_procs,
                        "seed": index,
                        "out": str(tmp / f"client-{index}.out.json"),
                    }
                )
            )
            specs.append(spec)
        clients = Clients(specs)
        await clients.expect("ready")
        print(
            f"{len(conns)} clients connected and subscribed; running the school day for {args.seconds:.0f} s",
            flush=True,
        )
        cpu_before = [cpu_seconds(s.process.pid) for s in servers]
        clients.tell("start")
        started = time.monotonic()
        outage = None
        if proxy is not None:
            urls = [s.http_url for s in servers]
            outage = asyncio.create_task(cut_database(proxy, urls, args.seconds * 0.4, args.outage, timings))
        await driver.run(args.seconds, args.scale, args.in_flight)
        if outage is not None:
            await outage
        elapsed = time.monotonic() - started
        figures = [
            {"cpu": cpu_seconds(s.process.pid) - before, "rss": rss_bytes(s.process.pid) / 2**20}
            for s, before in zip(servers, cpu_before, strict=True)
        ]
        await driver.http.aclose()
        await drain_outbox(database_url, 60)
        channels = {c for m in school.members for c in m.channels(school.school_id)}
        targets = tmp / "targets.json"
        targets.write_bytes(orjson.dumps(await channel_seqs(args.redis, prefix, channels)))
        clients.tell(f"finish {targets} 60")
        await clients.expect("done")
        results = []
        for index in range(len(specs)):
            out = tmp / f"client-{index}.out.json"
            results += orjson.loads(await asyncio.to_thread(out.read_bytes))
        clean = report(timings, check(results, ledger), elapsed, figures)
        verdict = "no 5xx outside the outage" if args.outage else "no 5xx"
        print(f"PASS: every event exactly once, {verdict}" if clean else "FAIL")
        return 0 if clean else 1
    finally:
        if clients is not None:
            clients.stop()
        await asyncio.gather(*(server.stop() for server in servers))
        if proxy is not None:
            with contextlib.suppress(Exception):
                await proxy.stop()
        await drop_pg_database(admin, database_url)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500, help="connected members")
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every action's rate")
    parser.add_argument("--reconnects", type=float, default=4.0, help="client reconnects per second")
    parser.add_argument("--conversations-per-class", type=int, default=20)
    parser.add_argument(
        "--outage",
        type=float,
        default=0.0,
        help="cut PostgreSQL off for this many seconds, 40%% into the run (the servers then reach it"
        " through a proxy in this process)",
    )
    parser.add_argument("--in-flight", type=int, default=32, help="most requests outstanding at once")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--client-nice", type=int, default=10)
    parser.add_argument(
        "--redis", default=os.environ.get("HOMEROOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--client", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    runner = loop_runner()
    if arguments.client:
        runner(client_main(arguments.client))
    else:
        sys.exit(runner(main(arguments)))
