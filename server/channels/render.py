"""Per-reader rendering of events: one rendering per variant (language, staff or not), never per connection.

Other layers plug in here: the translation pipeline registers a renderer for
``post.created`` that picks the reader's language out of ``data["post"]["translations"]``.
An event may also name its audience (``"audience": {"language": "es"}`` or
``{"staff": true}``) so that only matching variants receive it; the key never reaches
clients. What does not live here: grouping connections (the hub) and encoding (protocol).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Variant:
    """What a rendering depends on: the reader's preferred language and whether they are staff."""

    language: str
    staff: bool


Renderer = Callable[[dict[str, Any], Variant], dict[str, Any]]
AUDIENCE = "audience"

_renderers: dict[str, Renderer] = {}


def register_renderer(event_type: str, fn: Renderer) -> None:
    """Render events of ``event_type`` with ``fn(data, variant)``; the default is the data unchanged."""
    _renderers[event_type] = fn


def unregister_renderer(event_type: str) -> None:
    """Forget the renderer of ``event_type`` (tests use this to clean up)."""
    _renderers.pop(event_type, None)


def varies(event_type: str, data: dict[str, Any]) -> bool:
    """Whether readers of different variants may see this event differently (or not at all)."""
    return event_type in _renderers or AUDIENCE in data


def in_audience(data: dict[str, Any], variant: Variant) -> bool:
    """Whether a reader of ``variant`` is among the event's declared audience (everyone by default)."""
    audience = data.get(AUDIENCE)
    if not isinstance(audience, dict):
        return True
    language = audience.get("language")
    if language is not None and language != variant.language:
        return False
    staff = audience.get("staff")
    return staff is None or staff == variant.staff


def render(event_type: str, data: dict[str, Any], variant: Variant) -> dict[str, Any] | None:
    """The data a reader of ``variant`` receives, or None when they are not in its audience."""
    if not in_audience(data, variant):
        return None
    if AUDIENCE in data:
        data = {key: value for key, value in data.items() if key != AUDIENCE}
    fn = _renderers.get(event_type)
    return fn(data, variant) if fn is not None else data


def strip_audience(data: dict[str, Any]) -> dict[str, Any]:
    """The data without its audience key."""
    if AUDIENCE not in data:
        return data
    return {key: value for key, value in data.items() if key != AUDIENCE}
