"""Pupils hand in work; teachers approve or return it; guardians see approved work (P6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import Clock
from tests.factories import Actor, World, add_activity, events_on


async def hand_in(
    api: httpx.AsyncClient, pupil: Actor, activity_id: int, text: str = "My drawing of a fox"
) -> dict:
    response = await api.post(
        f"/api/activities/{activity_id}/submissions", json={"text": text}, headers=pupil.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_p6_pupil_hands_in_teacher_approves_guardian_sees(api: httpx.AsyncClient, world: World) -> None:
    school_class = world.classes[0]
    pupil = await world.add_student(school_class, "Amir", "Khan")
    assert pupil.student is not None
    parent = await world.add_parent(pupil)
    activity = await add_activity(world, school_class, "Draw a minibeast")

    item = await hand_in(api, pupil, activity.id)
    assert item["status"] == "pending"
    assert item["student"] == {"id": pupil.student.id, "name": "Amir"}
    assert item["activity"] == {"id": activity.id, "title": "Draw a minibeast", "due_at": None}
    assert item["late"] is False and item["decided_by"] is None
    staff_channel = f"class:{school_class.id}:staff"
    assert await events_on(world.services, staff_channel) == [
        {"type": "portfolio.submitted", "data": {"item": item}}
    ]

    portfolio = f"/api/students/{pupil.student.id}/portfolio"
    assert (await api.get(portfolio, headers=parent.headers)).json()["items"] == []
    assert (await api.get(f"/api/submissions/{item['id']}", headers=parent.headers)).status_code == 404
    assert [i["id"] for i in (await api.get(portfolio, headers=pupil.headers)).json()["items"]] == [
        item["id"]
    ]
    pending = await api.get(
        f"/api/classes/{school_class.id}/submissions?status=pending", headers=world.teacher.headers
    )
    assert [i["id"] for i in pending.json()["items"]] == [item["id"]]

    approved = await api.post(
        f"/api/submissions/{item['id']}/approve",
        json={"comment": "Lovely legs!"},
        headers=world.teacher.headers,
    )
    assert approved.status_code == 200, approved.text
    shape = approved.json()
    assert shape["status"] == "approved" and shape["comment"] == "Lovely legs!"
    assert shape["decided_by"] == {"id": world.teacher.id, "name": "Mrs Patel", "role": "teacher"}
    assert await events_on(world.services, f"student:{pupil.student.id}") == [
        {"type": "portfolio.approved", "data": {"item": shape}}
    ]
    assert [e["type"] for e in await events_on(world.services, staff_channel)] == [
        "portfolio.submitted",
        "portfolio.approved",
    ]
    seen = (await api.get(portfolio, headers=parent.headers)).json()["items"]
    assert seen == [shape]
    assert (await api.get(f"/api/submissions/{item['id']}", headers=parent.headers)).json() == shape
    pending = await api.get(
        f"/api/classes/{school_class.id}/submissions?status=pending", headers=world.teacher.headers
    )
    assert pending.json()["items"] == []


async def test_p6_pupil_cannot_approve(api: httpx.AsyncClient, world: World) -> None:
    school_class = world.classes[0]
    pupil = await world.add_student(school_class)
    parent = await world.add_parent(pupil)
    item = await hand_in(api, pupil, (await add_activity(world, school_class)).id)
    for actor in (pupil, parent):
        for action, body in (("approve", {}), ("return", {"comment": "Try again"})):
            response = await api.post(
                f"/api/submissions/{item['id']}/{action}", json=body, headers=actor.headers
            )
            assert response.status_code == 403, (actor.user.role, action)
            assert response.json()["error"]["code"] == "forbidden"
    mine = (await api.get("/api/me/submissions", headers=pupil.headers)).json()["items"]
    assert [i["status"] for i in mine] == ["pending"]
    assert await events_on(world.services, f"student:{pupil.student.id}") == []  # type: ignore[union-attr]


async def test_p6_returned_work_goes_back_to_the_pupil_only(api: httpx.AsyncClient, world: World) -> None:
    school_class = world.classes[0]
    pupil = await world.add_student(school_class)
    assert pupil.student is not None
    parent = await world.add_parent(pupil)
    item = await hand_in(api, pupil, (await add_activity(world, school_class)).id)
    no_comment = await api.post(
        f"/api/submissions/{item['id']}/return", json={"comment": "  "}, headers=world.teacher.headers
    )
    assert no_comment.status_code == 422
    returned = await api.post(
        f"/api/submissions/{item['id']}/return",
        json={"comment": "Can you add a title?"},
        headers=world.teacher.headers,
    )
    assert returned.status_code == 200
    shape = returned.json()
    assert shape["status"] == "returned" and shape["comment"] == "Can you add a title?"
    assert await events_on(world.services, f"user:{pupil.id}") == [
        {"type": "portfolio.returned", "data": {"item": shape}}
    ]
    assert await events_on(world.services, f"student:{pupil.student.id}") == []
    assert await events_on(world.services, f"user:{parent.id}") == []
    assert (await api.get(f"/api/submissions/{item['id']}", headers=parent.headers)).status_code == 404
    parent_view = await api.get(f"/api/students/{pupil.student.id}/portfolio", headers=parent.headers)
    assert parent_view.json()["items"] == []
    asked = await api.get(
        f"/api/students/{pupil.student.id}/portfolio?status=returned", headers=parent.headers
    )
    assert asked.json()["items"] == []
    mine = await api.get("/api/me/submissions?status=returned", headers=pupil.headers)
    assert mine.json()["items"] == [shape]


async def test_decisions_are_final_and_repeats_change_nothing(api: httpx.AsyncClient, world: World) -> None:
    school_class = world.classes[0]
    pupil = await world.add_student(school_class)
    assert pupil.student is not None
    item = await hand_in(api, pupil, (await add_activity(world, school_class)).id)
    url = f"/api/submissions/{item['id']}"
    first = await api.post(f"{url}/approve", json={"comment": "Great"}, headers=world.teacher.headers)
    again = await api.post(f"{url}/approve", json={"comment": "Again"}, headers=world.admin.headers)
    assert again.status_code == 200 and again.json() == first.json()
    other_way = await api.post(f"{url}/return", json={"comment": "Hmm"}, headers=world.teacher.headers)
    assert other_way.status_code == 409
    assert other_way.json()["error"]["code"] == "already_decided"
    assert len(await events_on(world.services, f"student:{pupil.student.id}")) == 1
    assert (
        await api.post("/api/submissions/999999/approve", json={}, headers=world.teacher.headers)
    ).status_code == 404


async def test_p6_pupils_hand_in_only_to_their_own_class(api: httpx.AsyncClient, world: World) -> None:
    oak, ash = world.classes[0], await world.add_class("Year 3 Ash")
    pupil = await world.add_student(oak)
    parent = await world.add_parent(pupil)
    elsewhere = await add_activity(world, ash, "Ash homework")
    response = await api.post(
        f"/api/activities/{elsewhere.id}/submissions", json={"text": "Hi"}, headers=pupil.headers
    )
    assert response.status_code == 404
    assert (
        await api.post("/api/activities/999999/submissions", json={"text": "Hi"}, headers=pupil.headers)
    ).status_code == 404
    ours = await add_activity(world, oak)
    for actor in (parent, world.teacher):
        refused = await api.post(
            f"/api/activities/{ours.id}/submissions", json={"text": "Hi"}, headers=actor.headers
        )
        assert refused.status_code == 403
    empty = await api.post(
        f"/api/activities/{ours.id}/submissions", json={"text": "   "}, headers=pupil.headers
    )
    assert empty.status_code == 422
    too_long = await api.post(
        f"/api/activities/{ours.id}/submissions", json={"text": "x" * 5001}, headers=pupil.headers
    )
    assert too_long.status_code == 422
    assert await events_on(world.services, f"class:{oak.id}:staff") == []
    assert await events_on(world.services, f"class:{ash.id}:staff") == []


async def test_p6_portfolio_is_private_to_the_family_and_staff(api: httpx.AsyncClient, world: World) -> None:
    oak, ash = world.classes[0], await world.add_class("Year 3 Ash")
    pupil = await world.add_student(oak)
    assert pupil.student is not None
    classmate = await world.add_student(oak, "Maya", "Ali")
    classmate_parent = await world.add_parent(classmate)
    other_parent = await world.add_parent(await world.add_student(ash, "Zofia", "Nowak"))
    item = await hand_in(api, pupil, (await add_activity(world, oak)).id)
    await api.post(f"/api/submissions/{item['id']}/approve", json={}, headers=world.teacher.headers)
    for outsider in (classmate, classmate_parent, other_parent):
        assert (await api.get(f"/api/submissions/{item['id']}", headers=outsider.headers)).status_code == 404
        portfolio = await api.get(f"/api/students/{pupil.student.id}/portfolio", headers=outsider.headers)
        assert portfolio.status_code == 404
    for staff in (world.teacher, world.admin, world.office):
        assert (await api.get(f"/api/submissions/{item['id']}", headers=staff.headers)).status_code == 200
    assert (await api.get("/api/me/submissions", headers=world.teacher.headers)).status_code == 403
    assert (
        await api.get(f"/api/classes/{oak.id}/submissions", headers=classmate_parent.headers)
    ).status_code == 403


async def test_late_work_is_marked_and_lists_page(api: httpx.AsyncClient, world: World, clock: Clock) -> None:
    school_class = world.classes[0]
    pupil = await world.add_student(school_class)
    due = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
    activity = await add_activity(world, school_class, due_at=due)
    clock.set(due - timedelta(hours=1))
    on_time = await hand_in(api, pupil, activity.id, "first")
    clock.set(due + timedelta(minutes=5))
    late = await hand_in(api, pupil, activity.id, "second")
    assert on_time["late"] is False and late["late"] is True
    assert late["created_at"] == "2026-03-06T17:05:00+00:00"
    url = f"/api/classes/{school_class.id}/submissions?activity_id={activity.id}&limit=1"
    page = (await api.get(url, headers=world.teacher.headers)).json()
    assert [i["id"] for i in page["items"]] == [late["id"]] and page["next_before"] == late["id"]
    rest = (await api.get(f"{url}&before={late['id']}", headers=world.teacher.headers)).json()
    assert [i["id"] for i in rest["items"]] == [on_time["id"]]
    bad = await api.get(
        f"/api/classes/{school_class.id}/submissions?status=lost", headers=world.teacher.headers
    )
    assert bad.status_code == 400
