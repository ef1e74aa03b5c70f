"""The demo school's week of stories and points: alive, consistent and within the rules."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import func, select

from server.cli.demo import seed_demo
from server.db.engine import Database
from server.db.migrate import upgrade
from server.db.models import Award, Like, Media, Post, PostMedia, PostStudent, Student
from server.media.storage import LocalStorage


async def test_p12_demo_week_is_lively_consistent_and_consent_safe(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        # Seeding stays quick (one password hash for every account, not one each). Counted in
        # this process's CPU time, not wall time, which other processes on a loaded machine stretch.
        started = time.process_time()
        async with db.session() as session:
            await seed_demo(session, media_dir=tmp_path / "media")
            await session.commit()
        assert time.process_time() - started < 10
        async with db.session() as session:
            posts = list((await session.scalars(select(Post))).all())
            assert len(posts) >= 30 and {p.scope for p in posts} == {"class", "school"}
            assert [p.id for p in sorted(posts, key=lambda p: p.created_at)] == sorted(p.id for p in posts)
            likes = dict(
                (await session.execute(select(Like.post_id, func.count()).group_by(Like.post_id))).all()
            )
            assert all(p.like_count == likes.get(p.id, 0) for p in posts) and sum(likes.values()) > 50
            assert (await session.scalar(select(func.count()).select_from(Award))) > 200
            tagged_in_photos = await session.scalars(
                select(Student)
                .join(PostStudent, PostStudent.student_id == Student.id)
                .join(PostMedia, PostMedia.post_id == PostStudent.post_id)
            )
            assert all(s.photo_consent and not s.la_care for s in tagged_in_photos)
            photos = list((await session.scalars(select(Media))).all())
            assert photos and all(LocalStorage(tmp_path / "media").exists(m.key) for m in photos)
    finally:
        await db.dispose()
