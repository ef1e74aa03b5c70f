"""P11 over the API: pupils are named by first name, with the surname initial only when a
classmate shares it; full surnames reach only staff and the pupil's own guardians."""

from __future__ import annotations

import httpx

from tests.factories import Actor, World


async def _class_with_two_amirs(world: World) -> tuple[Actor, Actor, Actor]:
    khan = await world.add_student(world.classes[0], "Amir", "Khan")
    smith = await world.add_student(world.classes[0], "Amir", "Smith")
    maya = await world.add_student(world.classes[0], "Maya", "Kowalczyk")
    return khan, smith, maya


async def test_p11_staff_see_initials_only_where_first_names_are_shared(
    api: httpx.AsyncClient, world: World
) -> None:
    khan, smith, maya = await _class_with_two_amirs(world)
    response = await api.get(f"/api/classes/{world.classes[0].id}/students", headers=world.teacher.headers)
    names = {item["id"]: item["name"] for item in response.json()["items"]}
    assert names == {khan.student.id: "Amir K.", smith.student.id: "Amir S.", maya.student.id: "Maya"}
    surnames = {item["last_name"] for item in response.json()["items"]}
    assert surnames == {"Khan", "Smith", "Kowalczyk"}  # staff see the full names


async def test_p11_a_pupil_sees_no_surname_not_even_their_own(api: httpx.AsyncClient, world: World) -> None:
    khan, _, maya = await _class_with_two_amirs(world)
    me = await api.get("/api/me", headers=khan.headers)
    assert me.json()["student"]["name"] == "Amir K."
    assert me.json()["name"] == "Amir"
    for actor, surname in ((khan, "Khan"), (maya, "Kowalczyk")):
        for path in ("/api/me", f"/api/students/{actor.student.id}", f"/api/classes/{world.classes[0].id}"):
            response = await api.get(path, headers=actor.headers)
            assert response.status_code == 200, path
            assert surname not in response.text and "last_name" not in response.text
    assert "Smith" not in (await api.get("/api/me", headers=khan.headers)).text


async def test_p11_guardians_see_their_own_childs_full_name_only(
    api: httpx.AsyncClient, world: World
) -> None:
    khan, smith, _ = await _class_with_two_amirs(world)
    parent = await world.add_parent(khan)
    me = (await api.get("/api/me", headers=parent.headers)).json()
    assert me["children"] == [
        {
            "id": khan.student.id,
            "name": "Amir K.",
            "class_id": world.classes[0].id,
            "avatar": {},
            "first_name": "Amir",
            "last_name": "Khan",
        }
    ]
    own = (await api.get(f"/api/students/{khan.student.id}", headers=parent.headers)).json()
    assert own["last_name"] == "Khan"
    assert "student_code" not in own and "la_care" not in own  # staff-only fields
    other = await api.get(f"/api/students/{smith.student.id}", headers=parent.headers)
    assert other.status_code == 404 and "Smith" not in other.text


async def test_p11_names_follow_the_class_as_it_changes(api: httpx.AsyncClient, world: World) -> None:
    khan, smith, _ = await _class_with_two_amirs(world)
    headers = world.admin.headers
    moved_to = await world.add_class("Year 5")
    response = await api.patch(
        f"/api/students/{smith.student.id}", json={"class_id": moved_to.id}, headers=headers
    )
    assert response.json()["name"] == "Amir"
    assert (await api.get(f"/api/students/{khan.student.id}", headers=headers)).json()["name"] == "Amir"
    newcomer = await api.post(
        f"/api/classes/{world.classes[0].id}/students",
        json={"first_name": "amir", "last_name": "ahmed"},
        headers=headers,
    )
    assert newcomer.json()["name"] == "amir A."
    assert (await api.get(f"/api/students/{khan.student.id}", headers=headers)).json()["name"] == "Amir K."
    await api.patch(
        f"/api/students/{newcomer.json()['id']}",
        json={"left_at": "2026-07-20T12:00:00+01:00"},
        headers=headers,
    )
    assert (await api.get(f"/api/students/{khan.student.id}", headers=headers)).json()["name"] == "Amir"


async def test_p11_the_guardian_request_queue_names_the_pupil_by_display_name(
    api: httpx.AsyncClient, world: World
) -> None:
    khan, _, _ = await _class_with_two_amirs(world)
    await world.add_parent(khan)
    await world.add_parent(khan)
    body = {
        "code": await world.add_invite(khan),
        "name": "Third",
        "email": f"third-{khan.student.id}@example.test",
        "password": "long-enough-pw",
        "language": "en",
        "accept_policy_version": 1,
    }
    assert (await api.post("/api/join", json=body)).status_code == 409
    items = (await api.get("/api/guardian-requests", headers=world.admin.headers)).json()["items"]
    assert items[0]["student"]["name"] == "Amir K."
