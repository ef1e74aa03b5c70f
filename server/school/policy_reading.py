"""The code of conduct as a family reads it: school content, translated by the engines like a post.

The text a school writes is translated into the reader's language through the same engines and
cache as posts (``translate_for_routing`` never raises: no engine for the pair leaves the
original). The reply has the post shape: ``text``/``lang`` as read, ``original`` as written,
``translation.status`` ``ready``, ``not_needed`` or ``unavailable``. What a family accepts is the
school's original, named by its version number; the translation only helps them read it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from server.services import Services

# A long code of conduct through a slow engine: past this, the original is shown (still correct).
TRANSLATE_WITHIN_S = 20.0


def _base(code: str | None) -> str:
    return (code or "").replace("_", "-").split("-")[0].lower()


async def policy_for_reader(services: Services, text: str, source: str, reader: str | None) -> dict[str, Any]:
    """``text`` (in ``source``) for a reader of ``reader``, with the original kept."""
    shape: dict[str, Any] = {
        "text": text,
        "lang": source,
        "original": {"text": text, "lang": source},
        "translation": {"status": "not_needed"},
    }
    target = _base(reader)
    if not target or target == _base(source) or not text.strip():
        return shape
    translate = services.translation.translate_for_routing if services.translation is not None else None
    result = None
    if translate is not None:
        try:
            result = await asyncio.wait_for(translate(text, source, target), timeout=TRANSLATE_WITHIN_S)
        except TimeoutError:
            result = None
    if not result:
        shape["translation"] = {"status": "unavailable"}
        return shape
    shape.update(text=result, lang=target, translation={"status": "ready"})
    return shape
