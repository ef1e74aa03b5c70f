"""Running the school from the web client, on a laptop and on a phone.

An admin creates a class, adds pupils, sets photo consent, makes an invite code, prints the
letters and cards, imports a roster (preview, then confirm) and reads the reach page; the
office answers a message routed to it and marks it done; the audit log filters by action.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.server import PASSWORD, Person, School, Server

SIZES = {"laptop": DESKTOP, "phone": PHONE}


def _dialog_button(page: Any, name: str) -> None:
    page.locator("dialog[open]").get_by_role("button", name=name, exact=True).click()


def _roster(tag: str) -> bytes:
    """A small Arbor-style export (semicolons, BOM): two classes, five pupils, one without a surname."""
    rows = [
        "UPN;First Name;Last Name;Registration Group;Photograph Permission;Looked After;Parent 1 Name;"
        "Parent 1 Email;Parent 1 Language",
        f"A1{tag};Hana;Begum;Lime {tag};true;0;Rina Begum;rina.{tag}@example.test;Bengali",
        f"A2{tag};Kacper;Nowak;Lime {tag};true;0;Anna Nowak;anna.{tag}@example.test;Polish",
        f"A3{tag};Ibrahim;Hassan;Lime {tag};false;0;;;",
        f"A4{tag};Ruby;;Birch {tag};true;0;;;",
        f"A5{tag};Theo;Clarke;Birch {tag};true;1;Sam Clarke;sam.{tag}@example.test;English",
    ]
    return ("\n".join(rows) + "\n").encode("utf-8-sig")


@pytest.mark.parametrize("size", sorted(SIZES))
def test_an_admin_sets_up_a_class_prints_imports_a_roster_and_sees_reach(
    browsers, school: School, size: str, shoot
):
    tag = secrets.token_hex(3)
    page = browsers.page(school.admin, size=SIZES[size], path="/#/admin/classes")
    page.get_by_label("New class").fill(f"Year 3 Rowan {tag}")
    page.get_by_role("button", name="Add class").click()
    page.wait_for_selector(f"h1:has-text('Year 3 Rowan {tag}')")

    for first, last in (("Ava", "Lewis"), ("Omar", "Farouk")):
        page.get_by_label("First name").fill(first)
        page.get_by_label("Last name").fill(last)
        page.get_by_role("button", name="Add pupil").click()
        page.wait_for_selector(f"tr[data-student-id] >> text={first}")

    # Photo consent, with what it means spelled out before it changes.
    ava = page.locator("tr[data-student-id]", has_text="Ava")
    ava.locator("[data-switch='photo_consent']").check()
    assert "can be shared" in page.locator("dialog[open]").inner_text()
    _dialog_button(page, "Change")
    page.wait_for_selector(".toast >> text=Saved")
    assert ava.locator("[data-switch='photo_consent']").is_checked()
    shoot(page, f"admin-class-{size}")

    # An invite code for Ava's family, shown once.
    ava.get_by_role("button", name="Family and codes").click()
    page.locator("dialog[open]").get_by_role("button", name="Make an invite code").click()
    code = page.locator("[data-invite-code]").get_attribute("data-invite-code")
    assert code and len(code) == 11
    page.wait_for_selector("dialog[open] [data-invite-id][data-status='open']")
    page.locator("dialog[open] .dialog-close").click()

    # Printing: the class's letters and login cards are PDFs, fetched with the admin's session.
    for kind in ("letters", "cards"):
        href = page.locator(f"[data-print='{kind}']").get_attribute("href")
        reply = page.request.get(href)
        assert reply.status == 200 and reply.headers["content-type"] == "application/pdf"
        assert reply.body().startswith(b"%PDF")

    # Roster import: preview, then confirm.
    page.goto("/#/admin/classes/import")
    page.get_by_label("Roster file (CSV)").set_input_files(
        files=[{"name": "arbor.csv", "mimeType": "text/csv", "buffer": _roster(tag)}]
    )
    page.get_by_role("button", name="Check the file").click()
    preview = page.locator(".import-preview")
    preview.wait_for()
    counts = {
        key: preview.locator(f"[data-count='{key}'] .count").inner_text()
        for key in ("classes.create", "students.create", "students.leave", "guardians.invite")
    }
    assert counts == {
        "classes.create": "2",
        "students.create": "4",
        "students.leave": "0",
        "guardians.invite": "3",
    }
    assert preview.locator("[data-row='5']").count() == 1  # Ruby has no surname: row 5, not imported
    shoot(page, f"admin-import-{size}")
    page.get_by_role("button", name="Import now").click()
    page.wait_for_selector("[data-import-done]")
    assert "4 new pupils" in page.locator("[data-import-done]").inner_text()

    # Reach: the imported class, with nobody joined yet.
    page.goto("/#/reach")
    lime = page.locator(".reach-class", has_text=f"Lime {tag}")
    lime.wait_for()
    assert lime.locator("[data-reach='pupils'] td").inner_text() == "3"
    assert lime.locator("[data-reach='none'] td").inner_text() == "3"
    assert "Bengali" in lime.inner_text() or "Polish" in lime.inner_text()  # no engine for these
    shoot(page, f"admin-reach-{size}")
    csv_reply = page.request.get("/api/reach.csv")
    assert csv_reply.status == 200 and f"Lime {tag}" in csv_reply.text()


@pytest.fixture
def open_all_day(server: Server, school: School) -> Iterator[None]:
    """Working hours all day, every day (messages are not held for quiet time), put back afterwards."""
    before = server.call("GET", "/api/school", school.admin)["working_hours"]
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    server.call(
        "PATCH",
        "/api/school",
        school.admin,
        json={"working_hours": {key: ["00:00", "23:59"] for key in days}},
    )
    yield
    server.call("PATCH", "/api/school", school.admin, json={"working_hours": before})


def _office_person(server: Server, school: School) -> Person:
    email = f"office-{secrets.token_hex(3)}@riverside.test"
    row = server.call(
        "POST",
        "/api/staff",
        school.admin,
        json={"name": "Mrs Doyle", "email": email, "role": "office", "password": PASSWORD, "class_ids": []},
    )
    person = server.login(email)
    person.id = row["id"]
    return person


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_office_replies_to_a_routed_message_and_marks_it_done(
    browsers, server: Server, school: School, size: str, open_all_day: None, shoot
):
    office = _office_person(server, school)
    parent = school.parents["en"]
    conv = server.call(
        "POST",
        "/api/conversations",
        parent,
        json={"student_id": school.pupils["Amir"]["id"], "staff_id": school.teacher.id},
    )
    note = secrets.token_hex(2)
    sent = server.call(
        "POST",
        f"/api/conversations/{conv['id']}/messages",
        parent,
        json={"text": f"Amir is off sick today with a temperature {note}"},
    )
    page = browsers.page(office, size=SIZES[size], path="/#/office")
    card = page.locator(f"[data-office-id='{sent['id']}']")
    card.wait_for()
    answer = f"Thank you, we have recorded the absence {note}."
    card.get_by_label("Reply to Sarah Khan").fill(answer)
    card.get_by_role("button", name="Reply as the office").click()
    page.wait_for_selector(".toast >> text=Reply sent")
    card.get_by_role("button", name="Mark done").click()
    card.locator("[data-office-done]").wait_for()
    shoot(page, f"office-done-{size}")

    # The class teacher sees both the office's reply and that it was handled, in the family's thread.
    teacher = browsers.page(school.teacher, size=SIZES[size], path=f"/#/messages/{conv['id']}")
    teacher.locator(f"[data-message-id='{sent['id']}'] [data-office-done]").wait_for()
    assert "School office" in teacher.locator(".message", has_text=answer).inner_text()
    thread = server.call("GET", f"/api/conversations/{conv['id']}/messages", school.teacher)["items"]
    assert any(m["original"]["text"] == answer and m["sender"]["id"] == office.id for m in thread), thread[:3]
    assert next(m for m in thread if m["id"] == sent["id"])["office_done_at"]


def test_the_audit_log_reads_with_names_and_filters_by_action(browsers, server: Server, school: School):
    tag = secrets.token_hex(3)
    server.call("POST", "/api/classes", school.admin, json={"name": f"Audit {tag}"})
    page = browsers.page(school.admin, size=DESKTOP, path="/#/audit")
    page.wait_for_selector("[data-audit-id]")
    page.get_by_label("Action").select_option("class.created")
    page.wait_for_function(
        "() => { const rows = [...document.querySelectorAll('[data-audit-id]')];"
        " return rows.length && rows.every((r) => r.dataset.action === 'class.created'); }"
    )
    row = page.locator("[data-audit-id]", has_text=f"Audit {tag}")
    assert "Mrs Adebayo" in row.inner_text() and "Class created" in row.inner_text()


def test_an_admin_adds_a_member_of_staff_and_changes_their_role(browsers, server: Server, school: School):
    tag = secrets.token_hex(3)
    page = browsers.page(school.admin, size=PHONE, path="/#/people")
    form = page.locator("[data-form='add-staff']")
    form.get_by_label("Name").fill(f"Mr Osei {tag}")
    form.get_by_label("Email").fill(f"osei-{tag}@riverside.test")
    form.get_by_label("Role").select_option("teacher")
    form.get_by_label("First password").fill("a-long-first-password")
    form.get_by_role("button", name="Add to staff").click()
    row = page.locator("tr[data-staff-id]", has_text=f"Mr Osei {tag}")
    row.wait_for()
    row.locator("select").select_option("office")
    page.wait_for_selector(".toast >> text=is now")
    staff = server.call("GET", "/api/staff", school.admin)["items"]
    assert next(s for s in staff if s["name"] == f"Mr Osei {tag}")["role"] == "office"


def test_a_login_cards_link_fills_in_both_codes_on_the_pupil_sign_in_page(browsers, school: School):
    amir = school.pupils["Amir"]
    page = browsers.page(None, path=f"/#/pupil/{school.class_code}/{amir['student_code']}")
    assert page.get_by_label("Class code").input_value() == school.class_code
    assert page.get_by_label("My code").input_value() == amir["student_code"]


def test_an_admin_archives_a_class_whose_pupils_have_left_and_brings_it_back(
    browsers, server: Server, school: School
):
    tag = secrets.token_hex(3)
    found = server.call("POST", "/api/classes", school.admin, json={"name": f"Year 6 Yew {tag}"})
    pupil = server.call(
        "POST",
        f"/api/classes/{found['id']}/students",
        school.admin,
        json={"first_name": "Finn", "last_name": "Reid"},
    )
    server.call(
        "PATCH", f"/api/students/{pupil['id']}", school.admin, json={"left_at": "2026-07-20T12:00:00+00:00"}
    )
    page = browsers.page(school.admin, size=DESKTOP, path=f"/#/admin/classes/{found['id']}")
    page.get_by_role("button", name="Archive class").click()
    _dialog_button(page, "Archive")
    class_id = found["id"]
    archived = page.locator(f"li[data-class-id='{class_id}']")  # the list's "Archived classes" part
    archived.get_by_role("button", name="Bring back").click()
    page.wait_for_selector(f".admin-class[data-class-id='{found['id']}']")
