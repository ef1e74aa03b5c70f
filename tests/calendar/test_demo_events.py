"""The demo school's coming weeks: a trip asking for consent, weekly PE, an assembly, parents' evening."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from server.cli.demo import seed_demo
from server.db.engine import Database
from server.db.migrate import upgrade
from server.db.models import SchoolClass, SchoolEvent
from server.timeutil import aware, utcnow


async def test_the_demo_school_has_events_to_answer_and_to_be_reminded_of(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        async with db.session() as session:
            await seed_demo(session, pupils_per_class=2)
            await session.commit()
        async with db.session() as session:
            events = list((await session.scalars(select(SchoolEvent).order_by(SchoolEvent.id))).all())
            year4 = await session.scalar(select(SchoolClass).where(SchoolClass.name == "Year 4"))
            assert year4 is not None
            now = utcnow()
            assert all(aware(e.starts_at) > now and e.cancelled_at is None for e in events)
            trip = next(e for e in events if e.rsvp == "consent")
            assert trip.class_id == year4.id and trip.respond_by is not None
            assert aware(trip.respond_by) > now and trip.reminders
            assert any(e.recurrence == "weekly" and e.class_id == year4.id for e in events)
            assert {e.scope for e in events} == {"class", "school"}
    finally:
        await db.dispose()
