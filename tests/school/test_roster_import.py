"""Roster import (API.md "Setting up a school"): preview, confirm, idempotence, changes, broken rows.

Every test imports a realistic two-form-entry primary (14 classes, 420 pupils, 700 guardians)
from :mod:`tests.school.roster_files`, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from server.db.models import AuditEntry, GuardianContact, SchoolClass, Student
from server.services import Services
from tests.factories import World, error_of
from tests.school import roster_files
from tests.school.roster_files import SHAPES, Pupil

PUPILS = roster_files.school()
GUARDIANS = roster_files.guardian_count(PUPILS)


async def _preview(
    api: httpx.AsyncClient, world: World, data: bytes, mode: str = "partial", name: str = "roster.csv"
) -> dict[str, Any]:
    reply = await api.post(
        f"/api/roster/import?mode={mode}",
        files={"file": (name, data, "text/csv")},
        headers=world.admin.headers,
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def _confirm(api: httpx.AsyncClient, world: World, import_id: int) -> dict[str, Any]:
    reply = await api.post(f"/api/roster/import/{import_id}/confirm", headers=world.admin.headers)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def _roster(services: Services, world: World) -> dict[str, Any]:
    """The school's classes, current pupils by UPN-less identity, leavers and contacts, from the database."""
    async with services.read() as session:
        classes = {
            c.id: c.name
            for c in (
                await session.scalars(select(SchoolClass).where(SchoolClass.school_id == world.school.id))
            )
        }
        pupils = list(
            (await session.scalars(select(Student).where(Student.school_id == world.school.id))).all()
        )
        contacts = await session.scalar(
            select(func.count())
            .select_from(GuardianContact)
            .join(Student, Student.id == GuardianContact.student_id)
            .where(Student.school_id == world.school.id)
        )
        audits = list(
            (
                await session.scalars(
                    select(AuditEntry.action).where(AuditEntry.school_id == world.school.id)
                )
            ).all()
        )
    return {
        "classes": classes,
        "current": {
            (p.first_name, p.last_name): (classes[p.class_id], p) for p in pupils if p.left_at is None
        },
        "left": {(p.first_name, p.last_name) for p in pupils if p.left_at is not None},
        "contacts": contacts,
        "audits": audits,
    }


def _fresh_preview(creates: int, invites: int, classes: int = 14) -> dict[str, Any]:
    return {
        "classes": {"create": classes},
        "students": {"create": creates, "update": 0, "move": 0, "leave": 0, "unchanged": 0},
        "guardians": {"invite": invites},
        "errors": [],
    }


@pytest.fixture
async def empty_school(services: Services) -> World:
    from tests.factories import make_world

    return await make_world(services, classes=0)


@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_each_shape_previews_exactly_then_creates_exactly_that_and_a_second_import_changes_nothing(
    api: httpx.AsyncClient, services: Services, empty_school: World, shape: str
) -> None:
    world = empty_school
    data = SHAPES[shape](PUPILS)
    before = await _roster(services, world)

    first = await _preview(api, world, data)
    assert first["preview"] == _fresh_preview(420, GUARDIANS)
    assert GUARDIANS == 700
    assert await _roster(services, world) == before  # a preview writes nothing of the roster

    applied = await _confirm(api, world, first["import_id"])
    assert applied["preview"] == first["preview"]
    after = await _roster(services, world)
    assert sorted(after["classes"].values()) == sorted(roster_files.CLASSES)
    assert {k: v[0] for k, v in after["current"].items()} == {
        (p.first_name, p.last_name): p.class_name for p in PUPILS
    }
    by_name = {(p.first_name, p.last_name): p for p in PUPILS}
    for key, (_, row) in after["current"].items():
        assert (row.photo_consent, row.la_care) == (by_name[key].photo_consent, by_name[key].la_care), key
    assert after["contacts"] == 700
    assert after["audits"].count("student.created") == 420
    assert after["audits"].count("class.created") == 14
    assert after["audits"].count("roster.imported") == 1

    again = await _confirm(api, world, first["import_id"])  # confirming twice applies once
    assert again["preview"] == first["preview"]
    assert (await _roster(services, world))["audits"].count("roster.imported") == 1

    second = await _preview(api, world, data, mode="full")
    assert second["preview"] == {
        "classes": {"create": 0},
        "students": {"create": 0, "update": 0, "move": 0, "leave": 0, "unchanged": 420},
        "guardians": {"invite": 0},
        "errors": [],
    }
    await _confirm(api, world, second["import_id"])
    final = await _roster(services, world)
    assert final["audits"].count("student.updated") == 0
    assert len(final["current"]) == 420 and final["contacts"] == 700


