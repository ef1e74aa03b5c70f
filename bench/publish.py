"""Publish-only benchmark: N class posts through the HTTP API, no readers; posts/s and server CPU per post.

    .venv/bin/python bench/publish.py --posts 300 --in-flight 16 --processes 2 --broker redis

It builds a school in a fresh database (``bench/fanout.py``'s seed), starts 1 or 2 ``python -m
server serve`` processes, posts a few warm-up posts, then sends ``--posts`` ``POST
/api/classes/{id}/posts`` with ``--in-flight`` requests at once (round-robin over the
processes) and prints posts/s and the server processes' CPU (user + system) per post. Nobody
is connected, so what is measured is one post's own cost: HTTP, sign-in check, validation,
the transaction with its audit and outbox rows, publishing to the broker, the pipeline hooks,
and the work it sets off after the reply (the push fan-out, the outbox relay): the CPU is
read once the servers are idle again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import Publisher, seed  # noqa: E402
from bench.procstat import cpu_seconds, loop_runner, rss_bytes, settled_cpu_seconds  # noqa: E402

WARM_UP = 10


async def run(args: argparse.Namespace, tmp: Path, database_url: str) -> None:
    from tests.live.servers import server_env, start_server, unique_prefix

    school = await seed(database_url, parents=2, invites=0)
    broker = args.redis if args.broker == "redis" else "memory://"
    env = server_env(
        database_url=database_url,
        broker_url=broker,
        data_dir=tmp,
        redis_prefix=unique_prefix(),
        extra={"HOMEROOM_TRANSLATION_ENGINES": args.engines},
    )
    servers = [start_server(env, tmp) for _ in range(args.processes)]
    try:
        await asyncio.gather(*(server.wait_ready(120) for server in servers))
        publisher = Publisher([server.http_url for server in servers], school)
        await publisher.detect()
        if publisher.mode != "posts":
            raise SystemExit("this build has no class posts (POST /api/classes/{id}/posts)")
        await publisher.burst(WARM_UP, concurrency=min(args.in_flight, WARM_UP))
        pids = [server.pid for server in servers]
        cpu0 = await settled_cpu_seconds(pids)
        started = time.perf_counter()
        await publisher.burst(args.posts, concurrency=args.in_flight)
        seconds = time.perf_counter() - started
        replied = sum(cpu_seconds(pid) for pid in pids) - cpu0
        cpu = await settled_cpu_seconds(pids) - cpu0
        rss = sum(rss_bytes(pid) for pid in pids) / 2**20
        await publisher.client.aclose()
    finally:
        await asyncio.gather(*(server.stop() for server in servers))
    print()
    print(
        f"{args.processes} process(es), broker {broker.split('://')[0]}, {args.posts} class posts,"
        f" {args.in_flight} in flight, no readers"
    )
    print(
        f"{'posts':>6} {'seconds':>8} {'posts/s':>8} {'server cpu s':>12} {'cpu ms/post':>11}"
        f" {'at replies':>10} {'rss MiB':>8}"
    )
    print(
        f"{args.posts:6d} {seconds:8.2f} {args.posts / seconds:8.1f} {cpu:12.2f}"
        f" {cpu / args.posts * 1000:11.2f} {replied / args.posts * 1000:10.2f} {rss:8.0f}"
    )
    print(
        "cpu ms/post: until the servers are idle again (the push fan-out and outbox relay the posts"
        " set off included); at replies: read at the last reply"
    )


async def main(args: argparse.Namespace) -> None:
    from server.db.migrate import upgrade
    from tests.services import create_pg_database, drop_pg_database, postgres_admin_url

    tmp = Path(tempfile.mkdtemp(prefix="homeroom-publish-"))
    database = args.database or ("postgresql" if args.processes > 1 else "sqlite")
    pg_admin = postgres_admin_url() if database == "postgresql" else None
    if database == "sqlite":
        database_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    elif pg_admin is None:
        raise SystemExit("no PostgreSQL configured (HOMEROOM_TEST_DATABASE_URL); use --database sqlite")
    else:
        database_url = await create_pg_database(pg_admin)
    print(f"database: {database_url.split('@')[-1]}")
    try:
        await asyncio.to_thread(upgrade, database_url)
        await run(args, tmp, database_url)
    finally:
        if pg_admin is not None:
            await drop_pg_database(pg_admin, database_url)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument(
        "--engines",
        default="none",
        help="HOMEROOM_TRANSLATION_ENGINES of the servers: 'none', or e.g. 'apertium' to include planning "
        "translations for the class's readers (jobs go to worker processes, not counted)",
    )
    parser.add_argument("--in-flight", type=int, default=16, help="requests at once")
    parser.add_argument("--processes", type=int, default=2, choices=[1, 2])
    parser.add_argument("--broker", choices=["memory", "redis"], default="redis")
    parser.add_argument(
        "--redis",
        default=os.environ.get("HOMEROOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="redis://… or redis+cluster://host:port,…",
    )
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql"],
        help="default: postgresql with 2 processes (HOMEROOM_TEST_DATABASE_URL's server), sqlite with 1",
    )
    args = parser.parse_args()
    if args.broker == "memory" and args.processes > 1:
        parser.error("two processes need --broker redis")
    return args


if __name__ == "__main__":
    loop_runner()(main(parse_args()))
