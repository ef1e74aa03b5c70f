"""The audit log for admins (P19) and the retention job (P18)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from server.db.models import Invite, Session, Student
from server.privacy.retention import run_retention
from server.services import Services
from tests.conftest import Clock, make_settings
from tests.factories import World, error_of
from tests.privacy.conftest import build_family


async def test_p19_admin_reads_the_audit_log_filtered_and_paged(
    api: httpx.AsyncClient, services: Services, world: World
) -> None:
    await build_family(api, services, world)
    await build_family(api, services, world)
    response = await api.get("/api/audit?action=points.awarded", headers=world.admin.headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 2 and {i["action"] for i in items} == {"points.awarded"}
    assert items[0]["id"] > items[1]["id"]
    page = await api.get(
        f"/api/audit?limit=1&before={items[0]['id']}&actor_id={world.teacher.id}&target_type=award",
        headers=world.admin.headers,
    )
    assert [i["id"] for i in page.json()["items"]] == [items[1]["id"]]
    later = await api.get("/api/audit?from=2999-01-01T00:00:00Z", headers=world.admin.headers)
    assert later.json()["items"] == []
    error_of(await api.get("/api/audit", headers=world.teacher.headers), 403)
    error_of(await api.get("/api/audit?from=yesterday", headers=world.admin.headers), 400)


async def test_p18_retention_erases_pupils_who_left_long_ago_and_purges_expired_sessions(
    api: httpx.AsyncClient, services: Services, world: World, clock: Clock
) -> None:
    long_gone = await build_family(api, services, world)
    recent = await build_family(api, services, world)
    now = clock()
    days = services.settings.retention_days
    async with services.transaction() as session:
        for actor, left in ((long_gone.pupil, days + 1), (recent.pupil, days - 1)):
            assert actor.student is not None
            row = await session.get(Student, actor.student.id)
            assert row is not None
            row.left_at = now - timedelta(days=left)
        session.add(Session(user_id=world.office.id, token_hash="e" * 64, expires_at=now - timedelta(days=3)))
        invite = (
            await session.scalars(select(Invite).where(Invite.student_id == recent.pupil.student.id))  # type: ignore[union-attr]
        ).one()
        invite.expires_at = now - timedelta(minutes=1)

    result = await run_retention(services)
    assert result.pupils >= 1 and result.sessions >= 1 and result.invites >= 1
    async with services.read() as session:
        assert await session.get(Student, long_gone.pupil.student.id) is None  # type: ignore[union-attr]
        assert await session.get(Student, recent.pupil.student.id) is not None  # type: ignore[union-attr]
        assert await session.scalar(select(Session.id).where(Session.token_hash == "e" * 64)) is None
        assert (
            await session.scalar(select(Invite.id).where(Invite.student_id == recent.pupil.student.id))
            is None
        )  # type: ignore[union-attr]


def test_retention_runs_daily_under_the_job_lease(tmp_path: Path) -> None:
    from server.app import default_jobs

    [job] = [j for j in default_jobs(make_settings(tmp_path, "sqlite+aiosqlite://")) if j.name == "retention"]
    assert job.every == 24 * 3600.0 and job.run is run_retention
