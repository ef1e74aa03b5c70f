"""Where one class post's server CPU goes: cProfile around N posts through the app, in-process.

    .venv/bin/python bench/profile_post.py --posts 200 [--broker redis] [--database postgresql]

The app is built as ``serve`` builds it (``create_app``, all its parts started) and driven
through httpx's ASGI transport, so uvicorn's HTTP parsing is left out; everything from the
route on is measured (sign-in check, body validation, the transaction, audit, outbox,
publishing, commit listeners and the pipeline hooks). Prints CPU ms per post and the
functions with the most CPU of their own (``--top``, ``--sort``), or writes a pstats file (``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import seed  # noqa: E402
from bench.procstat import loop_runner  # noqa: E402


async def run(args: argparse.Namespace, tmp: Path, database_url: str) -> None:
    import httpx
    from sqlalchemy import event

    from server.app import create_app
    from server.settings import Settings
    from tests.live.servers import SECRET, unique_prefix

    school = await seed(database_url, parents=2, invites=0)
    broker = args.redis if args.broker == "redis" else "memory://"
    settings = Settings(
        data_dir=tmp,
        database_url=database_url,
        broker_url=broker,
        media_dir=tmp / "media",
        secret_key=SECRET,
        translation_engines=(),
        redis_prefix=unique_prefix(),
    )
    app = create_app(settings)
    url = f"/api/classes/{school.class_id}/posts"
    headers = {"Authorization": f"Bearer {school.teacher_token}"}
    body = {"text": "Tomorrow is PE day: please bring trainers."}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
    ):

        async def post(count: int) -> None:
            for _ in range(count):
                reply = await client.post(url, json=body, headers=headers)
                if reply.status_code not in (200, 201):
                    raise SystemExit(f"posting failed: {reply.status_code} {reply.text[:200]}")

        await post(10)  # warm-up
        statements: Counter[str] = Counter()
        if args.sql:

            def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
                statements[" ".join(statement.split())[:90]] += 1

            event.listen(app.state.services.db.engine.sync_engine, "before_cursor_execute", count)
            if args.database == "postgresql":  # BEGIN, COMMIT and ROLLBACK are round trips too
                import asyncpg

                plain = asyncpg.connection.Connection.execute

                async def counted(self: Any, query: str, *more: Any, **options: Any) -> Any:
                    statements[" ".join(query.split())[:90]] += 1
                    return await plain(self, query, *more, **options)

                asyncpg.connection.Connection.execute = counted  # type: ignore[method-assign]
        profile = cProfile.Profile(time.process_time)  # CPU time, not the wall clock
        cpu0, started = time.process_time(), time.perf_counter()
        profile.enable()
        await asyncio.gather(*(post(args.posts // args.in_flight) for _ in range(args.in_flight)))
        profile.disable()
        cpu, seconds = time.process_time() - cpu0, time.perf_counter() - started
    posts = args.posts // args.in_flight * args.in_flight
    print(
        f"\n{posts} class posts in-process ({broker.split('://')[0]}, {args.in_flight} in flight): "
        f"{cpu / posts * 1000:.2f} ms CPU per post (cProfile inflates it), {posts / seconds:.1f} posts/s"
    )
    if args.sql:
        total = sum(statements.values())
        print(f"{total / posts:.1f} SQL statements per post, BEGIN and COMMIT included (pollers too):")
        for text, times in statements.most_common(args.top):
            print(f"  {times / posts:6.2f}  {text}")
        return
    if args.out:
        profile.dump_stats(args.out)
        print(f"profile written to {args.out}")
    stats = pstats.Stats(profile)
    stats.sort_stats(args.sort).print_stats(args.top)


async def main(args: argparse.Namespace) -> None:
    from server.db.migrate import upgrade
    from tests.services import create_pg_database, drop_pg_database, postgres_admin_url

    tmp = Path(tempfile.mkdtemp(prefix="homeroom-profile-"))
    pg_admin = postgres_admin_url() if args.database == "postgresql" else None
    if args.database == "sqlite":
        database_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    elif pg_admin is None:
        raise SystemExit("no PostgreSQL configured (HOMEROOM_TEST_DATABASE_URL); use --database sqlite")
    else:
        database_url = await create_pg_database(pg_admin)
    try:
        await asyncio.to_thread(upgrade, database_url)
        await run(args, tmp, database_url)
    finally:
        if pg_admin is not None:
            await drop_pg_database(pg_admin, database_url)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--broker", choices=["memory", "redis"], default="redis")
    parser.add_argument(
        "--redis", default=os.environ.get("HOMEROOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--top", type=int, default=45, help="functions to print, by cumulative time")
    parser.add_argument("--sort", default="tottime", help="pstats order: tottime (own CPU) or cumulative")
    parser.add_argument("--out", help="also write the pstats file here")
    parser.add_argument("--sql", action="store_true", help="count SQL statements per post instead")
    return parser.parse_args()


if __name__ == "__main__":
    loop_runner()(main(parse_args()))
