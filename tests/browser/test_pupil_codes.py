"""Pupil codes in the web client: the class page shows them to admins and the class's own staff
only (the server sends them to no one else), and an admin gives a pupil a new code there.
"""

from __future__ import annotations


def test_class_staff_see_their_pupils_codes_and_not_other_classes(browsers, school):
    page = browsers.page(school.teacher, path=f"/#/class/{school.class_id}/board")
    page.wait_for_selector("h1:has-text('Year 2 Oak')")
    page.get_by_text("Pupil codes").click()
    amir = school.pupils["Amir"]
    assert (
        page.locator(f".pupil-code[data-student-id='{amir['id']}'] .code").inner_text()
        == amir["student_code"]
    )
    assert page.get_by_role("button", name="New code").count() == 0  # only admins give new codes
    page.goto(f"/#/class/{school.other_class_id}/board")
    page.wait_for_selector("h1:has-text('Year 5 Ash')")
    assert page.locator(".pupil-codes").count() == 0


def test_admin_gives_a_pupil_a_new_code_on_the_class_page(browsers, school, server, shoot):
    (isla,) = server.call("GET", f"/api/classes/{school.other_class_id}/students", school.admin)["items"]
    old = isla["student_code"]
    page = browsers.page(school.admin, path=f"/#/class/{school.other_class_id}/board")
    page.wait_for_selector("h1:has-text('Year 5 Ash')")
    page.get_by_text("Pupil codes").click()
    row = page.locator(f".pupil-code[data-student-id='{isla['id']}']")
    assert row.locator(".code").inner_text() == old
    shoot(page, "pupil-codes-admin-phone")
    row.get_by_role("button", name="New code").click()
    page.get_by_role("dialog").get_by_role("button", name="New code").click()
    shown = f".pupil-code[data-student-id='{isla['id']}'] .code"
    page.wait_for_function(
        "([sel, old]) => document.querySelector(sel).textContent !== old", arg=[shown, old]
    )
    fresh = row.locator(".code").inner_text()
    (listed,) = server.call("GET", f"/api/classes/{school.other_class_id}/students", school.admin)["items"]
    assert fresh == listed["student_code"] != old
