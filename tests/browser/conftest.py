"""Fixtures for the browser tests: one real server and one Chromium for the whole run.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright's Python package;
Playwright's own browser downloads are never used. Each test gets fresh browser
contexts (separate cookie jars, like separate phones), and fails if any page logs
a console error or throws, except requests to parts of the API this build does
not serve yet (listed by the server's own route table).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.server import Person, School, Server, unserved_resource

CHROMIUM = os.environ.get("HOMEROOM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
FORBIDDEN = "Failed to load resource: the server responded with a status of 403"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    data = tmp_path_factory.mktemp("browser-server")
    running = Server(data, data / "server.log")
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
def school(server: Server) -> School:
    return server.seed()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    # Package scope: Playwright's sync API keeps an event loop running while it is started,
    # so it must stop before the asyncio tests of other packages run.
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Problems:
    """Console errors and page errors seen during a test."""

    errors: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    # Set by allow_policy_refusals: 403s judged at the end, once their bodies are read.
    policy_refusals_expected: bool = False
    refused_for_policy: set[str] = field(default_factory=set)
    forbidden: list[tuple[str, str]] = field(default_factory=list)

    def allow(self, fragment: str) -> None:
        """Expect a console error containing ``fragment`` (e.g. a 401 from a wrong password)."""
        self.allowed.append(fragment)

    def allow_policy_refusals(self) -> None:
        """Expect requests the server refuses with 403 ``policy_not_accepted``, and no other 403.

        When a new code of conduct comes in, a parent's page may have a request under way
        (a lazily loaded photo, say) that the server now refuses until the parent accepts it.
        Chromium logs every such response as a console error, whatever the page does with it.
        """
        self.policy_refusals_expected = True

    def console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        url = (message.location or {}).get("url", "")
        if text.startswith("Failed to load resource") and unserved_resource(url):
            return
        if "WebSocket connection to" in text and unserved_resource(text.split("'")[1] if "'" in text else ""):
            return
        if any(fragment in text for fragment in self.allowed):
            return
        if self.policy_refusals_expected and text.startswith(FORBIDDEN):
            self.forbidden.append((text, url))  # its body may not be read yet: see unexpected()
            return
        self.errors.append(f"console error: {text} ({url})")

    def response(self, response: Any) -> None:
        if not self.policy_refusals_expected or response.status != 403:
            return
        try:
            code = (response.json().get("error") or {}).get("code")
        except Exception:  # not JSON, or the page is gone: not a refusal shown to be expected
            return
        if code == "policy_not_accepted":
            self.refused_for_policy.add(response.url)

    def page_error(self, error: Any) -> None:
        self.errors.append(f"page error: {error}")

    def unexpected(self) -> list[str]:
        """The problems seen, less the 403s that were refusals for the code of conduct."""
        return self.errors + [
            f"console error: {text} ({url})"
            for text, url in self.forbidden
            if url not in self.refused_for_policy
        ]


@dataclass
class Browsers:
    """Opens pages in fresh contexts, signed in or not, at phone or desktop size."""

    browser: Any
    server: Server
    problems: Problems
    contexts: list[Any] = field(default_factory=list)

    def page(self, who: Person | None = None, *, size: dict[str, int] = PHONE, path: str = "/") -> Any:
        context = self.browser.new_context(
            viewport=size,
            base_url=self.server.base,
            device_scale_factor=1,
            is_mobile=size is PHONE,
            has_touch=size is PHONE,
            locale="en-GB",
            timezone_id="Europe/London",
        )
        self.contexts.append(context)
        if who is not None:
            context.add_cookies(
                [{"name": "session", "value": who.token, "url": self.server.base, "httpOnly": True}]
            )
            context.add_init_script("localStorage.setItem('homeroom.signed-in', '1')")
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", self.problems.console)
        page.on("response", self.problems.response)
        page.on("pageerror", self.problems.page_error)
        page.goto(path)
        page.wait_for_selector("body[data-ready='true']")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def browsers(browser: Any, server: Server, problems: Problems) -> Iterator[Browsers]:
    opened = Browsers(browser, server, problems)
    try:
        yield opened
    finally:
        opened.close()
    found = problems.unexpected()
    assert not found, "\n".join(found)


class Shooter:
    """Saves screenshots under test-output/screenshots/ (``shoot(page, name)``)."""

    folder = SCREENSHOTS

    def __call__(self, page: Any, name: str) -> None:
        page.wait_for_function("() => !document.querySelector('main .loading')")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), animations="disabled")


@pytest.fixture
def shoot() -> Shooter:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return Shooter()
