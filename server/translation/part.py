"""``TranslationPart``: the server part that starts engines, queue and pipeline, and wires them in.

At start-up it builds (or shares) this process's engine registry, picks the queue
by broker URL (``memory://``: in-process tasks; ``redis://``: the Redis stream, done
by ``python -m server worker`` processes), and publishes the pipeline's entry points
in ``services.extras``:

- ``request_translations(kind, item_id, text, source, languages)``;
- ``translate_for_routing(text, source, target) -> str | None`` (office routing);
- ``translatable_languages() -> set[str]`` (``GET /api/languages``);
- ``translation`` (the :class:`~server.translation.pipeline.Pipeline`) and
  ``translation_registry``.

It watches committed events to start jobs for new and edited posts and messages,
catches up at start-up on recent ones still untranslated (seeded without events, or
whose jobs an in-process queue lost when the server stopped), and
registers the per-reader renderer with the live layer when the live layer offers
``register_renderer``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from server.language.view import RENDERED_EVENTS, make_renderer
from server.services import Services
from server.settings import Settings
from server.translation.pipeline import Pipeline, chain_after_commit
from server.translation.queue import JobQueue, MemoryQueue, RedisQueue
from server.translation.registry import Registry, release_registry, shared_registry

log = logging.getLogger("homeroom.translation")

Role = Literal["auto", "web", "worker"]


def uses_redis(settings: Settings) -> bool:
    return settings.broker_url.startswith(("redis://", "rediss://", "unix://"))


class TranslationPart:
    """Engines, queue and pipeline for one app; ``role="worker"`` also does Redis-queued jobs."""

    def __init__(self, settings: Settings, *, role: Role = "auto") -> None:
        self.settings = settings
        self.role = role
        self.registry: Registry | None = None
        self.queue: JobQueue | None = None
        self.pipeline: Pipeline | None = None
        self._undo: Callable[[], None] | None = None
        self._services: Services | None = None

    def consumes(self) -> bool:
        """Whether this process does jobs: always in-process; with Redis only in worker processes."""
        return self.role == "worker" or not uses_redis(self.settings)

    async def start(self, services: Services) -> None:
        settings = self.settings
        consume = self.consumes()
        self.registry = await shared_registry(settings, warm=consume)
        redis = services.extras.get("redis")
        if uses_redis(settings) and redis is not None:
            self.queue = RedisQueue(
                redis,
                settings.redis_prefix,
                tasks=settings.translation_jobs,
                claim_seconds=settings.translation_claim_seconds,
            )
        else:
            self.queue = MemoryQueue(tasks=settings.translation_jobs)
        self.pipeline = Pipeline(services, self.registry, self.queue)
        services.extras.update(
            {
                "translation": self.pipeline,
                "translation_registry": self.registry,
                "request_translations": self.pipeline.request_translations,
                "translate_for_routing": self.pipeline.translate_for_routing,
                "translatable_languages": self.pipeline.translatable_languages,
            }
        )
        self._services = services
        self._undo = chain_after_commit(services, self.pipeline.observe)
        self._register_renderer(services)
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

    def _register_renderer(self, services: Services) -> None:
        """Give the live layer the per-reader renderer of post and message events."""
        register: Any = services.extras.get("register_renderer")
        if register is None:
            try:
                from server.channels.render import register_renderer as register
            except ImportError:
                log.info("translation: no live layer to register the reader renderer with")
                return
        # The live layer's registry is per process, so the renderer asks for the process's
        # current engines each time rather than holding this app's.
        renderer = make_renderer(None)
        for event_type in RENDERED_EVENTS:
            register(event_type, renderer)

    async def stop(self) -> None:
        if self.pipeline is not None:
            await self.pipeline.close()
        if self.queue is not None:
            await self.queue.stop()
        if self._undo is not None:
            self._undo()
        if self.registry is not None:
            await release_registry(self.registry)
        self.registry = self.queue = self.pipeline = None
