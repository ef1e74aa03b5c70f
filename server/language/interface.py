"""The interface's own words (buttons, notices, emails) in the reader's language.

Every text a person reads that the server writes goes through :func:`text` or
:func:`plural`; module-level constants are marked with :func:`N_` and passed to
:func:`text` when used. Placeholders are named, in braces: ``text(lang, "Hello {name}",
name=...)``. ``pybabel extract`` finds the messages by these names (keywords ``text:2``,
``plural:2,3`` and ``N_``).
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated later, where it is read."""
    return message


def text(language: str | None, message: str, /, **values: object) -> str:
    """``message`` in ``language`` (English when there is no catalog), placeholders filled."""
    return message.format(**values) if values else message


def plural(language: str | None, singular: str, plural_form: str, n: int, /, **values: object) -> str:
    """The form of ``singular``/``plural_form`` for ``n`` in ``language``; ``{n}`` is filled too."""
    chosen = singular if n == 1 else plural_form
    return chosen.format(n=n, **values)
