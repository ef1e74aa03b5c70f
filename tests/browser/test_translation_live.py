"""Translations reach open pages live: a conversation and the office inbox switch without a reload.

The browser server translates with Apertium (en↔es), so the Spanish-reading parent
and the English-reading office see real translations.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.browser.conftest import DESKTOP
from tests.browser.helpers import mark, need, not_reloaded, pupil, wait_subscribed
from tests.browser.server import PASSWORD, Person, School, Server

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
def open_all_day(server: Server, school: School) -> Iterator[None]:
    """Working hours all day, so nothing is held for quiet time; put back afterwards."""
    before = server.call("GET", "/api/school", school.admin)["working_hours"]
    all_day = {day: ["00:00", "23:59"] for day in DAYS}
    server.call("PATCH", "/api/school", school.admin, json={"working_hours": all_day})
    yield
    server.call("PATCH", "/api/school", school.admin, json={"working_hours": before})


def spanish_conversation(server: Server, school: School) -> int:
    conv = server.call(
        "POST",
        "/api/conversations",
        school.parents["es"],
        json={"student_id": school.pupils["Olivia"]["id"], "staff_id": school.teacher.id},
    )
    return int(conv["id"])


def test_an_open_conversation_switches_to_the_teachers_reply_in_spanish(
    browsers, school, server, open_all_day
):
    need("/api/conversations", "/ws")
    conv = spanish_conversation(server, school)
    parent = browsers.page(school.parents["es"], path=f"/#/messages/{conv}")
    parent.wait_for_selector(".reply")
    wait_subscribed(parent, f"user:{school.parents['es'].id}")
    mark(parent)

    reply = f"Thank you, Olivia can bring the book on Friday. {secrets.token_hex(2)}"
    sent = server.call("POST", f"/api/conversations/{conv}/messages", school.teacher, json={"text": reply})

    bubble = parent.locator(f".message.is-theirs[data-message-id='{sent['id']}']")
    bubble.locator(".message-text[lang='es']").wait_for()
    spanish = bubble.locator(".message-text").inner_text()
    assert "viernes" in spanish and "Olivia" in spanish and spanish != reply
    # Her interface is in Spanish too: "See original" reads "Ver original".
    bubble.get_by_role("button", name="Ver original").click()
    assert bubble.locator(".message-text").inner_text() == reply
    bubble.get_by_role("button", name="Ver traducción").click()
    assert bubble.locator(".message-text").inner_text() == spanish
    assert not_reloaded(parent)

    # "Report translation" sits beside "See original"; the admins get both versions.
    bubble.get_by_role("button", name="Avisar de un error de traducción").click()
    parent.get_by_label("¿Qué está mal? (opcional)").fill("The day is wrong")
    parent.get_by_role("button", name="Enviar").last.click()
    parent.get_by_text("Gracias. El colegio lo revisará.").wait_for()
    reported = server.call("GET", "/api/translations/reports", school.admin)["items"]
    [mine] = [r for r in reported if r["kind"] == "message" and r["item_id"] == sent["id"]]
    assert mine["original"]["text"] == reply and mine["translation"]["text"] == spanish
    assert mine["reason"] == "The day is wrong"


def test_the_office_inbox_shows_a_spanish_absence_message_in_english(browsers, school, server, open_all_day):
    need("/api/office/messages", "/ws")
    email = f"office-{secrets.token_hex(3)}@riverside.test"
    server.call(
        "POST",
        "/api/staff",
        school.admin,
        json={"name": "Mrs Doyle", "email": email, "role": "office", "password": PASSWORD, "class_ids": []},
    )
    office: Person = server.login(email)
    page = browsers.page(office, size=DESKTOP, path="/#/office")
    page.wait_for_selector(".office-list")
    wait_subscribed(page, f"user:{office.id}")
    mark(page)

    conv = spanish_conversation(server, school)
    text = f"Olivia está enferma hoy y no puede ir a la escuela. {secrets.token_hex(2)}"
    sent = server.call(
        "POST", f"/api/conversations/{conv}/messages", school.parents["es"], json={"text": text}
    )
    card = page.locator(f"[data-office-id='{sent['id']}']")
    card.locator("blockquote[lang='en']").wait_for()
    english = card.locator("blockquote").inner_text()
    assert "Olivia" in english and "school" in english.lower() and english != text
    card.get_by_role("button", name="See original").click()
    assert card.locator("blockquote").inner_text() == text
    assert not_reloaded(page)


def test_an_admin_lists_words_not_to_translate_in_the_school_settings(browsers, school, server):
    need("/api/school")
    page = browsers.page(school.admin, size=DESKTOP, path="/#/settings")
    words = page.get_by_label("Words not to translate")
    words.fill("Golden Time\n  Star of the Week \n\nGolden Time")
    page.get_by_role("button", name="Save words").click()
    page.get_by_text("Saved", exact=True).wait_for()
    try:
        glossary = server.call("GET", "/api/school", school.admin)["translation_glossary"]
        assert glossary == ["Golden Time", "Star of the Week"]
        assert words.input_value() == "Golden Time\nStar of the Week"
    finally:
        server.call("PATCH", "/api/school", school.admin, json={"translation_glossary": []})


def test_a_parents_open_portfolio_switches_the_teachers_comment_to_spanish(browsers, school, server):
    need("/api/activities/1/submissions", "/ws")
    olivia = school.pupils["Olivia"]
    activity = server.call(
        "POST",
        f"/api/classes/{school.class_id}/activities",
        school.teacher,
        json={"title": "Draw a tiger", "instructions": "Use colours."},
    )
    page = browsers.page(school.parents["es"], path=f"/#/child/{olivia['id']}/portfolio")
    page.wait_for_selector(".portfolio-list")
    wait_subscribed(page, f"student:{olivia['id']}")
    mark(page)

    work = server.call(
        "POST",
        f"/api/activities/{activity['id']}/submissions",
        pupil(server, school, "Olivia"),
        json={"text": "A tiger"},
    )
    comment = f"Olivia, this is a beautiful drawing. {secrets.token_hex(2)}"
    server.call("POST", f"/api/submissions/{work['id']}/approve", school.teacher, json={"comment": comment})
    card = page.locator(f".portfolio-item[data-item-id='{work['id']}']")
    card.locator(".teacher-comment[lang='es']").wait_for()
    spanish = card.locator(".teacher-comment").inner_text()
    assert "Olivia" in spanish and comment not in spanish
    card.get_by_role("button", name="Ver original").click()
    assert comment in card.locator(".teacher-comment").inner_text()
    assert not_reloaded(page)


def test_open_home_learning_pages_switch_a_new_task_to_spanish(browsers, school, server):
    """A pupil and a head who read Spanish see the teacher's new task switch to Spanish live."""
    need(f"/api/classes/{school.class_id}/activities", "/ws")
    leo = pupil(server, school, "Leo")
    readers = (leo, school.admin)
    for reader in readers:
        server.call("PATCH", "/api/me", reader, json={"language": "es"})
    made: dict[str, object] = {}
    try:
        pupil_page = browsers.page(leo, path="/#/learning")
        head_page = browsers.page(school.admin, size=DESKTOP, path=f"/#/class/{school.class_id}/learning")
        for page in (pupil_page, head_page):
            page.wait_for_selector(".activity-list")
            wait_subscribed(page, f"class:{school.class_id}")
            mark(page)

        title = f"Read a book with your family {secrets.token_hex(2)}"
        instructions = "Write three sentences about the story."
        made = server.call(
            "POST",
            f"/api/classes/{school.class_id}/activities",
            school.teacher,
            json={"title": title, "instructions": instructions},
        )
        for page in (pupil_page, head_page):
            card = page.locator(f"[data-activity-id='{made['id']}']")
            card.locator(".activity-title[lang='es']").wait_for()
            spanish_title = card.locator(".activity-title").inner_text()
            spanish_text = card.locator(".activity-text").inner_text()
            assert "libro" in spanish_title.lower() and spanish_title != title
            assert spanish_text != instructions and card.locator(".activity-text[lang='es']").count() == 1
            card.get_by_role("button", name="Ver original").click()
            assert card.locator(".activity-title").inner_text() == title
            assert card.locator(".activity-text").inner_text() == instructions
            card.get_by_role("button", name="Ver traducción").click()
            assert card.locator(".activity-title").inner_text() == spanish_title
            assert not_reloaded(page)
        assert (
            pupil_page.locator(f"[data-activity-id='{made['id']}']").get_by_label("Mi trabajo").is_visible()
        )
    finally:
        if made:
            server.call("DELETE", f"/api/activities/{made['id']}", school.teacher)
        for reader in readers:
            server.call("PATCH", "/api/me", reader, json={"language": "en"})
