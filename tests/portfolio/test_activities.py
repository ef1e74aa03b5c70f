"""Home-learning activities (P6): staff set them for a class; the class's members read them."""

from __future__ import annotations

import httpx

from tests.factories import World, add_activity, events_on


async def test_p6_teacher_sets_an_activity_and_the_class_hears(api: httpx.AsyncClient, world: World) -> None:
    school_class = world.classes[0]
    response = await api.post(
        f"/api/classes/{school_class.id}/activities",
        json={
            "title": "  Draw a minibeast  ",
            "instructions": "Find one in the garden and draw it.",
            "due_at": "2026-03-06T17:00:00+01:00",
        },
        headers=world.teacher.headers,
    )
    assert response.status_code == 201, response.text
    activity = response.json()
    assert activity["title"] == "Draw a minibeast"
    assert activity["class_id"] == school_class.id
    assert activity["due_at"] == "2026-03-06T16:00:00+00:00"
    assert activity["created_by"] == {"id": world.teacher.id, "name": "Mrs Patel", "role": "teacher"}
    assert activity["media"] == []
    assert activity["lang"] == "en" and activity["translation"] == {"status": "not_needed"}
    [event] = await events_on(world.services, f"class:{school_class.id}")
    assert event["type"] == "activity.created"
    # the event carries the activity as written, with its cached translations (none yet);
    # the live layer renders it for each reader's language
    sent = dict(event["data"]["activity"])
    assert sent.pop("translations") == {"title": {}, "instructions": {}}
    assert sent == {k: v for k, v in activity.items() if k not in ("original", "translation")}


async def test_class_members_read_activities_others_get_404(api: httpx.AsyncClient, world: World) -> None:
    oak, ash = world.classes[0], await world.add_class("Year 3 Ash")
    pupil = await world.add_student(oak)
    parent = await world.add_parent(pupil)
    other_pupil = await world.add_student(ash, "Zofia", "Nowak")
    other_parent = await world.add_parent(other_pupil)
    first = await add_activity(world, oak, "Spellings")
    second = await add_activity(world, oak, "Times tables")
    for reader in (pupil, parent, world.teacher, world.office):
        listed = await api.get(f"/api/classes/{oak.id}/activities", headers=reader.headers)
        assert listed.status_code == 200
        assert [a["id"] for a in listed.json()["items"]] == [second.id, first.id]
        one = await api.get(f"/api/activities/{first.id}", headers=reader.headers)
        assert one.status_code == 200 and one.json()["title"] == "Spellings"
    for outsider in (other_pupil, other_parent):
        assert (
            await api.get(f"/api/classes/{oak.id}/activities", headers=outsider.headers)
        ).status_code == 404
        assert (await api.get(f"/api/activities/{first.id}", headers=outsider.headers)).status_code == 404
    page = await api.get(f"/api/classes/{oak.id}/activities?limit=1", headers=pupil.headers)
    assert page.json()["next_before"] == second.id
    rest = await api.get(
        f"/api/classes/{oak.id}/activities?limit=1&before={second.id}", headers=pupil.headers
    )
    assert [a["id"] for a in rest.json()["items"]] == [first.id]


async def test_only_staff_set_activities(api: httpx.AsyncClient, world: World) -> None:
    school_class = world.classes[0]
    pupil = await world.add_student(school_class)
    parent = await world.add_parent(pupil)
    for actor in (pupil, parent):
        response = await api.post(
            f"/api/classes/{school_class.id}/activities", json={"title": "Homework"}, headers=actor.headers
        )
        assert response.status_code == 403
    assert await events_on(world.services, f"class:{school_class.id}") == []


async def test_bad_activities_are_refused_and_change_nothing(api: httpx.AsyncClient, world: World) -> None:
    school_class = world.classes[0]
    url = f"/api/classes/{school_class.id}/activities"
    for body in (
        {"title": "   "},
        {"title": "x" * 201},
        {"title": "Homework", "due_at": "2026-03-06T17:00:00"},  # no offset
        {"title": "Homework", "due_at": "next friday"},
        {"instructions": "No title"},
        {"title": "Ring the \x07 bell"},
        {"title": "Homework", "instructions": "a\x00b"},
        {"title": "Homework", "media_ids": "1"},
    ):
        response = await api.post(url, json=body, headers=world.teacher.headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error"
    assert (
        await api.post("/api/classes/999999/activities", json={"title": "Hi"}, headers=world.teacher.headers)
    ).status_code == 404
    listed = await api.get(url, headers=world.teacher.headers)
    assert listed.json()["items"] == []


async def test_teacher_edits_and_deletes_an_activity_work_stays(api: httpx.AsyncClient, world: World) -> None:
    school_class = world.classes[0]
    pupil = await world.add_student(school_class)
    activity = await add_activity(world, school_class, "Spelings")
    handed_in = await api.post(
        f"/api/activities/{activity.id}/submissions", json={"text": "cat, hat, mat"}, headers=pupil.headers
    )
    assert handed_in.status_code == 201
    edited = await api.patch(
        f"/api/activities/{activity.id}",
        json={"title": "Spellings", "due_at": None},
        headers=world.teacher.headers,
    )
    assert edited.status_code == 200 and edited.json()["title"] == "Spellings"
    assert edited.json()["due_at"] is None
    no_title = await api.patch(
        f"/api/activities/{activity.id}", json={"title": None}, headers=world.teacher.headers
    )
    assert no_title.status_code == 422
    windows = await api.patch(
        f"/api/activities/{activity.id}",
        json={"instructions": "Line one\r\nLine two"},
        headers=world.teacher.headers,
    )
    assert windows.json()["instructions"] == "Line one\nLine two"
    assert (
        await api.patch(f"/api/activities/{activity.id}", json={"title": "Nope"}, headers=pupil.headers)
    ).status_code == 403
    assert (await api.delete(f"/api/activities/{activity.id}", headers=pupil.headers)).status_code == 403
    deleted = await api.delete(f"/api/activities/{activity.id}", headers=world.teacher.headers)
    assert deleted.status_code == 200
    assert (await api.get(f"/api/activities/{activity.id}", headers=pupil.headers)).status_code == 404
    item = await api.get(f"/api/submissions/{handed_in.json()['id']}", headers=pupil.headers)
    assert item.status_code == 200
    assert item.json()["activity"] is None and item.json()["text"] == "cat, hat, mat"
    types = [e["type"] for e in await events_on(world.services, f"class:{school_class.id}")]
    assert types == ["activity.updated", "activity.updated", "activity.deleted"]


async def test_activity_list_tells_staff_what_awaits_and_pupils_their_own(
    api: httpx.AsyncClient, world: World
) -> None:
    school_class = world.classes[0]
    amir = await world.add_student(school_class)
    maya = await world.add_student(school_class, "Maya", "Ali")
    activity = await add_activity(world, school_class)
    await api.post(f"/api/activities/{activity.id}/submissions", json={"text": "A fox"}, headers=amir.headers)
    staff_view = (await api.get(f"/api/activities/{activity.id}", headers=world.teacher.headers)).json()
    assert staff_view["counts"] == {"pending": 1, "approved": 0, "returned": 0}
    amir_view = (await api.get(f"/api/activities/{activity.id}", headers=amir.headers)).json()
    assert amir_view["my_submission"]["status"] == "pending"
    assert "counts" not in amir_view
    maya_view = (await api.get(f"/api/activities/{activity.id}", headers=maya.headers)).json()
    assert maya_view["my_submission"] is None
