"""The interface's own words (buttons, notices, emails) in the reader's language.

Every text a person reads that the server writes goes through :func:`text` or
:func:`plural`; module-level constants are marked with :func:`N_` and passed to
:func:`text` when used. Placeholders are named, in braces: ``text(lang, "Hello {name}",
name=...)``. ``pybabel extract`` finds the messages by these names (keywords ``text:2``,
``plural:2,3`` and ``N_``); the catalogs are described in :mod:`server.language.catalogs`.
A language without a catalog (or a message not yet translated) reads English.
"""

from __future__ import annotations

import gettext
from functools import lru_cache

from server.language import catalogs
from server.language.languages import RTL


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated later, where it is read."""
    return message


def catalog_language(language: str | None) -> str | None:
    """The catalog serving ``language`` ("pt-BR" → "pt", "zh-Hans"/"zh-CN"/"zh" → "zh_Hans")."""
    if not language:
        return None
    code = language.replace("-", "_")
    parts = code.split("_")
    primary = parts[0].lower()
    if primary == "zh":
        return "zh_Hans" if "zh_Hans" in catalogs.LANGUAGES else None
    for candidate in (code, primary):
        if candidate in catalogs.LANGUAGES:
            return candidate
    return None


@lru_cache(maxsize=64)
def _translations(language: str) -> gettext.NullTranslations:
    catalogs.ensure_compiled()
    path = catalogs.mo_path(language)
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        return gettext.GNUTranslations(handle)


def interface_languages() -> set[str]:
    """User language codes whose interface catalog is complete ("zh" for "zh_Hans")."""
    complete: set[str] = set()
    for code, entry in catalogs.manifest().items():
        if isinstance(entry, dict) and entry.get("complete"):
            complete.add(code.split("_")[0])
    return complete


def isolate(value: str, language: str | None) -> str:
    """``value`` (a name, a phone number) isolated for a right-to-left reader (FSI … PDI), so
    "Nadia H." never reads ".Nadia H" inside Urdu; unchanged for left-to-right readers."""
    code = (language or "").replace("-", "_").split("_")[0]
    return f"\u2068{value}\u2069" if code in RTL else value


def reload() -> None:
    """Forget the loaded catalogs (after a compile)."""
    _translations.cache_clear()


def _fill(message: str, values: dict[str, object]) -> str:
    if not values:
        return message
    try:
        return message.format(**values)
    except (KeyError, IndexError, ValueError):
        return message


def text(language: str | None, message: str, /, **values: object) -> str:
    """``message`` in ``language`` (English when there is no catalog), placeholders filled."""
    code = catalog_language(language)
    chosen = _translations(code).gettext(message) if code else message
    return _fill(chosen, values)


def plural(language: str | None, singular: str, plural_form: str, n: int, /, **values: object) -> str:
    """The form of ``singular``/``plural_form`` for ``n`` in ``language``; ``{n}`` is filled too."""
    code = catalog_language(language)
    if code:
        chosen = _translations(code).ngettext(singular, plural_form, n)
    else:
        chosen = singular if n == 1 else plural_form
    return _fill(chosen, {"n": n, **values})


def from_accept_language(header: str | None) -> str:
    """The best interface language for an ``Accept-Language`` header ("en" when none fits)."""
    if not header:
        return "en"
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, index, tag.strip()))
    for _, _, tag in sorted(weighted):
        if tag.split("-")[0].lower() == "en":
            return "en"
        code = catalog_language(tag)
        if code:
            return code
    return "en"
