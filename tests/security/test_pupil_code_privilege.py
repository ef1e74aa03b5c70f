"""A pupil's login code is their whole sign-in: only admins and the staff of the pupil's class see it.

Other teachers and the office still see the pupil (name, consent flags, class), just
never the code, on any path. Admins can give a pupil a new code: the old one stops
working at once and the pupil's sessions end.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from server.db.models import AuditEntry, SchoolClass, StaffClass, Student
from server.services import Services
from tests.factories import Actor, World, error_of
from tests.live.client import LiveClient
from tests.live.conftest import Site, memory_site  # noqa: F401  (the live test's fixture: one real server)

CODE = "QZ7XW4"  # distinctive, so a search of whole replies cannot match by chance


@pytest.fixture
async def oak(world: World, services: Services) -> tuple[SchoolClass, Actor, Actor]:
    """Class 1 (``world.teacher``'s) with a pupil whose code is ``CODE``; a teacher of another class."""
    pupil = await world.add_student(world.classes[0], "Zofia", "Nowak")
    assert pupil.student is not None
    async with services.transaction() as session:
        row = await session.get(Student, pupil.student.id)
        assert row is not None
        row.student_code = CODE
    ash = await world.add_class("Year 2 Ash")
    other_teacher = await world.add_user("teacher", "Mr Green")
    async with services.transaction() as session:
        await session.execute(StaffClass.__table__.delete().where(StaffClass.class_id == ash.id))
        session.add(StaffClass(user_id=other_teacher.id, class_id=ash.id))
    return world.classes[0], pupil, other_teacher


async def test_admins_and_the_class_staff_see_the_pupil_code(
    api: httpx.AsyncClient, world: World, oak: tuple[SchoolClass, Actor, Actor]
) -> None:
    school_class, pupil, _ = oak
    assert pupil.student is not None
    for actor in (world.admin, world.teacher):
        listed = (await api.get(f"/api/classes/{school_class.id}/students", headers=actor.headers)).json()
        assert [p["student_code"] for p in listed["items"]] == [CODE]
        one = (await api.get(f"/api/students/{pupil.student.id}", headers=actor.headers)).json()
        assert one["student_code"] == CODE


async def test_other_teachers_and_the_office_get_the_pupil_without_the_code_on_every_path(
    api: httpx.AsyncClient, world: World, oak: tuple[SchoolClass, Actor, Actor]
) -> None:
    school_class, pupil, other_teacher = oak
    assert pupil.student is not None
    for actor in (other_teacher, world.office):
        listed = await api.get(f"/api/classes/{school_class.id}/students", headers=actor.headers)
        assert listed.status_code == 200
        (item,) = listed.json()["items"]
        assert item["id"] == pupil.student.id and item["last_name"] == "Nowak"
        assert "photo_consent" in item and "student_code" not in item
        one = await api.get(f"/api/students/{pupil.student.id}", headers=actor.headers)
        assert one.status_code == 200 and "student_code" not in one.json()
        for path in (
            f"/api/classes/{school_class.id}/students",
            f"/api/students/{pupil.student.id}",
            f"/api/classes/{school_class.id}/points",
            "/api/me",
            "/api/me/export",
        ):
            reply = await api.get(path, headers=actor.headers)
            assert reply.status_code == 200, (path, reply.text[:200])
            assert CODE not in reply.text, f"{path} shows another class's pupil code"


async def test_a_teacher_sees_the_codes_of_their_own_class_only(
    api: httpx.AsyncClient, world: World, oak: tuple[SchoolClass, Actor, Actor]
) -> None:
    _, _, other_teacher = oak
    ash = world.classes[-1]
    mine = await world.add_student(ash, "Ben", "Okafor")
    assert mine.student is not None
    listed = (await api.get(f"/api/classes/{ash.id}/students", headers=other_teacher.headers)).json()
    assert [p["student_code"] for p in listed["items"]] == [mine.student.student_code]
    listed = (await api.get(f"/api/classes/{ash.id}/students", headers=world.teacher.headers)).json()
    assert all("student_code" not in p for p in listed["items"])


async def test_families_and_pupils_never_see_a_pupil_code(
    api: httpx.AsyncClient, world: World, oak: tuple[SchoolClass, Actor, Actor]
) -> None:
    _, pupil, _ = oak
    assert pupil.student is not None
    parent = await world.add_parent(pupil)
    for actor in (parent, pupil):
        for path in (f"/api/students/{pupil.student.id}", "/api/me", "/api/me/export"):
            reply = await api.get(path, headers=actor.headers)
            assert reply.status_code == 200, (path, reply.text[:200])
            assert CODE not in reply.text, path


async def test_admin_rotates_a_pupil_code_and_the_old_one_and_its_sessions_end(
    api: httpx.AsyncClient, world: World, services: Services, oak: tuple[SchoolClass, Actor, Actor]
) -> None:
    school_class, pupil, _ = oak
    assert pupil.student is not None
    signed_in = await api.post(
        "/api/auth/student", json={"class_code": school_class.class_code, "student_code": CODE}
    )
    assert signed_in.status_code == 200
    other_session = {"Authorization": f"Bearer {signed_in.json()['token']}"}

    rotated = await api.post(f"/api/students/{pupil.student.id}/code", headers=world.admin.headers)
    assert rotated.status_code == 200, rotated.text
    new_code = rotated.json()["student_code"]
    assert rotated.json()["id"] == pupil.student.id
    assert new_code != CODE and len(new_code) == 6

    for headers in (pupil.headers, other_session):
        error_of(await api.get("/api/me", headers=headers), 401, "unauthenticated")
    old = await api.post(
        "/api/auth/student", json={"class_code": school_class.class_code, "student_code": CODE}
    )
    assert old.status_code == 401
    new = await api.post(
        "/api/auth/student", json={"class_code": school_class.class_code, "student_code": new_code}
    )
    assert new.status_code == 200
    listed = (await api.get(f"/api/classes/{school_class.id}/students", headers=world.teacher.headers)).json()
    assert [p["student_code"] for p in listed["items"]] == [new_code]

    async with services.read() as session:
        entry = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.school_id == world.school.id, AuditEntry.action == "student.code_rotated"
            )
        )
    assert entry is not None
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        world.admin.id,
        "student",
        pupil.student.id,
    )
    assert CODE not in str(entry.details) and new_code not in str(entry.details)


