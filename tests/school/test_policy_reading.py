"""The code of conduct reaches each family in their language, like a post, original kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from server.app import create_app
from server.db.migrate import upgrade
from server.school.policy_reading import policy_for_reader
from server.services import Services
from server.translation.part import TranslationPart
from tests.conftest import make_settings
from tests.factories import World
from tests.translation.fixtures import needs_apertium

POLICY = "Be kind to everyone.\n\nWrite to staff during school hours."


@needs_apertium
async def test_the_engines_translate_the_code_of_conduct_and_keep_the_original(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = make_settings(tmp_path, url).with_(translation_engines=("apertium",))
    app = create_app(settings, parts=[TranslationPart(settings)])
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        read = await policy_for_reader(services, POLICY, "en", "es")
        assert read["translation"] == {"status": "ready"} and read["lang"] == "es"
        assert read["original"] == {"text": POLICY, "lang": "en"}
        assert read["text"] != POLICY and "\n\n" in read["text"]
        same = await policy_for_reader(services, POLICY, "en", "en-GB")
        assert same["translation"] == {"status": "not_needed"} and same["text"] == POLICY


async def test_without_an_engine_the_family_reads_the_original(api: httpx.AsyncClient, world: World) -> None:
    _, spanish = await world.add_family("Lucía", language="es")
    _, english = await world.add_family("Ben", language="en")
    es = (await api.get("/api/policy", headers=spanish.headers)).json()
    en = (await api.get("/api/policy", headers=english.headers)).json()
    assert es["original"]["text"] == en["text"] == es["text"]
    assert es["translation"] == {"status": "unavailable"} and es["lang"] == "en"
    assert en["translation"] == {"status": "not_needed"}
    assert es["version"] == en["version"]
