"""``TranslationPart``: the server part that starts engines, queue and pipeline.

At start-up it builds (or shares) this process's engine registry, picks the queue
by broker URL (``memory://``: in-process tasks; ``redis://``: the Redis stream, done
by ``python -m server worker`` processes) and fills ``services.translation`` with
itself, whose entry points the rest of the server uses:

- :meth:`request_translations` (queue jobs), :meth:`translate_for_routing` (office
  routing), :meth:`translatable_languages` (``GET /api/languages``), ``registry``
  (which engine serves which pair: the reader's view and the coverage page);
- :meth:`after_commit`, one of the app's commit listeners: it starts jobs for new and
  edited posts and messages;
- :meth:`renderers`, handed to the live layer by the app: the per-reader rendering of
  post, message and activity events.

It also catches up at start-up on recent items still untranslated (seeded without
events, or whose jobs an in-process queue lost when the server stopped).
"""

from __future__ import annotations

import logging
from typing import Literal

from server.channels.render import Renderer
from server.db.models import OutboxEvent
from server.language.view import NO_ROUTES, RENDERED_EVENTS, Routes, make_renderer
from server.services import Services
from server.settings import Settings
from server.settings import uses_redis as redis_url
from server.translation.pipeline import Pipeline
from server.translation.queue import JobQueue, create_queue
from server.translation.registry import Registry, release_registry, shared_registry

log = logging.getLogger("homeroom.translation")

Role = Literal["auto", "web", "worker"]


def uses_redis(settings: Settings) -> bool:
    """Whether jobs go through the Redis stream (a ``redis://`` broker) rather than in-process."""
    return redis_url(settings.broker_url)


class TranslationPart:
    """Engines, queue and pipeline for one app; ``role="worker"`` also does Redis-queued jobs."""

    def __init__(self, settings: Settings, *, role: Role = "auto") -> None:
        self.settings = settings
        self.role = role
        self.registry: Registry | None = None
        self.queue: JobQueue | None = None
        self.pipeline: Pipeline | None = None

    def consumes(self) -> bool:
        """Whether this process does jobs: always in-process; with Redis only in worker processes."""
        return self.role == "worker" or not uses_redis(self.settings)

    async def start(self, services: Services) -> None:
        settings = self.settings
        consume = self.consumes()
        self.registry = await shared_registry(settings, warm=consume)
        self.queue = create_queue(settings, services.redis)
        self.pipeline = Pipeline(services, self.registry, self.queue)
        services.translation = self
        await self.queue.start(self.pipeline.run_job, consume=consume)
        if consume:
            # Rows written without events (the demo, imports) and jobs lost at a restart.
            self.pipeline.start_catch_up()
        log.info(
            "translation: engines %s, %d pairs, queue %s%s",
            ",".join(self.registry.names) or "none",
            len(self.registry.pairs()),
            type(self.queue).__name__,
            "" if consume else " (jobs done by worker processes)",
        )

    def renderers(self) -> dict[str, Renderer]:
        """How each translated event type is rendered for one reader variant (for the live layer)."""
        render = make_renderer(self)
        return {event_type: render for event_type in RENDERED_EVENTS}

    def engine_for(self, source: str, target: str) -> str | None:
        """The engine that would translate this pair (None before start or without one)."""
        routes: Routes = self.registry if self.registry is not None else NO_ROUTES
        return routes.engine_for(source, target)

    async def after_commit(self, rows: list[OutboxEvent]) -> None:
        """Plan jobs for the posts and messages in a committed batch (a commit listener; never raises)."""
        if self.pipeline is None:
            return
        try:
            self.pipeline.observe(rows)
        except Exception:
            log.exception("translation observer failed")

    async def request_translations(
        self, kind: str, item_id: int, text: str, source: str, languages: set[str]
    ) -> int:
        """Queue one job per language that needs one; 0 when translation is stopped."""
        if self.pipeline is None:
            return 0
        return await self.pipeline.request_translations(kind, item_id, text, source, languages)

    async def translate_for_routing(self, text: str, source: str, target: str) -> str | None:
        """The text in ``target`` for office routing, or None (never raises)."""
        if self.pipeline is None:
            return None
        return await self.pipeline.translate_for_routing(text, source, target)

    async def translatable_languages(self) -> set[str]:
        """Every language this server can translate into."""
        return self.registry.targets() if self.registry is not None else set()

    async def stop(self) -> None:
        if self.pipeline is not None:
            await self.pipeline.close()
        if self.queue is not None:
            await self.queue.stop()
        if self.registry is not None:
            await release_registry(self.registry)
        self.registry = self.queue = self.pipeline = None
