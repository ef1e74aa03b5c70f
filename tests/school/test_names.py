"""Pupil display names (P11), table-driven: first name only, the surname initial when shared."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from server.school.names import display_names

LEFT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Pupil:
    id: int
    first_name: str
    last_name: str
    left_at: datetime | None = None


CASES = [
    ("one pupil: first name only", [("Amir", "Khan")], ["Amir"]),
    ("different first names", [("Amir", "Khan"), ("Maya", "Ali")], ["Amir", "Maya"]),
    ("shared first name: initials", [("Amir", "Khan"), ("Amir", "Smith")], ["Amir K.", "Amir S."]),
    (
        "only the sharers get initials",
        [("Amir", "Khan"), ("Amir", "Smith"), ("Maya", "Ali")],
        ["Amir K.", "Amir S.", "Maya"],
    ),
    (
        "case and spacing do not make names differ",
        [("amir", "khan"), (" Amir ", "Smith")],
        ["amir K.", "Amir S."],
    ),
    ("initial is upper case", [("Zofia", "nowak"), ("Zofia", "kowalski")], ["Zofia N.", "Zofia K."]),
    ("non-Latin initials", [("Łucja", "Żak"), ("Łucja", "Ćwik")], ["Łucja Ż.", "Łucja Ć."]),
    ("three sharers", [("Leo", "A"), ("Leo", "B"), ("Leo", "C")], ["Leo A.", "Leo B.", "Leo C."]),
    ("same initial stays ambiguous but short", [("Ava", "Khan"), ("Ava", "Kaur")], ["Ava K.", "Ava K."]),
    ("blank surname: no initial to add", [("Ava", " "), ("Ava", "Kaur")], ["Ava", "Ava K."]),
    ("inner spaces tidied", [("Mary  Ann", "Lee")], ["Mary Ann"]),
]


@pytest.mark.parametrize(("pupils", "expected"), [(p, e) for _, p, e in CASES], ids=[c[0] for c in CASES])
def test_p11_display_names(pupils: list[tuple[str, str]], expected: list[str]) -> None:
    classmates = [Pupil(i, first, last) for i, (first, last) in enumerate(pupils)]
    names = display_names(classmates)
    assert [names[p.id] for p in classmates] == expected


def test_p11_pupils_who_left_no_longer_lengthen_a_classmates_name() -> None:
    staying = Pupil(1, "Amir", "Khan")
    gone = Pupil(2, "Amir", "Smith", left_at=LEFT)
    names = display_names([staying, gone])
    assert names[1] == "Amir"
    assert names[2] == "Amir S."  # old posts that tag them still tell the two apart


def test_p11_display_names_of_an_empty_class() -> None:
    assert display_names([]) == {}
