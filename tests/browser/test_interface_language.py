"""The interface in the reader's language: a Spanish-reading parent's screens are Spanish, an
Arabic reader's page is right to left and fits a 360 px phone, and before sign-in the page
follows the browser's Accept-Language and the language picker, re-rendering without a reload.
"""

from __future__ import annotations

from typing import Any

from tests.browser.helpers import mark, not_reloaded

NARROW = {"width": 360, "height": 740}


def _no_horizontal_overflow(page: Any) -> None:
    widths = page.evaluate(
        "() => ({ scroll: document.documentElement.scrollWidth,"
        " client: document.documentElement.clientWidth })"
    )
    assert widths["scroll"] <= widths["client"], widths


def _settled(page: Any) -> None:
    page.wait_for_function("() => !document.querySelector('main .loading, main .spinner')")


def test_a_spanish_reader_gets_spanish_screens(browsers, school, shoot):
    lucia = school.parents["es"]
    page = browsers.page(lucia, path="/#/feed")
    page.wait_for_selector("h1:has-text('Historias')")
    _settled(page)
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.evaluate("document.documentElement.dir") == "ltr"
    nav = page.locator("#sidenav .nav-label").all_inner_texts()
    assert "Historias" in nav and "Mensajes" in nav and "Stories" not in nav and "Messages" not in nav
    assert page.locator(".skip-link").inner_text() == "Ir al contenido"
    assert page.get_by_role("button", name="Cerrar sesión").count() == 1
    shoot(page, "interface-es-feed")
    page.goto("/#/messages")
    page.wait_for_selector("h1:has-text('Mensajes')")
    _settled(page)
    assert page.get_by_role("button", name="Mensaje nuevo").count() == 1


def test_an_arabic_reader_gets_a_right_to_left_page_that_fits_a_narrow_phone(browsers, school, shoot):
    layla = school.parents["ar"]
    page = browsers.page(layla, size=NARROW, path="/#/feed")
    page.wait_for_selector("h1")
    _settled(page)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "ar"
    _no_horizontal_overflow(page)
    # Direction icons point the reading way: the sign-out arrow is mirrored.
    transform = page.evaluate(
        "() => getComputedStyle(document.querySelector('.signout svg[data-mirror]')).transform"
    )
    assert transform.startswith("matrix(-1"), transform
    shoot(page, "interface-ar-feed-360")
    for path in ("/#/messages", "/#/account"):
        page.goto(path)
        page.wait_for_selector("h1")
        _settled(page)
        _no_horizontal_overflow(page)


def test_before_sign_in_the_page_follows_accept_language_and_the_picker(browsers, server, problems):
    context = browsers.browser.new_context(
        viewport={"width": 390, "height": 844},
        base_url=server.base,
        locale="es-ES",
        timezone_id="Europe/London",
    )
    browsers.contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", problems.console)
    page.on("pageerror", problems.page_error)
    page.goto("/")
    page.wait_for_selector("body[data-ready='true']")
    page.wait_for_selector("h1:has-text('Bienvenido a Homeroom')")
    assert page.get_by_label("Correo electrónico").count() == 1
    mark(page)
    page.get_by_label("Idioma").select_option("en")
    page.wait_for_selector("h1:has-text('Welcome to Homeroom')")
    assert not_reloaded(page)
    page.get_by_label("Language").select_option("ar")
    page.wait_for_function("() => document.documentElement.dir === 'rtl'")
    assert not_reloaded(page)
    # The choice is kept on this device: the pupil and invite pages open in it too.
    page.goto("/#/join")
    page.wait_for_selector("[data-language-picker]")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    page.locator("[data-language-picker]").select_option("es")
    page.wait_for_selector("h1:has-text('Únase a la clase de su hijo')")
    page.goto("/#/pupil")
    page.wait_for_selector("h1:has-text('¡Hola! ¿Listo para aprender?')")
