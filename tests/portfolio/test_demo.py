"""The demo school's home learning: activities and work in every state, for the printed logins."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from server.cli.demo import seed_demo
from server.db.engine import Database
from server.db.migrate import upgrade
from server.db.models import Activity, SchoolClass, Student, Submission
from server.portfolio.avatars import check_avatar


async def test_demo_class_has_activities_and_work_to_review(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        async with db.session() as session:
            logins = await seed_demo(session, pupils_per_class=4)
            await session.commit()
        async with db.session() as session:
            activities = list((await session.scalars(select(Activity))).all())
            assert len(activities) == 2 and len({a.class_id for a in activities}) == 1
            demo_class = await session.get(SchoolClass, activities[0].class_id)
            assert demo_class is not None
            assert any(code == demo_class.class_code for _, code, _ in logins.pupils)
            work = list((await session.scalars(select(Submission).order_by(Submission.id))).all())
            assert [w.status for w in work] == ["approved", "pending", "returned", "pending"]
            pupils = {s.id: s for s in (await session.scalars(select(Student))).all()}
            assert all(pupils[w.student_id].class_id == demo_class.id for w in work)
            assert all((w.decided_by is not None) == (w.status != "pending") for w in work)
            for pupil in pupils.values():
                check_avatar(pupil.avatar)
    finally:
        await db.dispose()
