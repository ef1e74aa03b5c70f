"""The translation part wires itself into the app: extras, the live renderer, the commit hook."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.app import create_app, default_parts
from server.db.migrate import upgrade
from server.db.models import OutboxEvent
from server.services import Services
from server.translation.part import TranslationPart
from server.translation.registry import current_registry
from tests.conftest import make_settings
from tests.translation.fixtures import needs_apertium


@dataclass
class Variant:
    language: str
    staff: bool = False


class FakeLiveLayer:
    """Stands in for the live layer: offers ``register_renderer`` and its own commit sink."""

    def __init__(self) -> None:
        self.renderers: dict[str, Any] = {}
        self.published: list[list[OutboxEvent]] = []

    async def start(self, services: Services) -> None:
        services.extras["register_renderer"] = self.renderers.__setitem__

        async def publish(rows: list[OutboxEvent]) -> None:
            self.published.append(rows)

        services.after_commit = publish

    async def stop(self) -> None:
        return None


def test_the_translation_part_is_a_default_part() -> None:
    assert any(isinstance(part, TranslationPart) for part in default_parts(make_settings(Path("."), "x")))


@needs_apertium
async def test_part_registers_renderers_keeps_the_live_sink_and_offers_its_entry_points(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = make_settings(tmp_path, url).with_(translation_engines=("apertium",))
    live = FakeLiveLayer()
    app = create_app(settings, parts=[live, TranslationPart(settings)])
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        for name in (
            "request_translations",
            "translate_for_routing",
            "translatable_languages",
            "translation",
        ):
            assert name in services.extras
        assert "es" in await services.extras["translatable_languages"]()
        assert current_registry() is services.extras["translation_registry"]
        assert set(live.renderers) == {
            "post.created",
            "post.updated",
            "message.created",
            "activity.created",
            "activity.updated",
        }
        render = live.renderers["post.created"]
        data = {"post": {"id": 1, "text": "Hello.", "lang": "en", "translations": {}}}
        assert render(data, Variant("es"))["post"]["translation"]["status"] == "pending"
        assert render(data, Variant("pl"))["post"]["translation"]["status"] == "unavailable"
        row = OutboxEvent(channel="school:1", type="report.created", data={})
        await services.after_commit([row])
        assert live.published == [[row]]  # the live layer's sink still gets every batch
    assert current_registry() is not services.extras["translation_registry"]
