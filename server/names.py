"""Pupil display names (P11): first name only, plus the surname initial when needed.

Pure functions; the rest of the server never builds a pupil's name itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Protocol


class NamedPupil(Protocol):
    id: int
    first_name: str
    last_name: str


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def display_names(classmates: Iterable[NamedPupil]) -> dict[int, str]:
    """Display name per pupil id, for pupils of one class.

    "Amir" alone; "Amir K." when another pupil in the class is also called Amir.
    """
    pupils = list(classmates)
    counts = Counter(_fold(p.first_name) for p in pupils)
    names: dict[int, str] = {}
    for pupil in pupils:
        first = " ".join(pupil.first_name.split())
        if counts[_fold(pupil.first_name)] > 1 and pupil.last_name.strip():
            names[pupil.id] = f"{first} {pupil.last_name.strip()[0].upper()}."
        else:
            names[pupil.id] = first
    return names
