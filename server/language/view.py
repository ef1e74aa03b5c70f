"""What one reader sees of a post or message: text in their language when ready, original kept.

API.md's shape: ``text``/``lang`` are in the reader's preferred language when a
translation is ready, ``original`` always holds what the author wrote, and
``translation.status`` is ``ready``, ``pending``, ``not_needed`` or ``unavailable``
(no engine for the pair). The same function serves the REST API
(:func:`reader_view` with :func:`cached_translations`, one query per page) and the
live layer (:func:`make_renderer`, once per reader-language variant of an event).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from server.language import stored as cache
from server.services import Services

RENDERED_EVENTS = {
    "post.created": "post",
    "post.updated": "post",
    "message.created": "message",
    "activity.created": "activity",
    "activity.updated": "activity",
    "event.created": "event",
    "event.updated": "event",
    "event.cancelled": "event",
}


class Routes(Protocol):
    """Which engine would translate a pair (None: no engine has it); the translation registry is one."""

    def engine_for(self, source: str, target: str) -> str | None: ...


class _NoRoutes:
    """No translation at all: every other language is ``unavailable``."""

    def engine_for(self, source: str, target: str) -> str | None:
        return None


NO_ROUTES: Routes = _NoRoutes()


def routes_of(services: Services) -> Routes:
    """The translation routes of this server (none when no translation part runs)."""
    translation = services.translation
    registry = translation.registry if translation is not None else None
    return registry if registry is not None else NO_ROUTES


class Variant(Protocol):
    """A render variant of the live layer: one per (reader language, staff or not)."""

    @property
    def language(self) -> str: ...

    @property
    def staff(self) -> bool: ...


async def cached_translations(
    session: AsyncSession, items: list[tuple[str, str]], target: str
) -> dict[tuple[str, str], cache.Cached]:
    """Stored translations into ``target`` for many (text, source) items, keyed by (text, source)."""
    return await cache.lookup_many(session, items, target)


async def translations_by_id(
    session: AsyncSession, items: list[tuple[int, str, str]], target: str
) -> dict[int, dict[str, str]]:
    """Ready translations into ``target`` of many (id, text, source) items, as {id: {target: text}}."""
    found = await cache.lookup_many(session, [(text, source) for _, text, source in items], target)
    out: dict[int, dict[str, str]] = {}
    for item_id, text, source in items:
        hit = found.get((text, source))
        if hit is not None:
            out[item_id] = {target: hit.text}
    return out


async def cached_languages(session: AsyncSession, text: str, source: str) -> dict[str, str]:
    """Every stored translation of one text as {lang: text}: what an event's ``translations`` carries."""
    return await cache.languages_of(session, text, source)


def translation_status(source: str, reader_language: str, ready: bool, available: bool) -> str:
    """``not_needed``, ``ready``, ``pending`` or ``unavailable`` for one reader."""
    if not reader_language or source == reader_language:
        return "not_needed"
    if ready:
        return "ready"
    return "pending" if available else "unavailable"


def _found(
    translations: Mapping[Any, Any] | None, text: str, source: str, language: str
) -> tuple[str, str | None] | None:
    """A translation out of either a (text, source)-keyed map or a {lang: text} map."""
    if not translations:
        return None
    value = translations.get((text, source))
    if value is None:
        value = translations.get(language)
    if value is None:
        return None
    if isinstance(value, cache.Cached):
        return value.text, value.engine
    return str(value), None


def reader_view(
    item: Mapping[str, Any],
    reader_language: str,
    translations: Mapping[Any, Any] | None = None,
    *,
    routes: Routes,
) -> dict[str, Any]:
    """A post or message dict as ``reader_language`` reads it (a new dict; the input is untouched).

    ``translations`` is what :func:`cached_translations` returned (keyed by (text, source))
    or the item's own {lang: text} map; the item's ``translations`` field, if any, is used
    too and left out of the result. Rendering a rendered item again starts from its original.
    """
    view = dict(item)
    carried = view.pop("translations", None)
    original = view.get("original")
    if isinstance(original, Mapping) and "text" in original:
        text, source = str(original["text"]), str(original.get("lang") or view.get("lang") or "")
    else:
        text, source = str(view.get("text", "")), str(view.get("lang") or "")
    found = _found(translations, text, source, reader_language) or _found(
        carried if isinstance(carried, Mapping) else None, text, source, reader_language
    )
    route_engine = routes.engine_for(source, reader_language) if source != reader_language else None
    status = translation_status(source, reader_language, found is not None, route_engine is not None)
    view["original"] = {"text": text, "lang": source}
    if status == "ready" and found is not None:
        view["text"], view["lang"] = found[0], reader_language
        engine = found[1] or route_engine
    else:
        view["text"], view["lang"] = text, source
        engine = route_engine if status == "pending" else None
    # API.md: {"status": "ready", "engine": "argos"}; the engine only when one is at work.
    view["translation"] = {"status": status, "engine": engine} if engine else {"status": status}
    return view


