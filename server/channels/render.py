"""Per-reader rendering of events: one rendering per variant (language, staff or not), never per connection.

The renderers are passed in when the live layer is built (``server/app.py`` hands it
translation's: ``post.created`` picks the reader's language out of
``data["post"]["translations"]``); an event type without one reaches every reader as
published. An event may also name its audience (``"audience": {"language": "es"}`` or
``{"staff": true}``) so that only matching variants receive it; the key never reaches
clients. What does not live here: grouping connections (the hub) and encoding (protocol).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Variant:
    """What a rendering depends on: the reader's preferred language and whether they are staff."""

    language: str
    staff: bool


Renderer = Callable[[dict[str, Any], Variant], dict[str, Any]]
AUDIENCE = "audience"


class Rendering:
    """The renderers of one live layer, by event type."""

    def __init__(self, renderers: Mapping[str, Renderer] | None = None) -> None:
        self.renderers: dict[str, Renderer] = dict(renderers or {})

    def varies(self, event_type: str, data: dict[str, Any]) -> bool:
        """Whether readers of different variants may see this event differently (or not at all)."""
        return event_type in self.renderers or AUDIENCE in data

    def render(self, event_type: str, data: dict[str, Any], variant: Variant) -> dict[str, Any] | None:
        """The data a reader of ``variant`` receives, or None when they are not in its audience."""
        if not in_audience(data, variant):
            return None
        data = strip_audience(data)
        fn = self.renderers.get(event_type)
        return fn(data, variant) if fn is not None else data


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


def strip_audience(data: dict[str, Any]) -> dict[str, Any]:
    """The data without its audience key."""
    if AUDIENCE not in data:
        return data
    return {key: value for key, value in data.items() if key != AUDIENCE}
