"""The interface languages over HTTP: catalogs served for good, `interface: true` for complete
catalogs, error messages and system notices in the reader's language."""

from __future__ import annotations

import re

import httpx
import pytest

from server.language import catalogs
from server.services import Services
from tests.conftest import Clock
from tests.factories import World
from tests.messaging.conftest import FRIDAY_EVENING, WEDNESDAY_MORNING, open_chat

SHIPPED_READERS = [code.split("_")[0] for code in catalogs.SHIPPED]
# "Sam is ill with a fever today" in languages whose routing terms catch it without translation.
SICK = {"es": "Sam está enfermo, tiene fiebre hoy", "pl": "Sam jest chory, ma gorączkę"}


async def test_catalogs_are_listed_and_served_with_a_content_hash_for_good(api: httpx.AsyncClient) -> None:
    listed = await api.get("/i18n/catalogs.json")
    assert listed.status_code == 200 and listed.headers["cache-control"] == "no-cache"
    manifest = listed.json()
    assert set(manifest) == set(catalogs.LANGUAGES)
    assert manifest["es"]["complete"] is True
    spanish = await api.get(f"/i18n/{manifest['es']['file']}")
    assert spanish.status_code == 200
    assert spanish.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert spanish.json()["messages"]["Messages"] == "Mensajes"
    for bad in ("es.json", "..%2Fmanifest.json", "es.000000000000.json"):
        missing = await api.get(f"/i18n/{bad}")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_fonts_are_served_for_good(api: httpx.AsyncClient) -> None:
    css = (await api.get("/css/fonts.css")).text
    urls = [part.split('")')[0] for part in css.split('url("')[1:]]
    assert len(urls) >= 8 and any("Arabic" in u for u in urls) and any("SC-" in u for u in urls)
    font = await api.get(urls[0])
    assert font.status_code == 200 and font.headers["content-type"] == "font/woff2"
    assert font.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Each face names the characters it has, so a page loads only the scripts it shows.
    assert re.search(r'"Homeroom Arabic";[^}]*unicode-range: U\+6', css)
    assert re.search(r'"Homeroom Bengali";[^}]*unicode-range: U\+98', css)
    assert (await api.get("/fonts/nothing.0123456789.woff2")).status_code == 404


async def test_languages_say_which_interfaces_are_complete(api: httpx.AsyncClient, world: World) -> None:
    reply = await api.get("/api/languages", headers=world.teacher.headers)
    items = {item["code"]: item for item in reply.json()["items"]}
    assert items["en"]["interface"] is True
    for code in SHIPPED_READERS:
        assert items[code]["interface"] is True
    complete = {
        c.split("_")[0] for c, e in catalogs.manifest().items() if isinstance(e, dict) and e["complete"]
    }
    for code, item in items.items():
        assert item["interface"] is (code == "en" or code in complete), code


async def test_errors_speak_the_readers_language_and_keep_their_code(
    api: httpx.AsyncClient, world: World
) -> None:
    bad_login = {"email": "nobody@school.test", "password": "x"}
    english = await api.post("/api/auth/login", json=bad_login)
    spanish = await api.post("/api/auth/login", json=bad_login, headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert english.status_code == spanish.status_code
    assert english.json()["error"]["code"] == spanish.json()["error"]["code"]
    missing = await api.get("/api/nothing-here", headers={"Accept-Language": "es"})
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "No se ha encontrado: Esa dirección.",
        "details": {},
    }
    # Signed in, the user's own language wins over the browser's.
    _, parent = await world.add_family("Lucía", language="es")
    refused = await api.patch(
        "/api/me", json={"password": "short", "current_password": "x"}, headers=parent.headers
    )
    assert refused.status_code in (403, 422)
    post = await api.get("/api/posts/999999999", headers={**parent.headers, "Accept-Language": "en"})
    assert post.status_code == 404
    assert post.json()["error"]["message"] == "No se ha encontrado: Esa publicación."


async def test_a_password_too_short_is_a_sentence_in_the_readers_language(
    api: httpx.AsyncClient, world: World
) -> None:
    from server.auth.accounts import check_password_rules
    from server.errors import ApiError

    with pytest.raises(ApiError) as caught:
        check_password_rules("short")
    assert caught.value.details == {"fields": {"password": "length"}}
    assert caught.value.message_in("es") == "La contraseña debe tener entre 10 y 128 caracteres." or (
        caught.value.message_in("es").startswith("La contraseña debe tener entre")
    )
    assert caught.value.message_in(None).startswith("Passwords need")


@pytest.mark.parametrize("language", SHIPPED_READERS)
async def test_quiet_hours_and_office_notices_reach_a_parent_in_their_language(
    api: httpx.AsyncClient, world: World, clock: Clock, services: Services, language: str
) -> None:
    await world.update_school(office_phone="01632 960123")
    clock.set(WEDNESDAY_MORNING)
    chat = await open_chat(api, world, language=language)
    clock.set(FRIDAY_EVENING)
    # Written in the parent's language: routing reads a message in the language it was written in.
    text = SICK.get(language, "Sam is sick with a fever today")
    sent = await api.post(chat.messages_url(), json={"text": text}, headers=chat.parent.headers)
    assert sent.status_code == 201, sent.text
    items = (await api.get(chat.messages_url(), headers=chat.parent.headers)).json()["items"]
    notices = [m for m in items if m["system"]]
    assert len(notices) == 2, items
    quiet = next(m for m in notices if "01632 960123" not in m["text"])
    office = next(m for m in notices if "01632 960123" in m["text"])
    for notice in (quiet, office):
        assert notice["lang"] == language
        assert "Thank you" not in notice["text"] and "This looks like" not in notice["text"]
    assert "01632 960123" in office["text"]
    assert "Mrs Patel" in quiet["text"] or chat.teacher.user.name in quiet["text"]
    if language == "es":
        assert quiet["text"].startswith("Gracias, su mensaje está guardado.")
        assert "lunes 08:00" in quiet["text"]
        assert "enfermedad" in office["text"] and "secretaría" in office["text"]
