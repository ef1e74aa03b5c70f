"""The demo school's pupil codes are drawn like real ones: random, not derived from the class or the seed.

The rest of the demo stays seeded (the same names, families and emails every run),
and the codes it drew are the ones it prints.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from sqlalchemy import select

from server.auth.tokens import CODE_ALPHABET
from server.cli.demo import DemoLogins, seed_demo
from server.db.engine import Database
from server.db.migrate import upgrade
from server.db.models import SchoolClass, Student
from server.school.roster import STUDENT_CODE_LENGTH

REAL_CODE = re.compile(f"^[{CODE_ALPHABET}]{{{STUDENT_CODE_LENGTH}}}$")


async def _seed(folder: Path) -> tuple[DemoLogins, list[tuple[str, str, str, str]]]:
    """A fresh demo school: its logins and every pupil as (class code, first, last, pupil code)."""
    url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        async with db.session() as session:
            logins = await seed_demo(session, pupils_per_class=6)
            await session.commit()
        async with db.session() as session:
            rows = await session.execute(
                select(SchoolClass.class_code, Student.first_name, Student.last_name, Student.student_code)
                .join(SchoolClass, SchoolClass.id == Student.class_id)
                .order_by(Student.id)
            )
            pupils = [tuple(row) for row in rows.all()]
    finally:
        await db.dispose()
    return logins, pupils  # type: ignore[return-value]


async def test_demo_pupil_codes_are_random_like_real_ones(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first_logins, first = await _seed(tmp_path / "a")
    second_logins, second = await _seed(tmp_path / "b")

    assert [p[:3] for p in first] == [p[:3] for p in second]  # the same school and pupils, seeded
    assert first_logins.staff == second_logins.staff and first_logins.parents == second_logins.parents
    for _, _, _, code in first + second:
        assert REAL_CODE.match(code), f"{code!r} is not drawn from the pupil-code alphabet"
    assert not {p[3] for p in first} & {p[3] for p in second}, "two demo runs gave out the same codes"
    for run in (first, second):
        by_class: dict[str, list[str]] = {}
        for class_code, _, _, code in run:
            by_class.setdefault(class_code, []).append(code)
        assert all(len(set(codes)) == len(codes) for codes in by_class.values())


async def test_the_demo_prints_the_codes_it_drew(tmp_path: Path) -> None:
    logins, pupils = await _seed(tmp_path)
    assert logins.pupils
    for _, class_code, pupil_code in logins.pupils:
        assert any(p[0] == class_code and p[3] == pupil_code for p in pupils)
