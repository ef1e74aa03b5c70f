"""Languages families read, named with Babel in the reader's own language.

``KNOWN`` is the list a user may choose from; whether the server can translate
into each one depends on the installed engines (see ``server.translation``).
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

# Languages most often spoken by families in UK primary schools, plus the ones the
# bundled engines cover. Codes are ISO 639-1 (BCP 47 primary tags).
KNOWN: tuple[str, ...] = (
    "en", "ar", "bn", "ca", "de", "es", "fa", "fr", "gl", "gu", "hi", "it", "lt", "lv", "ne",
    "pa", "pl", "ps", "pt", "ro", "ru", "sk", "so", "sq", "ta", "ti", "tr", "uk", "ur", "zh", "cy",
)  # fmt: skip

RTL = frozenset({"ar", "fa", "ps", "ur", "he"})


def is_known(code: str) -> bool:
    """True when ``code`` is a language a user may choose."""
    return code in KNOWN


def language_name(code: str, in_language: str) -> str:
    """The name of language ``code`` written in language ``in_language``."""
    try:
        name = Locale.parse(code).get_display_name(in_language)
    except (UnknownLocaleError, ValueError):
        name = None
    return name or code


def native_name(code: str) -> str:
    """The language's name in itself ("Español", "اردو")."""
    return language_name(code, code)


def describe(code: str, reader_language: str, available: bool) -> dict[str, object]:
    """One entry of ``GET /api/languages``."""
    return {
        "code": code,
        "name": language_name(code, reader_language if is_known(reader_language) else "en"),
        "native_name": native_name(code),
        "rtl": code in RTL,
        "available": available,
    }