async def test_a_changed_file_moves_renames_updates_and_marks_leavers_through_the_api_rules(
    api: httpx.AsyncClient, services: Services, empty_school: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = empty_school
    first = await _preview(api, world, roster_files.sims_csv(PUPILS))
    await _confirm(api, world, first["import_id"])

    changed: list[Pupil] = list(PUPILS)
    movers = [0, 31, 62, 95, 130]  # five pupils change class
    for index in movers:
        target = roster_files.CLASSES[(roster_files.CLASSES.index(changed[index].class_name) + 1) % 14]
        changed[index] = roster_files.replace(changed[index], class_name=target)
    renamed = [3, 40]  # two change surname: the same pupils by their admission number
    for index in renamed:
        changed[index] = roster_files.renamed(changed[index], "Fairweather")
    flipped = [11, 12, 13]  # consent changes
    for index in flipped:
        changed[index] = roster_files.replace(changed[index], photo_consent=not changed[index].photo_consent)
    leavers = [changed[i] for i in (200, 201, 202, 203)]
    changed = [p for p in changed if p not in leavers]

    after_first = await _roster(services, world)
    family_of_leaver = await world.add_user("parent")
    leaver_row = after_first["current"][(leavers[0].first_name, leavers[0].last_name)][1]
    from server.db.models import GuardianLink

    async with services.transaction() as session:
        session.add(GuardianLink(guardian_id=family_of_leaver.id, student_id=leaver_row.id))
    assert (
        await api.get(f"/api/students/{leaver_row.id}", headers=family_of_leaver.headers)
    ).status_code == 200

    partial = await _preview(api, world, roster_files.sims_csv(changed))
    assert partial["preview"]["students"] == {
        "create": 0, "update": 5, "move": 5, "leave": 0, "unchanged": 406,
    }  # fmt: skip
    full = await _preview(api, world, roster_files.sims_csv(changed), mode="full")
    assert full["preview"] == {
        "classes": {"create": 0},
        "students": {"create": 0, "update": 5, "move": 5, "leave": 4, "unchanged": 406},
        "guardians": {"invite": 0},
        "errors": [],
    }
    checked: list[int] = []
    original = services.access_changed

    async def recording(user_id: int) -> None:
        checked.append(user_id)
        await original(user_id)

    monkeypatch.setattr(services, "access_changed", recording)
    stale = await api.post(f"/api/roster/import/{partial['import_id']}/confirm", headers=world.admin.headers)
    assert stale.status_code == 200  # the partial preview is still current: nothing has changed yet
    error_of(
        await api.post(f"/api/roster/import/{full['import_id']}/confirm", headers=world.admin.headers),
        409,
        "stale",
    )
    full = await _preview(api, world, roster_files.sims_csv(changed), mode="full")
    assert full["preview"]["students"] == {"create": 0, "update": 0, "move": 0, "leave": 4, "unchanged": 416}
    await _confirm(api, world, full["import_id"])

    final = await _roster(services, world)
    for index in movers:
        assert (
            final["current"][(changed[index].first_name, changed[index].last_name)][0]
            == changed[index].class_name
        )
    for index in renamed:
        assert (PUPILS[index].first_name, "Fairweather") in final["current"]
        assert (PUPILS[index].first_name, PUPILS[index].last_name) not in final["current"]
    assert final["left"] == {(p.first_name, p.last_name) for p in leavers}
    assert len(final["current"]) == 416
    assert family_of_leaver.id in checked and leaver_row.user_id in checked
    assert (
        await api.get(f"/api/students/{leaver_row.id}", headers=family_of_leaver.headers)
    ).status_code in (
        403,
        404,
    )


def _with_broken_rows(pupils: list[Pupil]) -> tuple[bytes, list[tuple[int, str]]]:
    """The template with six unusable rows slipped in; returns the file and (row, reason word) pairs."""
    rows = roster_files.template_rows(pupils)
    broken = {
        10: ["Year 1 Oak", "Brokenlast", "", "yes", "no", "", "", "", "", "", ""],
        50: ["Year 2 Ash", "Perhaps", "Consent", "maybe", "no", "", "", "", "", "", ""],
        120: ["Year 3 Ash", "Bad", "Email", "yes", "no", "Pat Email", "not-an-address", "en", "", "", ""],
        200: ["Year 4 Oak", "Unknown", "Tongue", "y", "n", "Kim T", "k@example.test", "Klingon", "", "", ""],
        300: ["", "No", "Class", "yes", "no", "", "", "", "", "", ""],
        400: rows[5],  # the same pupil as on row 5
    }  # fmt: skip
    numbered: list[tuple[int, str]] = []
    out = [rows[0]]
    source = iter(rows[1:])
    for number in range(2, len(rows) + len(broken) + 1):
        if number in broken:
            out.append(broken[number])
            numbered.append((number, " ".join(broken[number][1:3])))
        else:
            out.append(next(source))
    text = "".join(",".join(roster_files._quote(c, ",") for c in row) + "\n" for row in out)
    return text.encode(), numbered


async def test_broken_rows_are_reported_with_their_row_numbers_and_nothing_of_them_is_written(
    api: httpx.AsyncClient, services: Services, empty_school: World
) -> None:
    world = empty_school
    data, broken = _with_broken_rows(PUPILS)
    previewed = await _preview(api, world, data, mode="full")
    errors = previewed["preview"]["errors"]
    assert [e["row"] for e in errors] == [row for row, _ in broken]
    assert all(e["message"] for e in errors)
    assert previewed["preview"]["students"]["create"] == 420
    await _confirm(api, world, previewed["import_id"])
    final = await _roster(services, world)
    assert len(final["current"]) == 420
    names = {f"{first} {last}" for first, last in final["current"]}
    for _, who in broken[:5]:
        assert who not in names
    assert final["contacts"] == 700


async def test_unreadable_files_and_non_admins_get_clear_errors_and_change_nothing(
    api: httpx.AsyncClient, world: World
) -> None:
    def post(data: bytes, headers: dict[str, str], mode: str = "partial") -> Any:
        return api.post(f"/api/roster/import?mode={mode}", files={"file": ("r.csv", data)}, headers=headers)

    error_of(await post(b"", world.admin.headers), 422, "validation_error")
    error_of(await post(b"colour,size\nred,big\n", world.admin.headers), 422, "validation_error")
    error_of(await post(b"\x00\x01\x02\x81\x8d", world.admin.headers), 422, "validation_error")
    error_of(await post(roster_files.homeroom_csv(PUPILS[:3]), world.admin.headers, "sideways"), 422)
    error_of(await post(roster_files.homeroom_csv(PUPILS[:3]), world.teacher.headers), 403, "forbidden")
    error_of(
        await api.post("/api/roster/import/999999/confirm", headers=world.admin.headers), 404, "not_found"
    )
    error_of(await api.post("/api/roster/import", json={"file": "x"}, headers=world.admin.headers), 422)


async def test_imported_contacts_go_with_an_erased_pupil_and_old_previews_are_purged(
    api: httpx.AsyncClient, services: Services, empty_school: World, clock: Any
) -> None:
    from datetime import timedelta

    from server.db.models import RosterImport
    from server.privacy.retention import run_retention
    from server.timeutil import utcnow

    world = empty_school
    previewed = await _preview(api, world, roster_files.homeroom_csv(PUPILS[:2]))
    await _confirm(api, world, previewed["import_id"])
    pupils = (await _roster(services, world))["current"]
    first = next(iter(pupils.values()))[1]
    assert (await api.delete(f"/api/students/{first.id}", headers=world.admin.headers)).status_code == 200
    async with services.read() as session:
        left = await session.scalar(
            select(func.count()).select_from(GuardianContact).where(GuardianContact.student_id == first.id)
        )
    assert left == 0
    clock.set(utcnow() + timedelta(days=2))
    await run_retention(services)
    async with services.read() as session:
        assert await session.get(RosterImport, previewed["import_id"]) is None
