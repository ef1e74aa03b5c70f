"""Small helpers the browser tests share: waiting on live subscriptions, pupils signing in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.server import Person, School, Server, served


def need(*paths: str) -> None:
    """Fail at once, saying which, unless the server serves every one of ``paths`` (``/ws``: live).

    A route that went missing is a regression to report, not a reason to skip the test.
    """
    missing = [p for p in paths if not served(p, "ws" if p == "/ws" else "http")]
    if missing:
        pytest.fail(f"not served by this server: {', '.join(missing)}")


def wait_subscribed(page: Any, channel: str) -> None:
    """Wait until the page's live connection has confirmed its subscription to ``channel``."""
    page.wait_for_function(
        """(name) => {
            const live = window.homeroom && window.homeroom.live;
            const c = live && live.channels.get(name);
            return Boolean(live && live.open && c && c.seq !== null && !c.pending);
        }""",
        arg=channel,
    )


def mark(page: Any) -> None:
    """Leave a marker on the page's window: it survives anything but a reload."""
    page.evaluate("window.__sameDocument = true")


def not_reloaded(page: Any) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def pupil(server: Server, school: School, first_name: str) -> Person:
    """A pupil signed in with their class code and pupil code (as the pupil sign-in page does)."""
    record = school.pupils[first_name]
    reply = server.call(
        "POST",
        "/api/auth/student",
        json={"class_code": school.class_code, "student_code": record["student_code"]},
    )
    return Person(name=first_name, token=reply["token"], id=reply["user"]["id"], extra={"student": record})
