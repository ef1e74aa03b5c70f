"""The installed app reads offline: app shell and the last feed load with the server stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Browsers, Problems
from tests.browser.server import Server


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Server]:
    """A server of this test's own, which the test stops."""
    running = Server(tmp_path, tmp_path / "server.log")
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_app_shell_and_last_feed_load_with_the_server_stopped(
    browser: Any, own_server: Server, problems: Problems
) -> None:
    school = own_server.seed()
    own_server.call(
        "POST",
        f"/api/classes/{school.class_id}/posts",
        school.teacher,
        json={"text": "Bring wellies on Friday"},
    )
    browsers = Browsers(browser, own_server, problems)
    try:
        page = browsers.page(school.parents["en"], path="/#/feed")
        page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        page.reload()  # now through the service worker, which keeps the shell and the feed
        page.wait_for_selector("body[data-ready='true']")
        page.get_by_text("Bring wellies on Friday").wait_for()
        assert page.locator("#offline-banner").is_hidden()

        own_server.stop()
        for expected in ("Failed to load resource", "WebSocket connection", "net::ERR"):
            problems.allow(expected)
        page.reload()
        page.wait_for_selector("body[data-ready='true']")
        page.get_by_text("Bring wellies on Friday").wait_for()
        banner = page.locator("#offline-banner")
        banner.wait_for(state="visible")
        assert "offline" in banner.inner_text().lower()
    finally:
        browsers.close()
    assert not problems.unexpected(), problems.unexpected()
