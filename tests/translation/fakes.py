"""A scripted engine for tests that need control over timing and failures, not real translation."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from server.translation.engine import EngineError, Pair, UnsupportedPair


class FakeEngine:
    """Translates by tagging: ``"hello"`` en→es becomes ``"[es] hello"``; counts its calls."""

    def __init__(self, name: str, pairs: set[Pair], *, delay: float = 0.0, failures: int = 0) -> None:
        self.name = name
        self._pairs = set(pairs)
        self.delay = delay
        self.failures = failures
        self.calls: list[tuple[tuple[str, ...], str, str]] = []
        self.gate: asyncio.Event | None = None
        self.called = asyncio.Event()
        self.started = False
        self.closed = False

    def pairs(self) -> set[Pair]:
        return set(self._pairs)

    async def start(self) -> None:
        self.started = True

    async def close(self) -> None:
        self.closed = True

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        if (source, target) not in self._pairs:
            raise UnsupportedPair(f"{self.name}: {source}→{target}")
        self.calls.append((tuple(texts), source, target))
        self.called.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures > 0:
            self.failures -= 1
            raise EngineError(f"{self.name} failed on purpose")
        return [f"[{target}] {text}" for text in texts]