async def translated_comments(
    session: AsyncSession,
    items: list[dict[str, Any]],
    reader_language: str,
    *,
    routes: Routes,
) -> list[dict[str, Any]]:
    """Portfolio items with the teacher's comment in the reader's language when ready.

    Each item with a comment in another language gains ``comment_original`` ({text, lang})
    and ``comment_translation`` ({status}); ``comment``/``comment_lang`` become the
    translation when it is ready. Items in the reader's language are left as they are.
    """
    wanted = [(i["comment"], i.get("comment_lang") or "en") for i in items if i.get("comment")]
    found = await cache.lookup_many(session, wanted, reader_language) if wanted else {}
    out = []
    for item in items:
        comment = item.get("comment") or ""
        if not comment:
            out.append(item)
            continue
        source = item.get("comment_lang") or "en"
        hit = found.get((comment, source))
        route = routes.engine_for(source, reader_language) if source != reader_language else None
        status = translation_status(source, reader_language, hit is not None, route is not None)
        if status == "not_needed":  # the reader's own language: the item exactly as written
            out.append(item)
            continue
        view = {
            **item,
            "comment_original": {"text": comment, "lang": source},
            "comment_translation": {"status": status},
        }
        if status == "ready" and hit is not None:
            view["comment"], view["comment_lang"] = hit.text, reader_language
        out.append(view)
    return out


ACTIVITY_FIELDS = ("title", "instructions")
EVENT_FIELDS = ("title", "details")


def activity_view(
    item: Mapping[str, Any],
    reader_language: str,
    found: Mapping[str, str] | None = None,
    *,
    routes: Routes,
    fields: tuple[str, ...] = ACTIVITY_FIELDS,
) -> dict[str, Any]:
    """An activity as ``reader_language`` reads it: title and instructions translated when ready.

    A school event reads the same way with ``fields=EVENT_FIELDS`` (title and details).

    ``found`` maps a field to its translation into the reader's language; the item's own
    ``translations`` ({field: {lang: text}}, carried by live events) are used too and left
    out of the result. ``original`` holds what the teacher wrote ({title, instructions,
    lang}); ``translation.status`` is ``ready`` once every field with text is translated.
    A field switches as soon as its translation exists. Rendering a rendered item again
    starts from its original.
    """
    view = dict(item)
    carried = view.pop("translations", None)
    original = view.get("original")
    if isinstance(original, Mapping) and "title" in original:
        texts = {f: str(original.get(f) or "") for f in fields}
        source = str(original.get("lang") or "en")
    else:
        texts = {f: str(view.get(f) or "") for f in fields}
        source = str(view.get("lang") or "en")
    ready = dict(found or {})
    if isinstance(carried, Mapping):
        for field in fields:
            by_lang = carried.get(field)
            if isinstance(by_lang, Mapping) and by_lang.get(reader_language) and field not in ready:
                ready[field] = str(by_lang[reader_language])
    wanted = [f for f in fields if texts[f].strip()]
    route = routes.engine_for(source, reader_language) if source != reader_language else None
    done = bool(wanted) and all(f in ready for f in wanted)
    status = translation_status(source, reader_language, done, route is not None)
    view["original"] = {**texts, "lang": source}
    view.update(texts)
    view["lang"] = source
    if status not in ("not_needed", "unavailable"):
        for field in wanted:
            if field in ready:
                view[field] = ready[field]
        if status == "ready":
            view["lang"] = reader_language
    view["translation"] = {"status": status}
    return view


async def translated_activities(
    session: AsyncSession,
    items: list[dict[str, Any]],
    reader_language: str,
    *,
    routes: Routes,
) -> list[dict[str, Any]]:
    """Activities (as :func:`server.portfolio.work.activity_shape` makes them) as one reader reads them."""
    wanted = [
        (item[f], item.get("lang") or "en")
        for item in items
        for f in ACTIVITY_FIELDS
        if str(item.get(f) or "")
    ]
    hits = await cache.lookup_many(session, wanted, reader_language) if wanted else {}
    out = []
    for item in items:
        source = item.get("lang") or "en"
        found = {}
        for field in ACTIVITY_FIELDS:
            hit = hits.get((item.get(field) or "", source))
            if hit is not None:
                found[field] = hit.text
        out.append(activity_view(item, reader_language, found, routes=routes))
    return out


async def activity_translations(
    session: AsyncSession, title: str, instructions: str, source: str
) -> dict[str, Any]:
    """Every stored translation of an activity's fields, {field: {lang: text}}: what its events carry."""
    return {
        field: await cache.languages_of(session, text, source) if text else {}
        for field, text in (("title", title), ("instructions", instructions))
    }


def make_renderer(routes: Routes) -> Callable[[dict[str, Any], Variant], dict[str, Any]]:
    """The live layer's per-variant renderer for post, message, activity and school event events."""

    def render(data: dict[str, Any], variant: Variant) -> dict[str, Any]:
        out = dict(data)
        for key in ("post", "message"):
            item = data.get(key)
            if isinstance(item, Mapping):
                out[key] = reader_view(item, variant.language, routes=routes)
        activity = data.get("activity")
        if isinstance(activity, Mapping):
            out["activity"] = activity_view(activity, variant.language, routes=routes)
        event = data.get("event")
        if isinstance(event, Mapping) and "original" in event:
            out["event"] = activity_view(event, variant.language, routes=routes, fields=EVENT_FIELDS)
        return out

    return render
