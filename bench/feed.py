"""How fast ``GET /api/feed`` answers a parent of three children in a school with 20,000 posts.

Builds a school (14 classes of 28 pupils, 20,000 posts over a few years, a third with a
photo, a third tagging pupils, likes from parents), then times the feed through the
whole app (authentication, queries, shaping, JSON) on SQLite and on PostgreSQL:

    . tools/test-services.sh && .venv/bin/python bench/feed.py [--posts 20000] [--runs 60]

PostgreSQL is the server named by ``HOMEROOM_TEST_DATABASE_URL`` (a scratch database is
created and dropped there); pass ``--backends sqlite`` to skip it. The target is a
median and p95 under 50 ms for the first page and for a page deep in the history,
with the same small number of queries whatever the page holds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import event, insert, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.app import create_app
from server.db.engine import Database
from server.db.migrate import upgrade
from server.db.models import (
    Like,
    Media,
    Post,
    PostMedia,
    PostStudent,
    Student,
)
from server.school import seed as build
from server.settings import Settings

CLASSES = 14
PUPILS = 28
TARGET_MS = 50.0


async def seed(url: str, posts: int) -> str:
    """Fill an empty database; returns the bearer token of the parent of three children."""
    rng = random.Random(7)
    db = Database(url)
    start = datetime(2023, 9, 4, 8, tzinfo=UTC)
    try:
        async with db.session() as session:
            school = await build.add_school(session, "Bench Primary", policy="")
            staff = await build.add_users(
                session, school, "teacher", [f"Teacher {i}" for i in range(CLASSES)]
            )
            classes = [await build.add_class(session, school, f"Class {i}") for i in range(CLASSES)]
            first = ["Amir", "Maya", "Leo", "Ava", "Noah", "Zara", "Isla", "Kai"]
            last = ["Khan", "Smith", "Nowak", "Ali", "Jones"]
            pupils = []
            for school_class in classes:
                names = [(rng.choice(first), rng.choice(last)) for _ in range(PUPILS)]
                pupils += await build.add_pupils(session, school_class, names)
            parents = await build.add_users(session, school, "parent", [f"Parent {i}" for i in range(300)])
            reader = parents[0]
            # three children in three classes
            build.link_guardians(session, [(reader, pupils[index * PUPILS + 3]) for index in (1, 6, 11)])
            [token] = build.sign_in(session, [reader])
            await session.flush()

            post_rows = []
            for n in range(posts):
                is_school = rng.random() < 0.1
                school_class = rng.choice(classes)
                post_rows.append(
                    {
                        "school_id": school.id,
                        "scope": "school" if is_school else "class",
                        "class_id": None if is_school else school_class.id,
                        "author_id": staff[rng.randrange(CLASSES)].id,
                        "text": f"Post {n}: a day of learning and play. " * rng.randint(1, 4),
                        "lang": "en",
                        "like_count": 0,
                        "created_at": start + timedelta(minutes=70 * n),
                    }
                )
            await session.execute(insert(Post), post_rows)
            post_ids = list(
                (
                    await session.execute(
                        select(Post.id, Post.class_id).where(Post.school_id == school.id).order_by(Post.id)
                    )
                ).all()
            )
            media_rows, media_links, tag_rows, like_rows = [], [], [], []
            by_class: dict[int, list[Student]] = {}
            for pupil in pupils:
                by_class.setdefault(pupil.class_id, []).append(pupil)
            for index, (post_id, class_id) in enumerate(post_ids):
                if index % 3 == 0:
                    media_rows.append(
                        {
                            "school_id": school.id,
                            "uploader_id": staff[0].id,
                            "key": secrets.token_urlsafe(24),
                            "kind": "image",
                            "content_type": "image/jpeg",
                            "file_name": "photo.jpg",
                            "size": 180_000,
                            "width": 1600,
                            "height": 1200,
                        }
                    )
                if index % 3 == 1 and class_id is not None:
                    for pupil in rng.sample(by_class[class_id], 3):
                        tag_rows.append({"post_id": post_id, "student_id": pupil.id})
                for liker in rng.sample(parents, rng.randint(0, 5)):
                    like_rows.append({"post_id": post_id, "user_id": liker.id})
            await session.execute(insert(Media), media_rows)
            media_ids = list(
                (
                    await session.scalars(
                        select(Media.id).where(Media.school_id == school.id).order_by(Media.id)
                    )
                ).all()
            )
            for media_id, (post_id, _) in zip(media_ids, post_ids[::3], strict=False):
                media_links.append({"post_id": post_id, "media_id": media_id, "position": 0})
            await session.execute(insert(PostMedia), media_links)
            await session.execute(insert(PostStudent), tag_rows)
            await session.execute(insert(Like), like_rows)
            await session.commit()
        return token
    finally:
        await db.dispose()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(url: str, token: str, runs: int, media_dir: Path) -> dict[str, object]:
    settings = Settings(
        data_dir=media_dir,
        database_url=url,
        media_dir=media_dir,
        secret_key="bench-secret-key-long-enough-0123456789abcdef",
        translation_engines=(),
    )
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {token}"}
    results: dict[str, object] = {}
    async with app.router.lifespan_context(app):
        engine = app.state.services.db.engine.sync_engine
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            first = await client.get("/api/feed", headers=headers)
            first.raise_for_status()
            items = first.json()["items"]
            deep_before = None
            page = first.json()
            for _ in range(50):  # walk 50 pages back to find a cursor deep in the history
                if page["next_before"] is None:
                    break
                deep_before = page["next_before"]
                page = (await client.get(f"/api/feed?before={deep_before}", headers=headers)).json()
            for label, path in (("first page", "/api/feed"), ("page 50", f"/api/feed?before={deep_before}")):
                timings = []
                for _ in range(runs):
                    statements.clear()
                    started = time.perf_counter()
                    reply = await client.get(path, headers=headers)
                    timings.append((time.perf_counter() - started) * 1000)
                    reply.raise_for_status()
                results[label] = {
                    "median_ms": statistics.median(timings),
                    "p95_ms": _percentile(timings, 0.95),
                    "queries": len(statements),
                    "items": len(reply.json()["items"]),
                }
        results["with_media"] = sum(1 for p in items if p["media"])
    return results


async def _pg_database(admin_url: str) -> str:
    name = f"homeroom_bench_{secrets.token_hex(4)}"
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def _drop_pg(admin_url: str, url: str) -> None:
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


async def run_backend(backend: str, posts: int, runs: int) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        admin_url = (
            os.environ.get("HOMEROOM_TEST_DATABASE_URL")
            or "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        )
        url = (
            f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            if backend == "sqlite"
            else await _pg_database(admin_url)
        )
        try:
            await asyncio.to_thread(upgrade, url)
            started = time.perf_counter()
            token = await seed(url, posts)
            seeded = time.perf_counter() - started
            if backend == "postgresql":
                conn = await asyncpg.connect(
                    make_url(url).set(drivername="postgresql").render_as_string(False)
                )
                await conn.execute("ANALYZE")
                await conn.close()
            results = await measure(url, token, runs, Path(tmp))
        finally:
            if backend == "postgresql":
                await _drop_pg(admin_url, url)
    print(
        f"{backend}: {posts} posts seeded in {seeded:.1f} s; parent of 3 children, {runs} requests per page"
    )
    passed = True
    for label in ("first page", "page 50"):
        row = results[label]
        assert isinstance(row, dict)
        ok = row["p95_ms"] < TARGET_MS
        passed &= ok
        print(
            f"  {label:<10}  median {row['median_ms']:6.1f} ms  p95 {row['p95_ms']:6.1f} ms  "
            f"{row['queries']} queries  {row['items']} posts  {'ok' if ok else 'SLOW'} (< {TARGET_MS:.0f} ms)"
        )
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    passed = True
    for backend in args.backends.split(","):
        passed &= asyncio.run(run_backend(backend.strip(), args.posts, args.runs))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
