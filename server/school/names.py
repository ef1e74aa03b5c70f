"""Pupil display names (P11): first name only, plus the surname initial when needed.

Pure functions; the rest of the server never builds a pupil's name itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol


class NamedPupil(Protocol):
    id: int
    first_name: str
    last_name: str
    left_at: datetime | None


def _tidy(name: str) -> str:
    return " ".join(name.split())


def _fold(name: str) -> str:
    return _tidy(name).casefold()


def display_names(classmates: Iterable[NamedPupil]) -> dict[int, str]:
    """Display name per pupil id, for the pupils of one class.

    "Amir" alone; "Amir K." when another pupil in the class is also called Amir
    (compared without regard to case or spacing). Pupils who have left still get a
    name (old posts tag them) but no longer make a classmate's name longer.
    """
    pupils = list(classmates)
    present = Counter(_fold(p.first_name) for p in pupils if p.left_at is None)
    names: dict[int, str] = {}
    for pupil in pupils:
        first = _tidy(pupil.first_name)
        others = present[_fold(first)] - (1 if pupil.left_at is None else 0)
        last = _tidy(pupil.last_name)
        names[pupil.id] = f"{first} {last[0].upper()}." if others > 0 and last else first
    return names
