"""The translation part in the app: its port, the live renderers, its place among the commit listeners."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from server.app import create_app, default_parts
from server.db.migrate import upgrade
from server.db.models import OutboxEvent
from server.services import Services
from server.translation.part import TranslationPart
from tests.conftest import make_settings
from tests.translation.fixtures import needs_apertium


@dataclass
class Variant:
    language: str
    staff: bool = False


class FakeLiveLayer:
    """Stands in for the live layer: a commit listener that records every batch."""

    def __init__(self) -> None:
        self.published: list[list[OutboxEvent]] = []

    async def after_commit(self, rows: list[OutboxEvent]) -> None:
        self.published.append(rows)

    async def start(self, services: Services) -> None:
        return None

    async def stop(self) -> None:
        return None


def test_the_translation_part_is_a_default_part() -> None:
    assert any(isinstance(part, TranslationPart) for part in default_parts(make_settings(Path("."), "x")))


@needs_apertium
async def test_part_fills_its_port_offers_renderers_and_listens_after_the_live_layer(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = make_settings(tmp_path, url).with_(translation_engines=("apertium",))
    live = FakeLiveLayer()
    translation = TranslationPart(settings)
    app = create_app(settings, parts=[live, translation])
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        assert services.translation is translation and translation.registry is not None
        assert "es" in await translation.translatable_languages()
        assert services.commit_listeners == [live.after_commit, translation.after_commit]
        renderers = translation.renderers()
        assert set(renderers) == {
            "post.created",
            "post.updated",
            "message.created",
            "activity.created",
            "activity.updated",
            "event.created",
            "event.updated",
            "event.cancelled",
        }
        render = renderers["post.created"]
        data = {"post": {"id": 1, "text": "Hello.", "lang": "en", "translations": {}}}
        assert render(data, Variant("es"))["post"]["translation"]["status"] == "pending"
        assert render(data, Variant("pl"))["post"]["translation"]["status"] == "unavailable"
        row = OutboxEvent(channel="school:1", type="report.created", data={})
        async with services.transaction() as session:
            session.info["outbox"] = [row]
        assert live.published == [[row]]  # the live layer's listener still gets every batch
    assert translation.registry is None
