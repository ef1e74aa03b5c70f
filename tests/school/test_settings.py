"""The school's structure over the API: settings, classes, pupils, staff, skills, and who may change them."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from server.db.models import AuditEntry, Student
from server.services import Services
from tests.factories import PASSWORD, World, error_of


async def test_everyone_reads_the_school_with_its_school_ways(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    for actor in (world.admin, world.teacher, world.office, pupil, parent):
        response = await api.get("/api/school", headers=actor.headers)
        assert response.status_code == 200
        body = response.json()
        assert body["timezone"] == "Europe/London"
        assert body["working_hours"]["mon"] == ["08:00", "17:00"] and body["working_hours"]["sat"] is None
        assert [s["name"] for s in body["skills"]] == ["Kindness", "Teamwork"]
    skills = (await api.get("/api/skills", headers=parent.headers)).json()["items"]
    assert skills[0] == {"id": skills[0]["id"], "name": "Kindness", "icon": "heart", "points": 1}


async def test_admin_changes_school_settings(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    changes = {
        "timezone": "Europe/Warsaw",
        "working_hours": {"fri": ["08:00", "13:00"], "sat": ["09:00", "11:00"]},
        "closure_days": ["2026-12-25", "2026-12-24", "2026-12-25"],
        "allow_negative_points": True,
        "office_phone": "01632 960123",
        "office_email": "office@example.test",
        "name": "  Hillside Primary  ",
    }
    response = await api.patch("/api/school", json=changes, headers=world.admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "Europe/Warsaw"
    assert body["working_hours"]["fri"] == ["08:00", "13:00"]
    assert body["working_hours"]["mon"] == ["08:00", "17:00"]  # days not sent keep the default
    assert body["working_hours"]["sat"] == ["09:00", "11:00"]
    assert body["closure_days"] == ["2026-12-24", "2026-12-25"]
    assert body["name"] == "Hillside Primary"
    cleared = await api.patch("/api/school", json={"office_phone": None}, headers=world.admin.headers)
    assert cleared.json()["office_phone"] == ""
    async with services.read() as session:
        audit = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.school_id == world.school.id, AuditEntry.action == "school.updated"
            )
        )
    assert audit is not None and audit.actor_id == world.admin.id


@pytest.mark.parametrize(
    "changes",
    [
        {"timezone": "Mars/Olympus"},
        {"working_hours": {"mon": ["17:00", "08:00"]}},
        {"closure_days": ["2026-02-30"]},
        {"name": None},
        {"policy_text": None},
        {"language": "xx"},
    ],
)
async def test_bad_school_settings_are_refused(api: httpx.AsyncClient, world: World, changes: dict) -> None:  # type: ignore[type-arg]
    error_of(
        await api.patch("/api/school", json=changes, headers=world.admin.headers), 422, "validation_error"
    )
    assert (await api.get("/api/school", headers=world.admin.headers)).json()["timezone"] == "Europe/London"


async def test_only_admins_change_the_school(api: httpx.AsyncClient, world: World) -> None:
    for actor in (world.teacher, world.office):
        error_of(
            await api.patch("/api/school", json={"name": "Mine"}, headers=actor.headers), 403, "forbidden"
        )
        error_of(await api.post("/api/classes", json={"name": "Mine"}, headers=actor.headers), 403)
        error_of(await api.post("/api/staff", json={}, headers=actor.headers), 403)


async def test_classes_have_codes_for_staff_only(api: httpx.AsyncClient, world: World) -> None:
    created = await api.post("/api/classes", json={"name": "Year 4 Oak"}, headers=world.admin.headers)
    assert created.status_code == 201
    body = created.json()
    assert len(body["class_code"]) == 6 and body["name"] == "Year 4 Oak"
    listed = (await api.get("/api/classes", headers=world.teacher.headers)).json()["items"]
    assert [c["name"] for c in listed] == ["Class 1", "Year 4 Oak"]
    pupil = await world.add_student(world.classes[0])
    own = (await api.get("/api/classes", headers=pupil.headers)).json()["items"]
    assert own == [{"id": world.classes[0].id, "name": "Class 1"}]
    renamed = await api.patch(
        f"/api/classes/{body['id']}", json={"name": "Year 4 Ash"}, headers=world.admin.headers
    )
    assert renamed.json()["name"] == "Year 4 Ash"


async def test_a_class_with_pupils_cannot_be_deleted(api: httpx.AsyncClient, world: World) -> None:
    await world.add_student(world.classes[0])
    response = await api.delete(f"/api/classes/{world.classes[0].id}", headers=world.admin.headers)
    assert error_of(response, 409, "not_empty")["details"]["pupils"] == 1
    empty = await world.add_class("Empty")
    assert (await api.delete(f"/api/classes/{empty.id}", headers=world.admin.headers)).status_code == 200
    error_of(await api.get(f"/api/classes/{empty.id}", headers=world.admin.headers), 404)


async def test_admin_enrols_a_pupil_who_can_sign_in_with_the_codes(
    api: httpx.AsyncClient, world: World
) -> None:
    response = await api.post(
        f"/api/classes/{world.classes[0].id}/students",
        json={"first_name": " Zofia ", "last_name": "Nowak", "photo_consent": True},
        headers=world.admin.headers,
    )
    assert response.status_code == 201, response.text
    pupil = response.json()
    assert pupil["name"] == "Zofia" and pupil["photo_consent"] is True and pupil["la_care"] is False
    codes = {"class_code": world.classes[0].class_code, "student_code": pupil["student_code"]}
    signed_in = await api.post("/api/auth/student", json=codes)
    assert signed_in.status_code == 200
    assert signed_in.json()["user"]["role"] == "student"


async def test_moving_a_pupil_keeps_codes_unique_in_the_new_class(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    first = await world.add_student(world.classes[0], "Ava")
    other_class = await world.add_class("Year 2")
    second = await world.add_student(other_class, "Ben")
    assert first.student and second.student
    async with services.transaction() as session:  # the same code in both classes
        row = await session.get(Student, second.student.id)
        row.student_code = first.student.student_code  # type: ignore[union-attr]
    moved = await api.patch(
        f"/api/students/{second.student.id}",
        json={"class_id": world.classes[0].id},
        headers=world.admin.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["class_id"] == world.classes[0].id
    assert moved.json()["student_code"] != first.student.student_code


async def test_erasing_a_pupil_removes_them_and_their_links(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    assert pupil.student is not None
    error_of(await api.delete(f"/api/students/{pupil.student.id}", headers=world.teacher.headers), 403)
    assert (
        await api.delete(f"/api/students/{pupil.student.id}", headers=world.admin.headers)
    ).status_code == 200
    error_of(await api.get(f"/api/students/{pupil.student.id}", headers=world.admin.headers), 404)
    assert (await api.get("/api/me", headers=parent.headers)).json()["children"] == []
    error_of(await api.get("/api/me", headers=pupil.headers), 401)


async def test_admin_manages_staff_accounts(api: httpx.AsyncClient, world: World) -> None:
    email = f"new.teacher.{world.school.id}@example.test"
    body = {
        "name": "Mr New",
        "email": email.upper(),
        "role": "teacher",
        "password": "a-long-password",
        "class_ids": [world.classes[0].id],
    }
    created = await api.post("/api/staff", json=body, headers=world.admin.headers)
    assert created.status_code == 201, created.text
    staff = created.json()
    assert staff["email"] == email and staff["class_ids"] == [world.classes[0].id]
    error_of(await api.post("/api/staff", json=body, headers=world.admin.headers), 409, "already_exists")
    login = await api.post("/api/auth/login", json={"email": email, "password": "a-long-password"})
    assert login.status_code == 200
    listed = (await api.get("/api/staff", headers=world.teacher.headers)).json()["items"]
    assert all("email" not in item for item in listed)  # only admins see staff emails
    assert "email" in (await api.get("/api/staff", headers=world.admin.headers)).json()["items"][0]
    patched = await api.patch(
        f"/api/staff/{staff['id']}", json={"role": "office", "class_ids": []}, headers=world.admin.headers
    )
    assert patched.json()["role"] == "office" and patched.json()["class_ids"] == []


async def test_an_admin_password_reset_signs_the_old_holder_out(api: httpx.AsyncClient, world: World) -> None:
    response = await api.patch(
        f"/api/staff/{world.office.id}", json={"password": "reset-by-the-head"}, headers=world.admin.headers
    )
    assert response.status_code == 200
    error_of(await api.get("/api/me", headers=world.office.headers), 401)
    login = await api.post(
        "/api/auth/login", json={"email": world.office.user.email, "password": "reset-by-the-head"}
    )
    assert login.status_code == 200
    assert (
        await api.post("/api/auth/login", json={"email": world.office.user.email, "password": PASSWORD})
    ).status_code == 401


async def test_the_last_admin_cannot_be_demoted(api: httpx.AsyncClient, world: World) -> None:
    response = await api.patch(
        f"/api/staff/{world.admin.id}", json={"role": "teacher"}, headers=world.admin.headers
    )
    error_of(response, 409, "last_admin")
    other = await world.add_user("admin")
    demoted = await api.patch(f"/api/staff/{other.id}", json={"role": "teacher"}, headers=world.admin.headers)
    assert demoted.status_code == 200


async def test_staff_endpoints_do_not_reach_parents_or_pupils(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    error_of(await api.patch(f"/api/staff/{parent.id}", json={"name": "X"}, headers=world.admin.headers), 404)
    for actor in (pupil, parent):
        error_of(await api.get("/api/staff", headers=actor.headers), 403)
        error_of(await api.get(f"/api/classes/{world.classes[0].id}/students", headers=actor.headers), 403)
        error_of(
            await api.post("/api/invites", json={"student_id": pupil.student.id}, headers=actor.headers), 403
        )  # type: ignore[union-attr]


async def test_health_and_front_page_answer_without_signing_in(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200 and "database" in ready.json()["checks"]
    front = await api.get("/")
    assert front.status_code == 200
    error_of(await api.get("/api/nothing-here"), 404, "not_found")
    assert front.headers["x-content-type-options"] == "nosniff"
