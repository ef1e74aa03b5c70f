"""In-app alerts, the service worker's notifications, and reading offline, in real Chromium."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, Browsers
from tests.browser.helpers import need, wait_subscribed
from tests.browser.server import School, Server

ALL_WEEK = {day: ["00:00", "23:59"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def working_all_week(server: Server, school: School) -> Iterator[None]:
    """Working hours all day every day, so a parent's message reaches staff at once (P7)."""
    before = server.call("GET", "/api/school", school.admin)["working_hours"]
    server.call("PATCH", "/api/school", school.admin, json={"working_hours": ALL_WEEK})
    try:
        yield
    finally:
        server.call("PATCH", "/api/school", school.admin, json={"working_hours": before})


def unread_messages(page: Any) -> int:
    text = page.evaluate(
        "() => (document.querySelector('a.nav-link[href=\"#/messages\"] .nav-badge')"
        " || {}).textContent || '0'"
    )
    return int(text)


def test_a_teacher_on_the_points_board_sees_at_once_that_a_parent_has_written(
    browsers: Browsers, server: Server, school: School, working_all_week: None
) -> None:
    need("/ws", "/api/push/key")
    parent = school.parents["en"]
    conversation = server.call(
        "POST",
        "/api/conversations",
        parent,
        json={"student_id": school.pupils["Amir"]["id"], "staff_id": school.teacher.id},
    )
    page = browsers.page(school.teacher, size=DESKTOP, path=f"/#/class/{school.class_id}/board")
    wait_subscribed(page, f"user:{school.teacher.id}")
    page.wait_for_selector("body[data-unread-counted='true']")
    before = unread_messages(page)

    server.call(
        "POST",
        f"/api/conversations/{conversation['id']}/messages",
        parent,
        json={"text": "Amir forgot his reading book, can he bring it tomorrow?"},
    )
    page.wait_for_function(
        "(n) => { const b = document.querySelector('a.nav-link[href=\"#/messages\"] .nav-badge');"
        " return b && Number(b.textContent) === n; }",
        arg=before + 1,
    )
    assert page.title().startswith(f"({before + 1}")
    assert "/board" in page.url  # still on the points board


def shown_notifications(page: Any, *, wait: bool = True) -> list[dict[str, Any]]:
    """The notifications the service worker shows (polled with a deadline until there is one)."""
    deadline = time.monotonic() + 10
    while True:
        shown: list[dict[str, Any]] = page.evaluate(
            "() => navigator.serviceWorker.ready.then(r => r.getNotifications())"
            ".then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url})))"
        )
        if shown or not wait or time.monotonic() > deadline:
            return shown
        page.wait_for_timeout(50)


def registration_id(cdp: Any, base: str) -> str:
    """The service worker registration's id, from the DevTools ServiceWorker domain."""
    found: dict[str, str] = {}

    def updated(event: dict[str, Any]) -> None:
        for registration in event.get("registrations", []):
            if registration.get("scopeURL") == f"{base}/" and not registration.get("isDeleted"):
                found["id"] = registration["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while "id" not in found:
        assert time.monotonic() < deadline, "no service worker registration seen"
        cdp.send("Runtime.evaluate", {"expression": "1"})  # lets the event arrive
    return found["id"]


def test_the_service_worker_shows_a_push_and_its_click_opens_the_page(
    browsers: Browsers, server: Server, school: School
) -> None:
    parent = school.parents["es"]
    page = browsers.page(parent, path="/#/feed")
    page.context.grant_permissions(["notifications"], origin=server.base)
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    cdp = page.context.new_cdp_session(page)
    payload = {
        "type": "message.created",
        "title": "Nuevo mensaje de Mrs Patel",
        "body": "Mañana hay excursión.",
        "url": "/#/messages",
        "tag": "conversation-1",
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": server.base,
            "registrationId": registration_id(cdp, server.base),
            "data": json.dumps(payload),
        },
    )
    shown = shown_notifications(page)
    assert shown == [
        {
            "title": "Nuevo mensaje de Mrs Patel",
            "body": "Mañana hay excursión.",
            "tag": "conversation-1",
            "url": "/#/messages",
        }
    ]
    [worker] = page.context.service_workers
    worker.evaluate("() => self.registration.getNotifications().then(ns => self.openFromNotification(ns[0]))")
    page.wait_for_function("() => location.hash === '#/messages'")
    page.wait_for_selector("h1")
    assert shown_notifications(page, wait=False) == []  # clicked: closed


def test_notification_settings_ask_for_permission_only_when_pressed(
    browsers: Browsers, server: Server, school: School
) -> None:
    need("/api/me/notifications")
    parent = school.parents["en"]
    page = browsers.page(parent, path="/#/feed")
    page.evaluate(
        """() => {
            window.__asked = 0;
            Notification.requestPermission = () => { window.__asked += 1; return Promise.resolve("denied"); };
        }"""
    )
    page.evaluate("() => { location.hash = '#/account'; }")
    page.get_by_role("heading", name="Notifications").wait_for()
    assert page.evaluate("() => window.__asked") == 0  # never on its own
    assert page.get_by_text("No device receives notifications yet.").is_visible()
    page.get_by_label("Email").select_option("daily")
    page.get_by_text("Saved").wait_for()  # the choice is stored as soon as it is made
    assert server.call("GET", "/api/me/notifications", parent)["email"] == "daily"
    page.get_by_role("button", name="Turn on notifications on this device").click()
    page.wait_for_function("() => window.__asked === 1")
    server.call("PUT", "/api/me/notifications", parent, json={"email": "off"})


def test_forgot_password_says_to_ask_the_office_without_email(browsers: Browsers, server: Server) -> None:
    need("/api/auth/reset")
    page = browsers.page(path="/#/sign-in")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_text("Please ask the school office to reset your password.").wait_for()