async def test_only_admins_rotate_pupil_codes(
    api: httpx.AsyncClient, world: World, oak: tuple[SchoolClass, Actor, Actor]
) -> None:
    school_class, pupil, other_teacher = oak
    assert pupil.student is not None
    parent = await world.add_parent(pupil)
    for actor in (world.teacher, other_teacher, world.office, parent, pupil):
        error_of(
            await api.post(f"/api/students/{pupil.student.id}/code", headers=actor.headers), 403, "forbidden"
        )
    error_of(await api.post("/api/students/999999999/code", headers=world.admin.headers), 404, "not_found")
    still = await api.post(
        "/api/auth/student", json={"class_code": school_class.class_code, "student_code": CODE}
    )
    assert still.status_code == 200


@pytest.mark.live
async def test_rotating_a_code_closes_the_pupils_live_connections(memory_site: Site) -> None:  # noqa: F811
    world = await memory_site.world()
    pupil = await world.add_student(world.classes[0])
    assert pupil.student is not None
    server = memory_site.servers[0]
    async with LiveClient.connect(server.ws_url, pupil.token) as live:
        assert (await live.subscribe(f"class:{world.classes[0].id}"))["op"] == "subbed"
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            rotated = await http.post(f"/api/students/{pupil.student.id}/code", headers=world.admin.headers)
        assert rotated.status_code == 200, rotated.text
        assert await live.closed_with(deadline=2) == 4003
