"""The engines in the order of ``HOMEROOM_TRANSLATION_ENGINES``: for each pair, the first that has it.

``argos,apertium`` (the default) uses an installed argos package where there is
one and Apertium for the other pairs it covers; ``none`` (or an empty list) means
no translation at all. A pair no engine has directly may still be served through
English by two engines (e.g. Urdu→English by argos, then English→Spanish by
Apertium). Pairs nobody has are ``unavailable``, never an error.

A process keeps one registry per configuration (:func:`shared_registry`): models
and Apertium pipelines are loaded once per process, however many apps run in it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from server.settings import Settings
from server.translation.engine import Engine, Pair, UnsupportedPair

log = logging.getLogger("homeroom.translation")

PIVOT = "en"
KNOWN_ENGINES = ("argos", "apertium", "none")


@dataclass(frozen=True)
class Route:
    """How one pair is translated: one engine, or two through English."""

    steps: tuple[tuple[Engine, str, str], ...]

    @property
    def engine(self) -> str:
        """The engine name readers see and the cache keeps (``argos``, ``argos+apertium``)."""
        names: list[str] = []
        for engine, _, _ in self.steps:
            if engine.name not in names:
                names.append(engine.name)
        return "+".join(names)


class Registry:
    """Ordered engines; answers which engine serves a pair and translates through it."""

    def __init__(self, engines: Sequence[Engine]) -> None:
        self.engines = list(engines)
        self._started = False
        self._start_lock = asyncio.Lock()

    @property
    def names(self) -> list[str]:
        return [engine.name for engine in self.engines]

    async def start(self) -> None:
        """Start every engine once; an engine that fails to start is left out, with a warning."""
        async with self._start_lock:
            if self._started:
                return
            kept: list[Engine] = []
            for engine in self.engines:
                try:
                    await engine.start()
                except Exception:
                    log.exception("translation engine %s failed to start; continuing without it", engine.name)
                    continue
                kept.append(engine)
            self.engines = kept
            self._started = True

    async def close(self) -> None:
        for engine in self.engines:
            try:
                await engine.close()
            except Exception:
                log.exception("translation engine %s failed to close", engine.name)
        self._started = False

    def pairs(self) -> dict[Pair, str]:
        """Every directly served pair and the name of the engine that wins it."""
        winners: dict[Pair, str] = {}
        for engine in self.engines:
            for pair in engine.pairs():
                winners.setdefault(pair, engine.name)
        return winners

    def route(self, source: str, target: str) -> Route | None:
        """The way ``source``→``target`` is translated, or None when no engine can."""
        if source == target:
            return None
        direct = self._first((source, target))
        if direct is not None:
            return Route(((direct, source, target),))
        if PIVOT in (source, target):
            return None
        first, second = self._first((source, PIVOT)), self._first((PIVOT, target))
        if first is None or second is None:
            return None
        return Route(((first, source, PIVOT), (second, PIVOT, target)))

    def _first(self, pair: Pair) -> Engine | None:
        for engine in self.engines:
            if pair in engine.pairs():
                return engine
        return None

    def engine_for(self, source: str, target: str) -> str | None:
        """The engine name that would translate this pair, or None."""
        route = self.route(source, target)
        return route.engine if route else None

    def can_translate(self, source: str, target: str) -> bool:
        return self.route(source, target) is not None

    def translates_from(self, source: str) -> bool:
        """Whether some engine can take ``source`` anywhere (directly or through English)."""
        return any(self.can_translate(source, target) for target in self.targets() if target != source)

    def targets(self) -> set[str]:
        """Every language some text can be translated into (directly or through English)."""
        direct = self.pairs()
        targets = {target for (_, target) in direct}
        if any(source != PIVOT for (source, target) in direct if target == PIVOT):
            targets |= {target for (source, target) in direct if source == PIVOT}
        return targets

    async def translate(self, texts: Sequence[str], source: str, target: str) -> tuple[list[str], str]:
        """Translate every text; return the translations and the engine name."""
        route = self.route(source, target)
        if route is None:
            raise UnsupportedPair(f"no engine translates {source}→{target}")
        current = list(texts)
        for engine, step_source, step_target in route.steps:
            current = await engine.translate(current, step_source, step_target)
        return current, route.engine


def build_engines(settings: Settings, *, warm: bool = True) -> list[Engine]:
    """The engines named in ``settings.translation_engines`` that this machine has, in order."""
    engines: list[Engine] = []
    for name in settings.translation_engines:
        name = name.strip().lower()
        if name in ("", "none"):
            continue
        if name == "argos":
            from server.translation.argos import ArgosEngine, argos_available

            if not argos_available():
                log.warning("translation engine 'argos' is configured but the 'translate' extra is missing")
                continue
            engines.append(
                ArgosEngine(
                    Path(settings.data_dir),
                    inter_threads=settings.translation_threads,
                    intra_threads=settings.translation_intra_threads,
                    beam_size=settings.translation_beam_size,
                    warm=warm,
                    bundled=[settings.argos_bundled_dir] if settings.argos_bundled_dir else [],
                )
            )
        elif name == "apertium":
            from server.translation.apertium import ApertiumEngine

            if not ApertiumEngine.installed():
                log.info("translation engine 'apertium' is configured but apertium is not installed")
                continue
            engines.append(ApertiumEngine(warm=warm))
        else:
            log.warning("unknown translation engine %r (known: %s)", name, ", ".join(KNOWN_ENGINES))
    return engines


_shared: dict[tuple[object, ...], Registry] = {}
_users: dict[tuple[object, ...], int] = {}


def _key(settings: Settings, warm: bool) -> tuple[object, ...]:
    return (
        tuple(settings.translation_engines),
        str(Path(settings.data_dir).resolve()),
        settings.translation_threads,
        settings.translation_intra_threads,
        settings.translation_beam_size,
        str(settings.argos_bundled_dir or ""),
        warm,
    )


async def shared_registry(settings: Settings, *, warm: bool = True) -> Registry:
    """This process's registry for these settings, started; pair with :func:`release_registry`."""
    key = _key(settings, warm)
    registry = _shared.get(key)
    if registry is None:
        registry = _shared[key] = Registry(build_engines(settings, warm=warm))
    _users[key] = _users.get(key, 0) + 1
    await registry.start()
    return registry


async def release_registry(registry: Registry) -> None:
    """Give back a registry from :func:`shared_registry`; the last user closes it."""
    for key, found in list(_shared.items()):
        if found is registry:
            _users[key] -= 1
            if _users[key] <= 0:
                del _shared[key], _users[key]
                await registry.close()


NO_ENGINES = Registry([])
