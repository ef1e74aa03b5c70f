"""Absence reports (P8): to the office, its day list and CSV, the acknowledgement to the family."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from server.events import validate_event
from tests.factories import Actor, World, error_of, events_on

REPORT = {"from": "2026-03-09", "to": "2026-03-10", "reason": "illness", "note": "Tummy bug, back Wednesday."}


async def report(api: httpx.AsyncClient, parent: Actor, pupil: Actor, **fields: Any) -> httpx.Response:
    assert pupil.student is not None
    return await api.post(
        "/api/absences", json={**REPORT, "student_id": pupil.student.id, **fields}, headers=parent.headers
    )


async def test_p8_absence_report_goes_straight_to_the_office_live(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil, parent = await world.add_family("Maya")
    reply = await report(api, parent, pupil)
    assert reply.status_code == 201, reply.text
    absence = reply.json()
    assert absence["student"]["name"] == "Maya" and absence["reason"] == "illness"
    assert (absence["from"], absence["to"]) == ("2026-03-09", "2026-03-10")
    assert absence["acknowledged_at"] is None and absence["reported_by"]["id"] == parent.id
    (live,) = await events_on(world.services, f"school:{world.school.id}:staff", "absence.reported")
    validate_event(live["type"], live["data"])
    assert live["data"]["absence"]["id"] == absence["id"]


async def test_a_parent_reporting_for_a_child_not_theirs_gets_404(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil, _ = await world.add_family("Maya")
    _, stranger = await world.add_family("Leo")
    error_of(await report(api, stranger, pupil), 404, "not_found")
    error_of(await report(api, stranger, pupil, student_id=987654321), 404, "not_found")
    error_of(await report(api, world.teacher, pupil), 403, "forbidden")
    assert await events_on(world.services, f"school:{world.school.id}:staff", "absence.reported") == []


async def test_bad_reports_are_refused(api: httpx.AsyncClient, world: World) -> None:
    pupil, parent = await world.add_family()
    for fields in (
        {"reason": "holiday"},
        {"from": "2026-03-10", "to": "2026-03-09"},
        {"from": "2026-01-01", "to": "2026-06-01"},
        {"from": "soon"},
        {"note": "x" * 2000},
    ):
        error_of(await report(api, parent, pupil, **fields), 422, "validation_error")


async def test_office_lists_a_days_absences_and_exports_them_as_csv(
    api: httpx.AsyncClient, world: World
) -> None:
    other = await world.add_class("Year 2 Ash")
    maya, maya_parent = await world.add_family("Maya")
    leo, leo_parent = await world.add_family("Leo", school_class=other)
    await report(api, maya_parent, maya)
    await report(
        api,
        leo_parent,
        leo,
        reason="medical",
        note="=HYPERLINK(1)",
        **{"from": "2026-03-10", "to": "2026-03-10"},
    )
    monday = await api.get("/api/absences?date=2026-03-09", headers=world.office.headers)
    assert [a["student"]["name"] for a in monday.json()["items"]] == ["Maya"]
    tuesday = await api.get("/api/absences?date=2026-03-10", headers=world.admin.headers)
    assert sorted(a["student"]["name"] for a in tuesday.json()["items"]) == ["Leo", "Maya"]
    exported = await api.get("/api/absences?date=2026-03-10&format=csv", headers=world.office.headers)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "absences-2026-03-10.csv" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["first_name"]: r["reason"] for r in rows} == {"Maya": "illness", "Leo": "medical"}
    assert next(r for r in rows if r["first_name"] == "Leo")["note"] == "'=HYPERLINK(1)"  # no formula
    # A teacher reads their own classes' absences only; families read none.
    mine = await api.get("/api/absences?date=2026-03-10", headers=world.teacher.headers)
    assert {a["class"]["id"] for a in mine.json()["items"]} == {
        world.classes[0].id,
        other.id,
    }  # assigned to both
    colleague = await world.add_user("teacher", "Mr Brown")
    assert (await api.get("/api/absences?date=2026-03-10", headers=colleague.headers)).json()["items"] == []
    error_of(await api.get("/api/absences?date=2026-03-10", headers=maya_parent.headers), 403, "forbidden")
    error_of(await api.get("/api/absences?date=tomorrow", headers=world.office.headers), 400, "bad_request")
    error_of(await api.get("/api/absences?format=pdf", headers=world.office.headers), 400, "bad_request")


async def test_office_acknowledges_and_the_guardian_is_told(api: httpx.AsyncClient, world: World) -> None:
    pupil, parent = await world.add_family("Maya")
    absence = (await report(api, parent, pupil)).json()
    path = f"/api/absences/{absence['id']}/acknowledge"
    error_of(await api.post(path, headers=world.teacher.headers), 403, "forbidden")
    error_of(await api.post(path, headers=parent.headers), 403, "forbidden")
    done = await api.post(path, headers=world.office.headers)
    assert done.status_code == 200 and done.json()["acknowledged_by"]["id"] == world.office.id
    assert (await api.post(path, headers=world.office.headers)).status_code == 200  # idempotent
    (told,) = await events_on(world.services, f"user:{parent.id}", "absence.acknowledged")
    validate_event(told["type"], told["data"])
    error_of(await api.post("/api/absences/987654321/acknowledge", headers=world.office.headers), 404)


async def test_a_message_about_an_absence_offers_the_form(api: httpx.AsyncClient, world: World) -> None:
    pupil, parent = await world.add_family("Maya")
    assert pupil.student is not None
    started = await api.post(
        "/api/conversations",
        json={"student_id": pupil.student.id, "staff_id": world.teacher.id},
        headers=parent.headers,
    )
    assert started.status_code in (200, 201), started.text
    path = f"/api/conversations/{started.json()['id']}/messages"
    sent = await api.post(
        path, json={"text": "Maya is off school today, she is absent."}, headers=parent.headers
    )
    assert sent.status_code == 201, sent.text
    listed = (await api.get(path, headers=parent.headers)).json()["items"]
    notices = [m for m in listed if m["system"]]
    assert "absence_report" in [m["offer"] for m in notices]  # (a quiet-hours notice may come too)
    assert all(m["offer"] is None for m in listed if not m["system"])
