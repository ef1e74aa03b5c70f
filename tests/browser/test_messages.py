"""Messages between a family and the teacher, live, and the quiet time outside working hours (P7).

Working hours are set for each test so the outcome does not depend on when it runs:
open all day, or a window that ended earlier today. They are put back afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server.language.interface import text
from tests.browser.conftest import DESKTOP
from tests.browser.helpers import mark, need, not_reloaded, wait_subscribed
from tests.browser.server import School, Server

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
def working_hours(server: Server, school: School) -> Iterator[Callable[[list[str] | None], None]]:
    before = server.call("GET", "/api/school", school.admin)["working_hours"]

    def set_hours(span: list[str] | None) -> None:
        server.call("PATCH", "/api/school", school.admin, json={"working_hours": dict.fromkeys(DAYS, span)})

    yield set_hours
    server.call("PATCH", "/api/school", school.admin, json={"working_hours": before})


def _conversation(server: Server, school: School) -> int:
    conv = server.call(
        "POST",
        "/api/conversations",
        school.parents["en"],
        json={"student_id": school.pupils["Amir"]["id"], "staff_id": school.teacher.id},
    )
    return int(conv["id"])


def test_family_and_teacher_talk_live_in_working_hours(browsers, school, server, working_hours, shoot):
    need("/api/conversations", "/ws")
    working_hours(["00:00", "23:59"])
    conv = _conversation(server, school)
    teacher = browsers.page(school.teacher, size=DESKTOP, path=f"/#/messages/{conv}")
    teacher.wait_for_selector(".reply")
    wait_subscribed(teacher, f"user:{school.teacher.id}")
    parent = browsers.page(school.parents["en"], path=f"/#/messages/{conv}")
    parent.wait_for_selector(".reply")
    wait_subscribed(parent, f"user:{school.parents['en'].id}")
    assert "School is open" in parent.locator(".quiet").inner_text()
    mark(teacher)
    mark(parent)

    question = f"Could Amir bring his sunflower home on Friday? {secrets.token_hex(2)}"
    parent.get_by_label("Message to Mrs Patel").fill(question)
    parent.get_by_role("button", name="Send").click()
    teacher.locator(".message.is-theirs", has_text=question).wait_for()

    answer = "Yes, of course. It will be by the classroom door."
    teacher.get_by_label("Message to Sarah Khan").fill(answer)
    teacher.get_by_role("button", name="Send").click()
    parent.locator(".message.is-theirs", has_text=answer).wait_for()
    parent.locator(".message.is-mine", has_text=question).locator(".read").wait_for()
    assert not_reloaded(teacher) and not_reloaded(parent)
    shoot(parent, "messages-live-phone")


def test_quiet_time_holds_the_message_and_tells_the_family_when_to_expect_a_reply(
    browsers, school, server, working_hours, shoot
):
    need("/api/conversations", "/ws")
    now = datetime.now(ZoneInfo("Europe/London"))
    working_hours(["00:00", "01:00"] if now.hour >= 2 else ["22:00", "23:00"])
    conv = _conversation(server, school)
    parent = browsers.page(school.parents["en"], path=f"/#/messages/{conv}")
    parent.wait_for_selector(".reply")
    wait_subscribed(parent, f"user:{school.parents['en'].id}")
    assert "quiet time" in parent.locator(".quiet").inner_text()

    note = f"Amir has a dentist appointment tomorrow morning {secrets.token_hex(2)}"
    parent.get_by_label("Message to Mrs Patel").fill(note)
    parent.get_by_role("button", name="Send").click()
    mine = parent.locator(".message.is-mine", has_text=note)
    mine.locator(".held").wait_for()
    assert "Quiet time: seen" in mine.locator(".held").inner_text()
    notice = parent.locator(".notice-message", has_text="reply by")
    notice.wait_for()
    shoot(parent, "messages-quiet-time-phone")

    teacher = browsers.page(school.teacher, size=DESKTOP, path=f"/#/messages/{conv}")
    teacher.wait_for_selector(".reply")
    assert teacher.locator(".message", has_text=note).count() == 0


def test_teacher_starts_a_conversation_with_a_pupils_parent(browsers, school, server, shoot):
    need("/api/students/1/contacts")
    teacher = browsers.page(school.teacher, size=DESKTOP, path="/#/messages")
    teacher.get_by_role("button", name="New message").click()
    dialog = teacher.get_by_role("dialog", name="New message")
    dialog.get_by_label("Class").select_option(label="Year 2 Oak")
    dialog.get_by_label("Pupil").select_option(label="Leo")
    dialog.get_by_role("alert").filter(has_text="no parent or carer").wait_for()
    dialog.get_by_label("Pupil").select_option(label="Olivia")
    to = dialog.get_by_label("To (parent or carer)")
    teacher.wait_for_function("(el) => !el.disabled && el.options.length === 1", arg=to.element_handle())
    assert to.locator("option").inner_text() == "Lucía Smith"
    shoot(teacher, "teacher-new-message-desktop")
    dialog.get_by_role("button", name="Start").click()
    teacher.wait_for_url("**/#/messages/*")
    text = f"Olivia read beautifully in assembly today. {secrets.token_hex(2)}"
    teacher.get_by_label("Message to Lucía Smith").fill(text)
    teacher.get_by_role("button", name="Send").click()
    teacher.locator(".message", has_text=text).wait_for()

    parent = browsers.page(school.parents["es"], path="/#/messages")
    parent.locator(".conversation", has_text="Mrs Patel").wait_for()


def test_a_parent_can_write_to_the_class_teacher_before_anything_is_posted(browsers, school, shoot):
    need("/api/students/1/contacts")
    parent = browsers.page(school.parents["ar"], path="/#/messages")
    # She reads Arabic: the page speaks it (the words from the same catalogs the server uses).
    parent.get_by_role("button", name=text("ar", "New message")).click()
    dialog = parent.get_by_role("dialog", name=text("ar", "New message"))
    to = dialog.get_by_label(text("ar", "To"), exact=True)
    parent.wait_for_function("(el) => !el.disabled", arg=to.element_handle())
    groups = to.locator("optgroup")
    assert groups.nth(0).get_attribute("label") == text("ar", "Your child's class")
    assert groups.nth(0).locator("option").all_inner_texts() == ["Mrs Patel"]
    assert "Mrs Adebayo" in groups.nth(1).locator("option").all_inner_texts()
    shoot(parent, "parent-new-message-phone")
