"""Awarding points (P1, P3): to one, several or a whole class in one go; undo; live to each family only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from server.db.models import AuditEntry, Award
from server.events import validate_event
from tests.conftest import Clock
from tests.factories import Actor, World, events_on


async def _award(api: httpx.AsyncClient, actor: Actor, **body: object) -> httpx.Response:
    return await api.post("/api/points", json=body, headers=actor.headers)


async def _award_count(world: World) -> int:
    async with world.services.read() as session:
        return int(await session.scalar(select(func.count()).where(Award.school_id == world.school.id)) or 0)


@contextmanager
def _award_transactions(engine: Engine) -> Iterator[list[int]]:
    """Committed transactions that inserted awards (the test counts them)."""
    committed: list[int] = []

    def on_statement(conn: Any, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AWARDS"):
            conn.info["wrote_awards"] = True

    def on_commit(conn: Any) -> None:
        if conn.info.pop("wrote_awards", False):
            committed.append(1)

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        yield committed
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)


async def test_whole_class_award_is_one_request_one_transaction_and_each_family_hears_only_its_own(
    api: httpx.AsyncClient, world: World
) -> None:
    pupils = [await world.add_student(world.classes[0], f"Pupil{i}", "Smith") for i in range(30)]
    kindness = world.skills[0]
    with _award_transactions(world.services.db.engine.sync_engine) as transactions:
        reply = await _award(api, world.teacher, class_id=world.classes[0].id, skill_id=kindness.id)
    assert reply.status_code == 201, reply.text
    assert len(transactions) == 1
    assert await _award_count(world) == 30
    body = reply.json()
    assert len(body["awards"]) == 30
    assert body["totals"] == {str(p.student.id): 1 for p in pupils}
    for pupil in pupils:
        own = await events_on(world.services, f"student:{pupil.student.id}")
        assert len(own) == 1
        assert own[0]["type"] == "points.awarded"
        assert own[0]["data"]["award"]["student"]["id"] == pupil.student.id
        assert own[0]["data"]["total"] == 1
        validate_event("points.awarded", own[0]["data"])
    staff = await events_on(world.services, f"class:{world.classes[0].id}:staff", "points.awarded")
    assert sorted(e["data"]["award"]["student"]["id"] for e in staff) == sorted(p.student.id for p in pupils)
    assert await events_on(world.services, f"class:{world.classes[0].id}") == []


async def test_p3_awards_to_several_pupils_return_new_totals(api: httpx.AsyncClient, world: World) -> None:
    maya, leo = (
        await world.add_student(world.classes[0], "Maya"),
        await world.add_student(world.classes[0], "Leo"),
    )
    teamwork = world.skills[1]
    await _award(api, world.teacher, student_ids=[maya.student.id], skill_id=teamwork.id)
    reply = await _award(
        api,
        world.teacher,
        student_ids=[maya.student.id, leo.student.id],
        skill_id=teamwork.id,
        note="Great relay",
    )
    body = reply.json()
    assert body["totals"] == {str(maya.student.id): 4, str(leo.student.id): 2}
    award = body["awards"][0]
    assert award["skill"] == {"id": teamwork.id, "name": "Teamwork", "icon": "team"}
    assert award["points"] == 2 and award["note"] == "Great relay"
    assert award["awarded_by"] == {"id": world.teacher.id, "name": "Mrs Patel"}
    assert award["student"] == {"id": maya.student.id, "name": "Maya"}


async def test_p1_negative_points_are_refused_unless_the_school_allows_them(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil = await world.add_student(world.classes[0])
    refused = await _award(
        api, world.teacher, student_ids=[pupil.student.id], skill_id=world.skills[0].id, points=-1
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["fields"]["points"] == "negative_not_allowed"
    skill = await api.post(
        "/api/skills", json={"name": "Rudeness", "points": -1}, headers=world.admin.headers
    )
    assert skill.status_code == 422
    lowered = await api.patch(
        f"/api/skills/{world.skills[0].id}", json={"points": -2}, headers=world.admin.headers
    )
    assert lowered.status_code == 422
    assert await _award_count(world) == 0
    allowed = await api.patch(
        "/api/school", json={"allow_negative_points": True}, headers=world.admin.headers
    )
    assert allowed.status_code == 200
    negative = await api.post(
        "/api/skills", json={"name": "Off task", "points": -1}, headers=world.admin.headers
    )
    assert negative.status_code == 201
    given = await _award(api, world.teacher, student_ids=[pupil.student.id], skill_id=negative.json()["id"])
    assert given.status_code == 201 and given.json()["totals"] == {str(pupil.student.id): -1}
    await api.patch("/api/school", json={"allow_negative_points": False}, headers=world.admin.headers)
    again = await _award(api, world.teacher, student_ids=[pupil.student.id], skill_id=negative.json()["id"])
    assert again.status_code == 422


async def test_p1_undo_is_only_for_the_giver_within_ten_minutes(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=UTC))
    pupil = await world.add_student(world.classes[0])
    colleague = await world.add_user("teacher")
    first = (
        await _award(api, world.teacher, student_ids=[pupil.student.id], skill_id=world.skills[1].id)
    ).json()
    second = (
        await _award(api, world.teacher, student_ids=[pupil.student.id], skill_id=world.skills[0].id)
    ).json()
    award_id = second["awards"][0]["id"]
    for other in (colleague, world.admin):
        assert (await api.delete(f"/api/points/{award_id}", headers=other.headers)).status_code == 403
    parent = await world.add_parent(pupil)
    assert (await api.delete(f"/api/points/{award_id}", headers=parent.headers)).status_code == 403
    clock.advance(minutes=9, seconds=59)
    undone = await api.delete(f"/api/points/{award_id}", headers=world.teacher.headers)
    assert undone.status_code == 200 and undone.json()["total"] == 2
    assert (await api.delete(f"/api/points/{award_id}", headers=world.teacher.headers)).status_code == 404
    clock.advance(seconds=2)
    late = await api.delete(f"/api/points/{first['awards'][0]['id']}", headers=world.teacher.headers)
    assert late.status_code == 403
    removed = await events_on(world.services, f"student:{pupil.student.id}", "points.removed")
    assert [(e["data"]["award"]["id"], e["data"]["total"]) for e in removed] == [(award_id, 2)]
    assert len(await events_on(world.services, f"class:{world.classes[0].id}:staff", "points.removed")) == 1
    async with world.services.read() as session:
        actions = list(
            (
                await session.scalars(
                    select(AuditEntry.action)
                    .where(AuditEntry.school_id == world.school.id)
                    .order_by(AuditEntry.id)
                )
            ).all()
        )
    assert actions == ["points.awarded", "points.awarded", "points.undone"]


async def test_bad_awards_are_refused_and_change_nothing(api: httpx.AsyncClient, world: World) -> None:
    from tests.factories import make_world

    pupil = await world.add_student(world.classes[0])
    elsewhere = await make_world(world.services)
    stranger = await elsewhere.add_student(elsewhere.classes[0])
    left = await world.add_student(world.classes[0], "Gone")
    await api.patch(
        f"/api/students/{left.student.id}",
        json={"left_at": "2026-01-01T00:00:00+00:00"},
        headers=world.admin.headers,
    )
    skill = world.skills[0].id
    cases = [
        ({"skill_id": skill}, 422),
        ({"skill_id": skill, "student_ids": []}, 422),
        ({"skill_id": skill, "student_ids": [pupil.student.id], "class_id": world.classes[0].id}, 422),
        ({"skill_id": skill, "student_ids": [pupil.student.id, stranger.student.id]}, 422),
        ({"skill_id": skill, "student_ids": [left.student.id]}, 422),
        ({"skill_id": elsewhere.skills[0].id, "student_ids": [pupil.student.id]}, 404),
        ({"skill_id": skill, "class_id": elsewhere.classes[0].id}, 404),
        ({"skill_id": skill, "student_ids": [pupil.student.id], "note": "bad \x07 bell"}, 422),
        ({"skill_id": skill, "student_ids": [pupil.student.id], "points": 0}, 422),
        ({"skill_id": "one", "student_ids": [pupil.student.id]}, 422),
    ]
    for body, status in cases:
        reply = await _award(api, world.teacher, **body)
        assert reply.status_code == status, (body, reply.text)
    parent = await world.add_parent(pupil)
    assert (await _award(api, parent, student_ids=[pupil.student.id], skill_id=skill)).status_code == 403
    assert (await _award(api, pupil, student_ids=[pupil.student.id], skill_id=skill)).status_code == 403
    assert await _award_count(world) == 0


async def test_another_schools_staff_cannot_undo_or_read_points(api: httpx.AsyncClient, world: World) -> None:
    from tests.factories import make_world

    pupil = await world.add_student(world.classes[0])
    award_id = (
        await _award(api, world.teacher, student_ids=[pupil.student.id], skill_id=world.skills[0].id)
    ).json()["awards"][0]["id"]
    elsewhere = await make_world(world.services)
    assert (await api.delete(f"/api/points/{award_id}", headers=elsewhere.teacher.headers)).status_code == 404
    for path in (f"/api/students/{pupil.student.id}/points", f"/api/classes/{world.classes[0].id}/points"):
        assert (await api.get(path, headers=elsewhere.admin.headers)).status_code == 404
