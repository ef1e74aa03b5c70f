"""The demo as a newcomer runs it: ``python -m server demo`` (what ``make run`` starts), then a phone.

The demo seeds its week straight into the database, so nothing asked for its translations;
the catch-up at start-up queues them. The Spanish-reading parent the demo prints signs in
on a phone-sized Chromium and sees the seeded posts switch to Spanish, without a reload.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.cli.demo import DEMO_PASSWORD
from server.translation.apertium import ApertiumEngine
from tests.browser.server import free_port

ROOT = Path(__file__).resolve().parents[2]
SMALL_PHONE = {"width": 360, "height": 740}
TRANSLATED_WITHIN_MS = 60_000
# Every post on the page with text reads Spanish, and at least one of them was translated.
ALL_SPANISH = """() => {
    const texts = [...document.querySelectorAll("main .card.post .post-text")];
    return texts.length > 0
        && texts.every((t) => t.lang === "es")
        && document.querySelectorAll("main .card.post .see-original").length > 0;
}"""


class Demo:
    """``python -m server demo --port <port>`` in its own data folder, as a newcomer starts it."""

    def __init__(self, folder: Path) -> None:
        self.data_dir = folder / "data"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "demo.log"
        # A newcomer's shell sets none of the server's settings; the data folder is the
        # only one given (and the engine, so the test does not depend on argos packages).
        env = {key: value for key, value in os.environ.items() if not key.startswith("HOMEROOM_")}
        env["HOMEROOM_DATA_DIR"] = str(self.data_dir)
        env["HOMEROOM_TRANSLATION_ENGINES"] = "apertium"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "demo", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, seconds: float = 120.0) -> None:
        deadline = time.monotonic() + seconds
        with httpx.Client(base_url=self.base, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the demo exited early:\n{self.log_path.read_text()}")
                try:
                    if client.get("/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=0.2)  # wakes at once if the demo exits
        raise RuntimeError(f"the demo did not answer within {seconds:.0f} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    if not ApertiumEngine.installed() or not Path("/usr/share/apertium/modes/eng-spa.mode").exists():
        pytest.skip("apertium and apertium-eng-spa are not installed (tools/test-prereqs.sh installs them)")
    running = Demo(tmp_path)
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def spanish_parent(demo: Demo) -> str:
    """The Spanish-reading parent's email, as printed and as kept in ``demo-logins.txt``."""
    kept = (demo.data_dir / "demo-logins.txt").read_text()
    found = re.search(r"parent of .*, reads es\s+(\S+@\S+)", kept)
    assert found, f"the demo lists no Spanish-reading parent:\n{kept}"
    email = found.group(1)
    assert email in demo.log_path.read_text(), "the login is printed as well as kept"
    return email


def test_the_demos_spanish_reading_parent_sees_the_seeded_posts_in_spanish(
    browser: Any, demo: Demo, tmp_path: Path
) -> None:
    email = spanish_parent(demo)
    context = browser.new_context(
        viewport=SMALL_PHONE,
        base_url=demo.base,
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id="Europe/London",
    )
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
        page.on("console", lambda m: errors.append(f"console error: {m.text}") if m.type == "error" else None)
        page.goto("/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("main .card.post .post-text")

        page.wait_for_function(ALL_SPANISH, timeout=TRANSLATED_WITHIN_MS, polling=250)
        posts = page.locator("main .card.post")
        first = posts.filter(has=page.locator(".see-original")).first
        spanish = first.locator(".post-text").inner_text()
        # Signed in, the interface itself is in her language too.
        assert page.locator("#sidenav .nav-label").first.inner_text() in ("Historias", "Mensajes")
        first.get_by_role("button", name="Ver original").click()
        original = first.locator(".post-text").inner_text()
        assert original != spanish and first.locator(".post-text").get_attribute("lang") == "en"
        first.get_by_role("button", name="Ver traducción").click()
        assert first.locator(".post-text").inner_text() == spanish
        assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
        page.screenshot(path=str(tmp_path / "demo-spanish-parent.png"), animations="disabled")
        assert (tmp_path / "demo-spanish-parent.png").stat().st_size > 0
        assert errors == []
    finally:
        context.close()
