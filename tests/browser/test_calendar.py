"""The calendar, a trip's consent and an absence report in the web client, against the real server.

A family of its own (a new pupil in Year 2 Oak and their parent) on a phone: the class calendar
lists the class's and the school's events, a cancelled one struck through and labelled; an event
the teacher adds from her laptop, and then cancels, reaches the phone live. The parent gives
consent for the trip with a note, and the teacher's answers list moves the pupil to "Yes" live.
The parent's message to the teacher about a sick child offers the absence form; the parent reports
the absence in a few taps, and the office's list, open on another device, shows it live; the
office marks it seen.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.browser.conftest import DESKTOP, PHONE, Browsers
from tests.browser.helpers import mark, need, not_reloaded, wait_subscribed
from tests.browser.server import PASSWORD, Person, School, Server

LONDON = ZoneInfo("Europe/London")


def _at(days: int, hour: int, minute: int = 0) -> str:
    day = datetime.now(LONDON).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).isoformat()


def _office(server: Server, school: School) -> Person:
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


def _family(server: Server, school: School, tag: str) -> tuple[dict[str, Any], Person]:
    pupil = server.call(
        "POST",
        f"/api/classes/{school.class_id}/students",
        school.admin,
        json={"first_name": "Priya", "last_name": f"Shah{tag}", "photo_consent": True},
    )
    parent = server.join(pupil["id"], "Meena Shah", f"meena-{tag}@families.test", "en", school.teacher)
    return pupil, parent


def test_a_family_reads_the_calendar_gives_consent_and_reports_an_absence_live(
    browsers: Browsers, server: Server, school: School, shoot: Any
) -> None:
    need(f"/api/classes/{school.class_id}/events", "/api/school/events", "/api/absences", "/ws")
    tag = secrets.token_hex(3)
    pupil, parent = _family(server, school, tag)
    office = _office(server, school)
    school_id = server.call("GET", "/api/school", school.admin)["id"]
    trip = server.call(
        "POST",
        f"/api/classes/{school.class_id}/events",
        school.teacher,
        json={
            "title": f"Trip to the farm {tag}",
            "details": "Bring a packed lunch and wellies.",
            "starts_at": _at(2, 9),
            "ends_at": _at(2, 15),
            "location": "Hill Farm",
            "rsvp": "consent",
            "remind_at": [_at(1, 18)],
        },
    )
    sports = server.call(
        "POST",
        "/api/school/events",
        school.admin,
        json={"title": f"Sports day {tag}", "starts_at": _at(3, 8), "all_day": True},
    )
    called_off = server.call(
        "POST",
        f"/api/classes/{school.class_id}/events",
        school.teacher,
        json={"title": f"Cake sale {tag}", "starts_at": _at(1, 15, 15)},
    )
    server.call("DELETE", f"/api/events/{called_off['id']}", school.teacher)

    # The calendar on the parent's phone: a list by day, the cancelled sale struck through.
    phone = browsers.page(parent, size=PHONE, path="/#/calendar")
    phone.locator(f".event-card[data-event-id='{trip['id']}']").wait_for()
    assert phone.locator(".calendar-modes [data-mode='agenda'][aria-pressed='true']").count() == 1
    card = phone.locator(f".event-card[data-event-id='{trip['id']}']")
    assert "Hill Farm" in card.inner_text() and "Consent needed" in card.inner_text()
    assert "All day" in phone.locator(f".event-card[data-event-id='{sports['id']}']").inner_text()
    cancelled = phone.locator(f".event-card[data-event-id='{called_off['id']}']")
    assert cancelled.locator("s").inner_text() == f"Cake sale {tag}"
    assert cancelled.locator(".badge-cancelled").inner_text() == "Cancelled"
    shoot(phone, "calendar-agenda-phone")

    # The teacher adds an event from her laptop; then cancels it: the phone follows live.
    wait_subscribed(phone, f"class:{school.class_id}")
    mark(phone)
    laptop = browsers.page(school.teacher, size=DESKTOP, path=f"/#/calendar/{school.class_id}")
    # A laptop shows the month: the trip's day names it (the next month's page when it falls there).
    if _at(2, 9)[:7] != _at(0, 9)[:7]:
        laptop.get_by_role("button", name="Next month").click()
    laptop.locator(
        f".month-cell[data-day='{_at(2, 9)[:10]}'][aria-label*='Trip to the farm {tag}']"
    ).wait_for()
    laptop.locator("[data-action='new-event']").click()
    form = laptop.locator("dialog form.event-form")
    form.locator("input[name='title']").fill(f"Class assembly {tag}")
    form.locator("input[name='day']").fill(_at(1, 9)[:10])
    form.locator("input[name='start']").fill("09:00")
    form.locator("input[name='location']").fill("School hall")
    shoot(laptop, "calendar-new-event-desktop")
    form.locator("button[type='submit']").click()
    assembly = phone.locator(".event-card", has_text=f"Class assembly {tag}")
    assembly.wait_for()
    assert "School hall" in assembly.inner_text()
    assembly_id = assembly.get_attribute("data-event-id")
    laptop.goto(f"/#/event/{assembly_id}")
    laptop.locator("[data-action='cancel-event']").click()
    laptop.locator("dialog .button-primary").click()
    phone.locator(f".event-card[data-event-id='{assembly_id}'] .badge-cancelled").wait_for()
    assert not_reloaded(phone)

    # The teacher watches the trip's answers; the parent gives consent on the phone.
    laptop.goto(f"/#/event/{trip['id']}")
    laptop.locator(f".event-responses [data-group='waiting'] li[data-student-id='{pupil['id']}']").wait_for()
    wait_subscribed(laptop, f"class:{school.class_id}:staff")
    card.click()
    reply = phone.locator(f".reply-child[data-student-id='{pupil['id']}']")
    reply.wait_for()
    assert reply.locator(".reply-status").inner_text() == "Not answered yet"
    reply.get_by_text("Yes, I give consent").click()
    reply.locator("textarea[name='note']").fill("Priya gets travel sick: she has her tablets.")
    reply.get_by_role("button", name="Send answer").click()
    reply.locator(".reply-status.is-yes").wait_for()
    shoot(phone, "calendar-consent-phone")
    laptop.locator(f".event-responses [data-group='yes'] li[data-student-id='{pupil['id']}']").wait_for()
    assert "travel sick" in laptop.locator(".event-responses [data-group='yes']").inner_text()
    # The families still to answer get one nudge.
    laptop.locator("[data-action='nudge']").click()
    laptop.locator(".toast", has_text="Reminder sent to").wait_for()
    # The answer is still there when the page opens again (from the server, not this page's memory).
    phone.reload()
    phone.locator(f".reply-child[data-student-id='{pupil['id']}'] .reply-status.is-yes").wait_for()

    # The office's absence list is open; the parent reports an absence in a few taps.
    desk = browsers.page(office, size=DESKTOP, path="/#/absences")
    desk.locator(".absence-classes").wait_for()
    wait_subscribed(desk, f"school:{school_id}:staff")
    mark(desk)
    # A message to the teacher that the office routing reads as an absence offers the form.
    conversation = server.call(
        "POST", "/api/conversations", parent, json={"student_id": pupil["id"], "staff_id": school.teacher.id}
    )
    server.call(
        "POST",
        f"/api/conversations/{conversation['id']}/messages",
        parent,
        json={"text": "Priya is off sick today with a temperature."},
    )
    phone.goto(f"/#/messages/{conversation['id']}")
    phone.locator(".message.is-mine [data-offer='absence']").click()
    form = phone.locator("form.absence-form")
    form.wait_for()
    assert form.locator(f"input[name='student'][value='{pupil['id']}']").is_checked()  # the one child
    assert form.locator("input[name='from']").input_value() == datetime.now(LONDON).date().isoformat()
    form.get_by_text("Illness").click()
    form.locator("textarea[name='note']").fill("A temperature since last night.")
    form.get_by_role("button", name="Send to the school office").click()
    phone.locator(".absence-sent").wait_for()
    assert "Sent to the school office." in phone.locator(".absence-sent").inner_text()
    shoot(phone, "absence-sent-phone")

    row = desk.locator(".absence-row", has_text="A temperature since last night.")
    row.wait_for()
    assert not_reloaded(desk)
    assert (
        "Illness" in row.inner_text() and "Year 2 Oak" in desk.locator(".absence-class", has=row).inner_text()
    )
    row.locator("[data-action='acknowledge']").click()
    row.locator(".badge-approved").wait_for()
    assert desk.locator("[data-action='csv']").get_attribute("href").endswith("format=csv")
    shoot(desk, "absences-office-desktop")


def test_a_weekly_event_shows_each_week_but_the_schools_closure_days(
    browsers: Browsers, server: Server, school: School
) -> None:
    need(f"/api/classes/{school.class_id}/events", "/ws")
    tag = secrets.token_hex(3)
    _, parent = _family(server, school, tag)
    first = _at(1, 9)[:10]
    weeks = [(datetime.fromisoformat(first) + timedelta(days=7 * n)).date().isoformat() for n in range(4)]
    before = server.call("GET", "/api/school", school.admin)
    server.call(
        "PATCH", "/api/school", school.admin, json={"closure_days": [*before["closure_days"], weeks[2]]}
    )
    try:
        laptop = browsers.page(school.teacher, size=DESKTOP, path=f"/#/calendar/{school.class_id}")
        laptop.locator("[data-action='new-event']").click()
        form = laptop.locator("dialog form.event-form")
        form.locator("input[name='title']").fill(f"PE kit {tag}")
        form.locator("input[name='day']").fill(first)
        form.locator("input[name='start']").fill("08:45")
        form.get_by_text("Every week").click()
        form.locator("input[name='until']").fill(weeks[3])
        assert form.locator("select[name='rsvp']").is_hidden()  # a weekly event asks for no replies
        form.locator("button[type='submit']").click()
        laptop.locator(".toast", has_text="Added to the calendar.").wait_for()

        phone = browsers.page(parent, size=PHONE, path="/#/calendar")
        cards = phone.locator(".event-card", has_text=f"PE kit {tag}")
        cards.first.wait_for()
        days = [c.evaluate("(el) => el.closest('.agenda-day').dataset.day") for c in cards.all()]
        assert days == [weeks[0], weeks[1], weeks[3]], days  # the closure day is skipped
        assert all("08:45" in c.inner_text() and "Every week" in c.inner_text() for c in cards.all())
    finally:
        server.call("PATCH", "/api/school", school.admin, json={"closure_days": before["closure_days"]})
