"""The head teacher's Translation page: coverage of the families' languages, and adding one by upload.

The shared browser server runs Apertium only (es is translated, ar is not): its page
shows the table. Uploading needs argos, so that test starts its own server with
``argos,apertium`` and no package, seeds the same school, and uploads a tiny
en→ar package (meaningless output: the test checks the plumbing) through the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.translation.argos import argos_available
from tests.browser.conftest import DESKTOP, PHONE, Browsers, Problems
from tests.browser.server import School, Server


def coverage_row(page: Any, code: str) -> Any:
    return page.locator(f".coverage-table tr[data-lang='{code}']")


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_admin_sees_which_languages_are_translated(
    browsers: Browsers, school: School, size: dict
) -> None:
    page = browsers.page(school.admin, size=size, path="/#/translation")
    page.wait_for_selector(".coverage-table")
    arabic = coverage_row(page, "ar")
    # Layla's family, and the language walk's Arabic family when that test ran first.
    assert int(arabic.locator("td[data-label='Families']").inner_text().strip()) >= 1
    assert "Not translated" in arabic.locator("td[data-label='Posts to them']").inner_text()
    english = coverage_row(page, "en")
    assert "Not needed" in english.inner_text()
    assert page.locator("input[type=file]").count() == 1
    overflow = page.evaluate("() => document.documentElement.scrollWidth") - size["width"]
    assert overflow <= 0


def test_teachers_cannot_open_the_translation_page(browsers: Browsers, school: School) -> None:
    page = browsers.page(school.teacher, path="/#/translation")
    page.wait_for_function("() => location.hash !== '#/translation'")
    assert page.locator(".coverage-table").count() == 0


@pytest.fixture(scope="module")
def argos_server(tmp_path_factory: pytest.TempPathFactory, server: Server) -> Iterator[tuple[Server, School]]:
    """A second server with argos switched on and no package (the shared one runs Apertium only)."""
    if not argos_available():
        pytest.skip("the 'translate' extra is not installed")
    data = tmp_path_factory.mktemp("browser-argos")
    running = Server(data, data / "server.log")
    running.env["HOMEROOM_TRANSLATION_ENGINES"] = "argos,apertium"
    running.start()
    try:
        yield running, running.seed()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def tiny_en_ar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.translation.fixtures import load_builder

    return load_builder().build(
        tmp_path_factory.mktemp("en-ar") / "translate-en_ar-0_1.argosmodel", "en", "ar"
    )


def test_uploading_a_package_makes_its_language_translated(
    browser: Any, argos_server: tuple[Server, School], problems: Problems, tiny_en_ar: Path
) -> None:
    server, school = argos_server
    browsers = Browsers(browser, server, problems)
    try:
        page = browsers.page(school.admin, size=PHONE, path="/#/translation")
        page.wait_for_selector(".coverage-table")
        posts = coverage_row(page, "ar").locator("td[data-label='Posts to them']")
        assert "Not translated" in posts.inner_text()
        page.locator("input[type=file]").set_input_files(str(tiny_en_ar))
        page.get_by_role("button", name="Install package").click()
        page.wait_for_function(
            """() => {
                const row = document.querySelector(".coverage-table tr[data-lang='ar']");
                const cell = row && row.querySelector("td[data-label='Posts to them']");
                return cell && cell.textContent.includes("Translated");
            }"""
        )
        assert "Argos" in posts.inner_text()
        messages = coverage_row(page, "ar").locator("td[data-label='Their messages to staff']")
        assert "Not translated" in messages.inner_text()  # only en→ar was uploaded
        assert "en → ar" in page.locator(".coverage-packages").inner_text()

        problems.allow("422")  # the refused upload below answers 422
        bogus = server.data_dir / "notes.argosmodel"
        bogus.write_text("not a package")
        page.locator("input[type=file]").set_input_files(str(bogus))
        page.get_by_role("button", name="Install package").click()
        page.wait_for_selector(".form-error:has-text('not an argos package')")
    finally:
        browsers.close()
    assert not problems.errors, "\n".join(problems.errors)
