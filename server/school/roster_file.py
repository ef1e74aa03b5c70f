"""Reading a roster CSV as schools have it: encodings, separators, MIS column names, one row at a time.

Sans-I/O: bytes in, :class:`RosterRow` or :class:`RowError` out, nothing touches the database.
What the rows mean for the school (create, move, leave) is :mod:`server.school.roster_import`'s.

Accepted shapes (API.md "Setting up a school"):

- encodings: UTF-8 with or without a byte-order mark, else Windows-1252 (what Excel saves
  as "CSV" on a Windows PC);
- separators: comma, semicolon (Excel in most European locales) or tab, whichever the header
  line uses most;
- columns: the Homeroom template's, or the names SIMS, Arbor and Bromcom exports use
  ("Forename", "Legal Surname", "Reg Group", "Year", "Contact 1 Email", ...). Header names
  are matched without case, spaces, dots, hyphens or underscores.

Decisions: an empty consent or care cell means "not given" (a new pupil gets no photo
consent and is not in care; an existing pupil keeps what the school set). The class is the
registration group when the file has one, else the year group. A preferred forename wins
over the legal one, since it is what the pupil is called. A language may be an ISO 639-1
code or its English name ("Polish", "Believed to be Polish" as SIMS writes it); one the
server does not know makes the row unusable rather than silently dropping the family's
language.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from babel import Locale

from server.language.interface import N_
from server.language.languages import KNOWN

MAX_ROWS = 20_000
NAME_LENGTH = 100
GUARDIAN_NAME_LENGTH = 200
MIS_ID_LENGTH = 32

_ALIASES: dict[str, tuple[str, ...]] = {
    "class": ("class", "classname", "reggroup", "registrationgroup", "regroup", "form", "formgroup",
              "tutorgroup", "homeroom", "classgroup"),
    "year": ("year", "yeargroup", "ncyear", "nationalcurriculumyear", "yeartaughtin"),
    "preferred_first_name": ("preferredforename", "preferredfirstname", "knownas", "chosenname"),
    "first_name": ("firstname", "forename", "legalforename", "givenname", "pupilforename", "pupilfirstname"),
    "last_name": ("lastname", "surname", "legalsurname", "familyname", "preferredsurname", "pupilsurname",
                  "pupillastname"),
    "dob": ("dob", "dateofbirth", "birthdate", "birthday"),
    "mis_id": ("misid", "upn", "adno", "admissionnumber", "pupilid", "studentid", "misreference"),
    "photo_consent": ("photoconsent", "photographconsent", "photographpermission", "photopermission",
                      "consentphotos", "photos", "mediaconsent"),
    "la_care": ("lacare", "inlacare", "lookedafter", "inlocalauthoritycare", "childlookedafter", "cla",
                "inla"),
    "home_language": ("homelanguage", "firstlanguage", "language", "familylanguage"),
}  # fmt: skip

for _n in (1, 2):
    _ALIASES.update(
        {
            f"guardian{_n}_name": tuple(
                f"{who}{_n}{what}"
                for who in ("guardian", "contact", "parent", "carer")
                for what in ("name", "fullname")
            ),
            f"guardian{_n}_first": tuple(
                f"{who}{_n}{what}"
                for who in ("guardian", "contact", "parent", "carer")
                for what in ("forename", "firstname")
            ),
            f"guardian{_n}_last": tuple(
                f"{who}{_n}{what}"
                for who in ("guardian", "contact", "parent", "carer")
                for what in ("surname", "lastname")
            ),
            f"guardian{_n}_email": tuple(
                f"{who}{_n}{what}"
                for who in ("guardian", "contact", "parent", "carer")
                for what in ("email", "emailaddress")
            ),
            f"guardian{_n}_language": tuple(
                f"{who}{_n}{what}"
                for who in ("guardian", "contact", "parent", "carer")
                for what in ("language", "firstlanguage", "preferredlanguage", "homelanguage")
            ),
        }
    )

_BY_ALIAS = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_YES = frozenset({"yes", "y", "true", "1", "x", "ja"})
_NO = frozenset({"no", "n", "false", "0"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y")


MIS_LANGUAGE_NAMES = {
    "panjabi": "pa", "punjabi": "pa", "farsi": "fa", "persian": "fa", "pashto": "ps", "pushto": "ps",
    "chinese": "zh", "mandarin": "zh", "cantonese": "zh", "welsh": "cy", "sylheti": "bn", "bengali": "bn",
    "bengali (sylheti)": "bn", "albanian": "sq", "tigrinya": "ti",
}  # fmt: skip


def _english_names() -> dict[str, str]:
    names = {}
    for code in KNOWN:
        english = Locale.parse(code).get_display_name("en") or code
        names[english.casefold()] = code
    # Names MIS exports use that differ from CLDR's.
    names.update(MIS_LANGUAGE_NAMES)
    return names


_LANGUAGE_NAMES = _english_names()


@dataclass(frozen=True)
class Guardian:
    """One guardian of a row: at least a name or an email; language when the file says."""

    slot: int
    name: str
    email: str | None
    language: str | None


@dataclass(frozen=True)
class RosterRow:
    """One usable pupil row; ``None`` in ``photo_consent``/``la_care`` means the file does not say."""

    row: int
    class_name: str
    first_name: str
    last_name: str
    dob: date | None = None
    mis_id: str | None = None
    photo_consent: bool | None = None
    la_care: bool | None = None
    guardians: tuple[Guardian, ...] = ()


@dataclass(frozen=True)
class RowError:
    """An unusable row: its number as in the file (header = 1), a reason, and who it names if known."""

    row: int
    message: str
    first_name: str = ""
    last_name: str = ""
    mis_id: str | None = None


@dataclass
class RosterFile:
    """What a file held: the rows, the broken rows, and which known columns it had."""

    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (not text, no header, no pupil name columns)."""


