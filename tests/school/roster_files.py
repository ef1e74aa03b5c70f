"""Realistic roster files for a two-form-entry primary: 14 classes, 420 pupils, ~700 guardians.

One :class:`Pupil` list, written in each shape schools send: the Homeroom template (UTF-8,
comma), a SIMS-style export (Windows-1252, comma, CRLF, dd/mm/yyyy, "Believed to be"
languages), an Arbor-style export (UTF-8 with BOM, semicolon, UPNs, English language names)
and a tab-separated template saved from a spreadsheet (UTF-8 with BOM). Also used by
``bench/roster_import.py``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

YEARS = ["Reception", "Year 1", "Year 2", "Year 3", "Year 4", "Year 5", "Year 6"]
FORMS = ["Oak", "Ash"]
CLASSES = [f"{year} {form}" for year in YEARS for form in FORMS]
PER_CLASS = 30

# Names a Windows-1252 file can hold (so every shape carries the same people).
FIRST = ["Amir", "Zoë", "Oliver", "Aisha", "Jakub", "Chloé", "Mohammed", "Freya", "Ravi", "Isla", "José",
         "Fatima", "Harry", "Maja", "Yusuf", "Amelia", "Noah", "Sofia", "Ibrahim", "Grace", "Leo", "Zainab",
         "Jack", "Ava", "Arjun", "Mia", "Omar", "Lily", "Kacper", "Ella", "Hassan", "Ruby", "Theo", "Hana",
         "Björn", "Nadia"]  # fmt: skip
LAST = ["Khan", "Smith", "Nowak", "Begum", "Patel", "Jones", "Kowalski", "Ahmed", "Brown", "Singh", "Hussain",
        "Taylor", "Wiśniewski", "Ali", "Evans", "Rahman", "O'Brien", "Williams", "Kaur", "Davies", "Müller",
        "Chowdhury", "Wilson", "Mahmood", "Lewandowski", "Thomas", "Islam", "Roberts", "Sharma", "Walker",
        "Nguyen", "Hughes", "Miah", "Green", "Shah", "Clarke"]  # fmt: skip
LANGUAGES = [("en", "English"), ("pl", "Polish"), ("ar", "Arabic"), ("ur", "Urdu"), ("bn", "Bengali"),
             ("pa", "Punjabi"), ("ro", "Romanian"), ("so", "Somali")]  # fmt: skip
PARENT_FIRST = ["Sarah", "Ahmed", "Anna", "Priya", "Tomasz", "Fatima", "James", "Nasreen", "Piotr", "Lucy"]


@dataclass(frozen=True)
class Guardian:
    name: str
    email: str
    language: str  # ISO 639-1


@dataclass(frozen=True)
class Pupil:
    upn: str
    first_name: str
    last_name: str
    class_name: str
    dob: date
    photo_consent: bool
    la_care: bool
    guardians: tuple[Guardian, ...] = field(default=())


def school(seed: int = 19, pupils_per_class: int = PER_CLASS) -> list[Pupil]:
    """420 pupils (30 in each of 14 classes) with 1 or 2 guardians each: 700 guardians in all."""
    rng = random.Random(seed)
    names = [(f, last) for f in FIRST for last in LAST if "ś" not in last]
    rng.shuffle(names)
    pupils: list[Pupil] = []
    for index in range(len(CLASSES) * pupils_per_class):
        class_name = CLASSES[index // pupils_per_class]
        year = CLASSES.index(class_name) // 2
        first, last = names[index]
        language = LANGUAGES[index % len(LANGUAGES)]
        guardians = [
            Guardian(f"{PARENT_FIRST[index % 10]} {last}", f"family{index}.a@example.test", language[0])
        ]
        if index % 3 != 0:  # two in three pupils have a second guardian: 280 + 420 = 700
            email = f"family{index}.b@example.test" if index % 7 else ""  # some give no address
            guardians.append(Guardian(f"{PARENT_FIRST[(index + 3) % 10]} {last}", email, language[0]))
        pupils.append(
            Pupil(
                upn=f"H{800000000000 + index:012d}",
                first_name=first,
                last_name=last,
                class_name=class_name,
                dob=date(2020 - year, 9, 1) + timedelta(days=rng.randrange(365)),
                photo_consent=index % 10 != 0,
                la_care=index % 97 == 5,
                guardians=tuple(guardians),
            )
        )
    return pupils


def _yes(value: bool, yes: str = "yes", no: str = "no") -> str:
    return yes if value else no


def _quote(cell: str, sep: str) -> str:
    if any(c in cell for c in (sep, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _lines(rows: list[list[str]], sep: str, newline: str = "\n") -> str:
    return "".join(sep.join(_quote(c, sep) for c in row) + newline for row in rows)


def _guardian_cells(pupil: Pupil, language: str) -> list[str]:
    names = dict(LANGUAGES)
    cells: list[str] = []
    for slot in range(2):
        if slot < len(pupil.guardians):
            g = pupil.guardians[slot]
            spoken = {
                "code": g.language,
                "name": names[g.language],
                "sims": f"Believed to be {names[g.language]}",
            }
            cells += [g.name, g.email, spoken[language]]
        else:
            cells += ["", "", ""]
    return cells


TEMPLATE_HEADER = ["class", "first_name", "last_name", "photo_consent", "la_care", "guardian1_name",
                   "guardian1_email", "guardian1_language", "guardian2_name", "guardian2_email",
                   "guardian2_language"]  # fmt: skip


def template_rows(pupils: list[Pupil]) -> list[list[str]]:
    """The Homeroom template's header and rows."""
    rows = [TEMPLATE_HEADER]
    for p in pupils:
        rows.append(
            [
                p.class_name,
                p.first_name,
                p.last_name,
                _yes(p.photo_consent),
                _yes(p.la_care),
                *_guardian_cells(p, "code"),
            ]
        )
    return rows


