"""Names and school words kept exactly through translation: placeholders in, the words put back out.

Pure and sans-I/O. Before a text goes to an engine, :func:`protect` swaps every
protected term (a pupil's display name, a member of staff, the school's name, a
school way, a class, an admin's glossary entry) for a numbered placeholder;
:func:`restore` puts the terms back in the engine's output. Which terms a school
protects is gathered by :func:`school_terms`; the SQL that feeds it lives in
``pipeline.py``.

Why four-digit numbers (``7101``, ``7102`` …): measured with Apertium eng-spa
(run with ``-n``, so unknown words carry no ``*``), letter tokens such as ``ZQX1``
or ``Zqx1`` pass through but make Apertium capitalise the next word ("ZQX1 Y
ZQX2"), while numbers pass untouched and leave the sentence as it was ("7101 y
7102 ganó el premio"). Neural models (argos) copy numbers more reliably than
made-up words, but may write them with a thousands separator (``7.101``) or in
another script's digits (``٧١٠١``); :func:`restore` accepts both. A placeholder
missing from the output means the engine lost it: :func:`restore` then answers
None and the caller translates the text unprotected rather than drop a name.
Known limit: an English possessive on a protected name (``Grace's coat``) loses
its ``'s`` in Apertium, which cannot inflect a word it does not know.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

MAX_TERMS = 99  # placeholders per text: base+1 … base+99, always four digits
_BASES = (7100, 8300, 6400, 9500, 5200, 4700, 3800, 2900)
# Four digits, perhaps with a thousands separator after the first (7.101, 7 101, ٧٬١٠١).
# A full stop right after it is captured: a term ending in one ("Nadia P.") must not get two.
_PLACEHOLDER = re.compile(r"(?<!\d)(\d)[.,\u00a0\u202f\u2009\u066c']?(\d)(\d)(\d)(?!\d)(\.(?!\d))?")
_PERSON_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")  # "Mrs Adebayo (Head)" → "Mrs Adebayo"


@dataclass(frozen=True)
class Protected:
    """A text with its protected terms replaced, and which placeholder stands for which term."""

    text: str
    terms: dict[int, str]

    @property
    def changed(self) -> bool:
        return bool(self.terms)


def _pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    return _compiled(tuple(sorted({t.strip() for t in terms if t and t.strip()}, key=lambda t: (-len(t), t))))


@functools.lru_cache(maxsize=64)
def _compiled(cleaned: tuple[str, ...]) -> re.Pattern[str] | None:
    if not cleaned:
        return None
    # Whole words only, longest first ("Nadia P." before "Nadia", "Year 4 Oak" before "Year 4").
    alternatives = "|".join(re.escape(term) for term in cleaned)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def _base_for(text: str) -> int | None:
    """A placeholder range none of whose numbers already occurs in the text."""
    numbers = {int(n) for n in re.findall(r"\d+", text) if len(n) <= 6}
    for base in _BASES:
        if not any(base < n <= base + MAX_TERMS for n in numbers):
            return base
    return None


def protect(text: str, terms: Iterable[str]) -> Protected:
    """Replace each protected term in ``text`` (whole words, case as written) by a placeholder."""
    pattern = _pattern(terms)
    if pattern is None or not text:
        return Protected(text, {})
    base = _base_for(text)
    if base is None:
        return Protected(text, {})
    numbers: dict[str, int] = {}

    def swap(match: re.Match[str]) -> str:
        term = match.group(0)
        number = numbers.get(term)
        if number is None:
            if len(numbers) >= MAX_TERMS:
                return term
            number = numbers[term] = base + len(numbers) + 1
        return str(number)

    replaced = pattern.sub(swap, text)
    return Protected(replaced, {number: term for term, number in numbers.items()})


def _value(match: re.Match[str]) -> int | None:
    digits = [unicodedata.digit(group, None) for group in match.groups()[:4]]
    if any(d is None for d in digits):
        return None
    return int("".join(str(d) for d in digits))


def restore(translated: str, protected: Protected) -> str | None:
    """Put the terms back in an engine's output; None when a placeholder went missing."""
    if not protected.terms:
        return translated
    seen: set[int] = set()

    def back(match: re.Match[str]) -> str:
        value = _value(match)
        if value is None or value not in protected.terms:
            return match.group(0)
        seen.add(value)
        term, stop = protected.terms[value], match.group(5) or ""
        return term if term.endswith(".") else term + stop

    restored = _PLACEHOLDER.sub(back, translated)
    if seen != set(protected.terms):
        return None
    return restored


def person_names(name: str) -> list[str]:
    """The forms of a person's name to keep: as written, and without a trailing "(Head)"-style note."""
    name = name.strip()
    short = _PERSON_SUFFIX.sub("", name).strip()
    return [n for n in dict.fromkeys((name, short)) if n]


def school_terms(
    *,
    school_name: str = "",
    staff_names: Iterable[str] = (),
    pupil_names: Iterable[str] = (),
    class_names: Iterable[str] = (),
    skill_names: Iterable[str] = (),
    glossary: Iterable[str] = (),
) -> tuple[str, ...]:
    """Every term a school keeps untranslated, deduplicated, longest first."""
    found: set[str] = set()
    if school_name.strip():
        found.add(school_name.strip())
    for name in staff_names:
        found.update(person_names(name))
    for group in (pupil_names, class_names, skill_names, glossary):
        found.update(t.strip() for t in group if t and t.strip())
    return tuple(sorted((t for t in found if len(t) >= 2), key=lambda t: (-len(t), t)))