def decode(data: bytes) -> str:
    """UTF-8 (a byte-order mark dropped), else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined: not a text file
        raise UnreadableFile(N_("The file is not a text CSV file.")) from None


def separator(header_line: str) -> str:
    """The separator the header line uses most of: comma, semicolon or tab."""
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: (counts[sep], sep == ","))


def column_key(header: str) -> str:
    """A header name as matched: lower case, no spaces, dots, hyphens or underscores."""
    return re.sub(r"[\s._\-/]+", "", header.strip().casefold())


def language_code(value: str) -> str | None:
    """An ISO 639-1 code from a code or an English language name; None when unknown."""
    cleaned = value.strip().casefold()
    cleaned = re.sub(r"^believed to be\s+", "", cleaned)
    if cleaned in KNOWN:
        return cleaned
    primary = cleaned.split("-")[0].split("_")[0]
    if len(primary) == 2 and primary in KNOWN:
        return primary
    return _LANGUAGE_NAMES.get(cleaned) or _LANGUAGE_NAMES.get(re.sub(r"\s*\(.*\)$", "", cleaned))


def yes_no(value: str) -> bool | None:
    """True/False from yes/no, y/n, true/false or 1/0; None when empty; ValueError otherwise."""
    cleaned = value.strip().casefold()
    if not cleaned:
        return None
    if cleaned in _YES:
        return True
    if cleaned in _NO:
        return False
    raise ValueError(cleaned)


def parse_date(value: str) -> date | None:
    """A date of birth as ISO or as British spreadsheets write it (31/12/2018)."""
    cleaned = value.strip()
    if not cleaned:
        return None
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    raise ValueError(cleaned)


def read(data: bytes) -> RosterFile:
    """Every row of a roster CSV, usable or not; :class:`UnreadableFile` when there is no roster at all."""
    content = decode(data)
    if "\x00" in content:
        raise UnreadableFile(N_("The file is not a text CSV file."))
    first_line = content.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=separator(first_line))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise UnreadableFile(N_("The file is empty.")) from None
    columns: dict[int, str] = {}
    for index, name in enumerate(header):
        known = _BY_ALIAS.get(column_key(name))
        if known is not None and known not in columns.values():
            columns[index] = known
    found = set(columns.values())
    if not ({"first_name", "preferred_first_name"} & found) or "last_name" not in found:
        raise UnreadableFile(N_("The file needs columns for the pupils' first and last names."))
    if not ({"class", "year"} & found):
        raise UnreadableFile(N_("The file needs a column for the pupils' class."))
    result = RosterFile(columns=found)
    number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            number += 1
            result.errors.append(RowError(number, N_("The row cannot be read as CSV.")))
            break
        number += 1
        if not any(cell.strip() for cell in cells):
            continue
        if number > MAX_ROWS + 1:
            raise UnreadableFile(N_("The file has more rows than a school roster can have."))
        values = {name: cells[index].strip() if index < len(cells) else "" for index, name in columns.items()}
        parsed = parse_row(number, values)
        if isinstance(parsed, RosterRow):
            result.rows.append(parsed)
        else:
            result.errors.append(parsed)
    return result


def parse_row(number: int, values: dict[str, str]) -> RosterRow | RowError:
    """One data row by its known columns; the first problem found makes it a :class:`RowError`."""
    first = values.get("preferred_first_name") or values.get("first_name", "")
    last = values.get("last_name", "")
    mis_id = values.get("mis_id") or None

    def broken(message: str) -> RowError:
        return RowError(number, message, first, last, mis_id)

    if not first or not last:
        return broken(N_("The pupil's first or last name is missing."))
    if len(first) > NAME_LENGTH or len(last) > NAME_LENGTH:
        return broken(N_("The pupil's name is longer than 100 characters."))
    if mis_id is not None and len(mis_id) > MIS_ID_LENGTH:
        return broken(N_("The pupil's MIS identifier is longer than 32 characters."))
    class_name = values.get("class") or values.get("year", "")
    if not class_name:
        return broken(N_("The pupil's class is missing."))
    if len(class_name) > NAME_LENGTH:
        return broken(N_("The class name is longer than 100 characters."))
    try:
        dob = parse_date(values.get("dob", ""))
    except ValueError:
        return broken(N_("The date of birth is not a date (use 2018-09-30 or 30/09/2018)."))
    try:
        consent = yes_no(values.get("photo_consent", ""))
    except ValueError:
        return broken(N_("Photo consent must be yes or no."))
    try:
        care = yes_no(values.get("la_care", ""))
    except ValueError:
        return broken(N_("LA care must be yes or no."))
    guardians: list[Guardian] = []
    for slot in (1, 2):
        made = _guardian(slot, values)
        if isinstance(made, str):
            return broken(made)
        if made is not None:
            guardians.append(made)
    return RosterRow(number, class_name, first, last, dob, mis_id, consent, care, tuple(guardians))


def _guardian(slot: int, values: dict[str, str]) -> Guardian | str | None:
    """Guardian ``slot`` of a row, None when the row names none, or the reason it is unusable."""
    name = values.get(f"guardian{slot}_name", "")
    if not name:
        name = " ".join(
            part
            for part in (values.get(f"guardian{slot}_first", ""), values.get(f"guardian{slot}_last", ""))
            if part
        )
    email = values.get(f"guardian{slot}_email", "").casefold() or None
    spoken = values.get(f"guardian{slot}_language", "") or values.get("home_language", "")
    if not name and not email:
        return None
    if len(name) > GUARDIAN_NAME_LENGTH:
        return N_("A guardian's name is longer than 200 characters.")
    if email is not None and (len(email) > 254 or not _EMAIL.match(email)):
        return N_("A guardian's email address is not valid.")
    language = None
    if spoken:
        language = language_code(spoken)
        if language is None:
            return N_("A guardian's language is not one the school can use.")
    return Guardian(slot, name, email, language)