def homeroom_csv(pupils: list[Pupil]) -> bytes:
    """The Homeroom template: UTF-8, comma, yes/no, language codes."""
    return _lines(template_rows(pupils), ",").encode("utf-8")


def homeroom_tsv(pupils: list[Pupil]) -> bytes:
    """The template saved from a spreadsheet as tab-separated UTF-8 with a byte-order mark."""
    return _lines(template_rows(pupils), "\t", "\r\n").encode("utf-8-sig")


SIMS_HEADER = ["Adno", "Legal Surname", "Forename", "Reg Group", "Year", "DOB", "Photo Consent", "In LA Care",
               "Contact 1 Name", "Contact 1 Email", "Contact 1 First Language", "Contact 2 Name",
               "Contact 2 Email", "Contact 2 First Language"]  # fmt: skip


def sims_rows(pupils: list[Pupil]) -> list[list[str]]:
    rows = [SIMS_HEADER]
    for p in pupils:
        cells = _guardian_cells(p, "sims")
        rows.append(
            [p.upn, p.last_name, p.first_name, p.class_name, p.class_name.split(" ")[0],
             p.dob.strftime("%d/%m/%Y"), _yes(p.photo_consent, "Y", "N"), _yes(p.la_care, "Y", "N"), *cells]
        )  # fmt: skip
    return rows


def sims_csv(pupils: list[Pupil]) -> bytes:
    """A SIMS-style export: Windows-1252, comma, CRLF, dd/mm/yyyy, Y/N, "Believed to be ..." languages."""
    return _lines(sims_rows(pupils), ",", "\r\n").encode("cp1252")


ARBOR_HEADER = ["UPN", "First Name", "Last Name", "Registration Group", "Year Group", "Date of Birth",
                "Photograph Permission", "Looked After", "Parent 1 Name", "Parent 1 Email",
                "Parent 1 Language", "Parent 2 Name", "Parent 2 Email", "Parent 2 Language"]  # fmt: skip


def arbor_csv(pupils: list[Pupil]) -> bytes:
    """An Arbor-style export: UTF-8 with BOM, semicolon, ISO dates, true/false and 1/0, language names."""
    rows = [ARBOR_HEADER]
    for p in pupils:
        rows.append(
            [p.upn, p.first_name, p.last_name, p.class_name, p.class_name.split(" ")[0], p.dob.isoformat(),
             _yes(p.photo_consent, "true", "false"), _yes(p.la_care, "1", "0"), *_guardian_cells(p, "name")]
        )  # fmt: skip
    return _lines(rows, ";").encode("utf-8-sig")


SHAPES = {"homeroom": homeroom_csv, "sims": sims_csv, "arbor": arbor_csv, "tab": homeroom_tsv}


def guardian_count(pupils: list[Pupil]) -> int:
    return sum(len(p.guardians) for p in pupils)


def renamed(pupil: Pupil, last_name: str) -> Pupil:
    return replace(pupil, last_name=last_name)
