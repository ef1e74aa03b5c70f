"""The ``Engine`` protocol: what every translation engine offers, and its errors.

An engine knows the language pairs it can translate (ISO 639-1 codes) and
translates a batch of texts for one pair without blocking the event loop. The
engines live beside this module (``argos.py``, ``apertium.py``); ``registry.py``
orders them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

Pair = tuple[str, str]


class EngineError(RuntimeError):
    """An engine could not translate (a crashed process, a broken model); the job may be retried."""


class UnsupportedPair(EngineError):
    """The engine has no way to translate this pair."""


@runtime_checkable
class Engine(Protocol):
    """A translation engine: its pairs, and batch translation for one pair."""

    name: str

    def pairs(self) -> set[Pair]:
        """Every (source, target) pair this engine can translate now."""
        ...

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate each text from ``source`` to ``target``; same length and order as ``texts``."""
        ...

    async def start(self) -> None:
        """Get ready (load models, start processes); called once at start-up."""
        ...

    async def close(self) -> None:
        """Release models and processes."""
        ...
