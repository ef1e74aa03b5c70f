"""Reading points (P3, P20): a family sees its own child's points week by week, never a class board."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.conftest import Clock
from tests.factories import World


async def _give(
    api: httpx.AsyncClient, world: World, student_id: int, skill: int, clock: Clock, when: datetime
) -> None:
    clock.set(when)
    reply = await api.post(
        "/api/points", json={"student_ids": [student_id], "skill_id": skill}, headers=world.teacher.headers
    )
    assert reply.status_code == 201


async def test_p3_a_parent_reads_their_own_childs_points_week_by_week(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    maya = await world.add_student(world.classes[0], "Maya")
    leo = await world.add_student(world.classes[0], "Leo")
    parent = await world.add_parent(maya)
    kindness, teamwork = world.skills[0].id, world.skills[1].id
    await _give(api, world, maya.student.id, kindness, clock, datetime(2026, 3, 2, 9, tzinfo=UTC))
    await _give(api, world, maya.student.id, teamwork, clock, datetime(2026, 3, 4, 14, tzinfo=UTC))
    await _give(api, world, maya.student.id, kindness, clock, datetime(2026, 3, 11, 10, tzinfo=UTC))
    await _give(api, world, leo.student.id, teamwork, clock, datetime(2026, 3, 11, 10, tzinfo=UTC))
    clock.set(datetime(2026, 3, 18, 12, tzinfo=UTC))
    reply = await api.get(f"/api/students/{maya.student.id}/points", headers=parent.headers)
    assert reply.status_code == 200
    body = reply.json()
    assert body["student"] == {"id": maya.student.id, "name": "Maya"}
    assert body["total"] == 4 and body["period_total"] == 4
    assert [(row["skill"]["name"], row["points"], row["count"]) for row in body["skills"]] == [
        ("Kindness", 2, 2),
        ("Teamwork", 2, 1),
    ]
    assert [(w["week_start"], w["points"]) for w in body["weeks"]] == [
        ("2026-03-02", 3),
        ("2026-03-09", 1),
        ("2026-03-16", 0),
    ]
    assert [a["skill"]["name"] for a in body["history"]] == ["Kindness", "Teamwork", "Kindness"]
    ranged = await api.get(
        f"/api/students/{maya.student.id}/points?from=2026-03-03&to=2026-03-11", headers=parent.headers
    )
    ranged_body = ranged.json()
    assert ranged_body["total"] == 4 and ranged_body["period_total"] == 3
    assert [(w["week_start"], w["points"]) for w in ranged_body["weeks"]] == [
        ("2026-03-02", 2),
        ("2026-03-09", 1),
    ]
    assert len(ranged_body["history"]) == 2
    paged = await api.get(f"/api/students/{maya.student.id}/points?limit=2", headers=parent.headers)
    rest = await api.get(
        f"/api/students/{maya.student.id}/points?limit=2&before={paged.json()['next_before']}",
        headers=parent.headers,
    )
    assert len(paged.json()["history"]) == 2 and len(rest.json()["history"]) == 1
    assert (
        await api.get(f"/api/students/{leo.student.id}/points", headers=parent.headers)
    ).status_code == 404
    assert (await api.get(f"/api/students/{maya.student.id}/points", headers=maya.headers)).status_code == 200
    assert (await api.get(f"/api/students/{maya.student.id}/points", headers=leo.headers)).status_code == 404
    bad = await api.get(f"/api/students/{maya.student.id}/points?from=yesterday", headers=parent.headers)
    assert bad.status_code == 400


async def test_p20_parents_never_see_a_class_board(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    other = await world.add_class("Year 6")
    zara = await world.add_student(world.classes[0], "Zara")
    await world.add_student(world.classes[0], "Adam")
    outsider = await world.add_student(other)
    parent = await world.add_parent(zara)
    await _give(api, world, zara.student.id, world.skills[1].id, clock, datetime(2026, 3, 2, 9, tzinfo=UTC))
    url = f"/api/classes/{world.classes[0].id}/points"
    refused = await api.get(url, headers=parent.headers)
    assert refused.status_code == 403
    assert "Zara" not in refused.text and "Adam" not in refused.text
    assert (await api.get(url, headers=outsider.headers)).status_code == 404
    for allowed in (world.teacher, zara):
        board = await api.get(url, headers=allowed.headers)
        assert board.status_code == 200
        items = board.json()["items"]
        assert [(i["student"]["name"], i["total"]) for i in items] == [("Adam", 0), ("Zara", 2)]
        assert board.json()["class_total"] == 2


async def test_skills_are_kept_by_admins(api: httpx.AsyncClient, world: World, clock: Clock) -> None:
    created = await api.post(
        "/api/skills",
        json={"name": "Helping others", "icon": "hands", "points": 3},
        headers=world.admin.headers,
    )
    assert created.status_code == 201
    skill = created.json()
    assert skill == {"id": skill["id"], "name": "Helping others", "icon": "hands", "points": 3}
    assert (
        await api.post("/api/skills", json={"name": "x"}, headers=world.teacher.headers)
    ).status_code == 403
    duplicate = await api.post("/api/skills", json={"name": "helping OTHERS"}, headers=world.admin.headers)
    assert duplicate.status_code == 409
    bad_icon = await api.post(
        "/api/skills", json={"name": "Art", "icon": "<script>"}, headers=world.admin.headers
    )
    assert bad_icon.status_code == 422
    renamed = await api.patch(
        f"/api/skills/{skill['id']}", json={"name": "Helpfulness"}, headers=world.admin.headers
    )
    assert renamed.json()["name"] == "Helpfulness"
    pupil = await world.add_student(world.classes[0])
    await _give(api, world, pupil.student.id, skill["id"], clock, datetime(2026, 3, 2, 9, tzinfo=UTC))
    assert (await api.delete(f"/api/skills/{skill['id']}", headers=world.admin.headers)).status_code == 200
    listed = await api.get("/api/skills", headers=world.teacher.headers)
    assert skill["id"] not in [s["id"] for s in listed.json()["items"]]
    archived = await api.post(
        "/api/points",
        json={"student_ids": [pupil.student.id], "skill_id": skill["id"]},
        headers=world.teacher.headers,
    )
    assert archived.status_code == 404
    history = (
        await api.get(f"/api/students/{pupil.student.id}/points", headers=world.teacher.headers)
    ).json()
    assert history["history"][0]["skill"]["name"] == "Helpfulness" and history["total"] == 3
