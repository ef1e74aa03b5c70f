"""What a roster file means for the school as it is: the plan a preview shows and a confirm applies.

Sans-I/O: a :class:`Snapshot` of the school's classes, pupils and guardian contacts plus the
rows of :mod:`server.school.roster_file` in, a JSON-ready plan out.

Matching a row to a pupil (API.md: "class-independent identity"): by the MIS identifier when
both sides have one (so a renamed pupil stays the same pupil), else by first and last name
(ignoring case) and, when the file gives one, the date of birth. A row that could be either
of two pupils is unusable rather than guessed. Pupils who have left are not matched: a
pupil coming back is enrolled afresh. In ``full`` mode every current pupil no row names is
marked as left, except pupils a broken row seems to name: an error never makes a leaver.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from server.language.interface import N_
from server.school.roster_file import Guardian, RosterRow, RowError

GuardianKey = tuple[str, str | None, str | None]


@dataclass(frozen=True)
class Pupil:
    """A current pupil as the plan sees them."""

    id: int
    class_name: str
    first_name: str
    last_name: str
    dob: date | None
    mis_id: str | None
    photo_consent: bool
    la_care: bool


@dataclass
class Snapshot:
    """The school's roster at preview time."""

    class_names: list[str]
    pupils: list[Pupil]
    contacts: dict[int, dict[int, GuardianKey]] = field(default_factory=dict)
    linked_emails: dict[int, set[str]] = field(default_factory=dict)


def _names_key(first: str, last: str) -> tuple[str, str]:
    return first.casefold(), last.casefold()


class _Matcher:
    """Finds the current pupil a row names, and remembers who was named already."""

    def __init__(self, pupils: list[Pupil]) -> None:
        self.by_mis = {p.mis_id.casefold(): p for p in pupils if p.mis_id}
        self.by_name: dict[tuple[str, str], list[Pupil]] = {}
        for pupil in pupils:
            self.by_name.setdefault(_names_key(pupil.first_name, pupil.last_name), []).append(pupil)

    def find(self, first: str, last: str, dob: date | None, mis_id: str | None) -> Pupil | str | None:
        """The pupil, None for a new one, or why the row is ambiguous."""
        if mis_id and mis_id.casefold() in self.by_mis:
            return self.by_mis[mis_id.casefold()]
        candidates = [
            p
            for p in self.by_name.get(_names_key(first, last), [])
            if (dob is None or p.dob is None or p.dob == dob) and not (mis_id and p.mis_id)
        ]
        if len(candidates) > 1:
            return N_("The row could be more than one pupil: add a date of birth or an MIS identifier.")
        return candidates[0] if candidates else None


def _guardian_key(guardian: Guardian) -> GuardianKey:
    return (guardian.name, guardian.email, guardian.language)


def _flag(value: bool | None, default: bool) -> bool:
    return default if value is None else value


def make_plan(
    snapshot: Snapshot, rows: Iterable[RosterRow], errors: list[RowError], mode: str
) -> dict[str, Any]:
    """The plan: classes to create, pupils to create, update or move, leavers, contacts, counts, errors."""
    matcher = _Matcher(snapshot.pupils)
    known_classes = {name.casefold(): name for name in snapshot.class_names}
    new_classes: dict[str, str] = {}
    seen: dict[object, int] = {}
    errors = list(errors)
    create: list[dict[str, Any]] = []
    update: list[dict[str, Any]] = []
    counts = {"create": 0, "update": 0, "move": 0, "leave": 0, "unchanged": 0}
    invites = 0
    for row in rows:
        found = matcher.find(row.first_name, row.last_name, row.dob, row.mis_id)
        if isinstance(found, str):
            errors.append(RowError(row.row, found))
            continue
        identity: object = (
            found.id if found else (row.first_name.casefold(), row.last_name.casefold(), row.dob)
        )
        if identity in seen:
            errors.append(RowError(row.row, N_("The same pupil is already on an earlier row.")))
            continue
        seen[identity] = row.row
        class_key = row.class_name.casefold()
        if class_key not in known_classes and class_key not in new_classes:
            new_classes[class_key] = row.class_name
        class_name = known_classes.get(class_key) or new_classes[class_key]
        if found is None:
            counts["create"] += 1
            invites += len(row.guardians)
            create.append(_new_pupil(row, class_name))
            continue
        changes = _changes(found, row, class_name)
        contacts = _contact_changes(snapshot, found.id, row.guardians)
        invites += sum(
            1
            for g in contacts
            if g["email"] is None or g["email"] not in snapshot.linked_emails.get(found.id, set())
        )
        if "class" in changes:
            counts["move"] += 1
        elif changes:
            counts["update"] += 1
        else:
            counts["unchanged"] += 1
        if changes or contacts:
            update.append({"id": found.id, "changes": changes, "guardians": contacts})
    leave: list[int] = []
    if mode == "full":
        named = set(seen)
        for error in errors:  # a pupil a broken row seems to name is never marked as left
            guess = matcher.find(error.first_name, error.last_name, None, error.mis_id)
            if isinstance(guess, Pupil):
                named.add(guess.id)
            elif error.first_name and error.last_name:
                named.update(
                    p.id for p in matcher.by_name.get(_names_key(error.first_name, error.last_name), [])
                )
        leave = [p.id for p in snapshot.pupils if p.id not in named]
        counts["leave"] = len(leave)
    errors.sort(key=lambda e: e.row)
    return {
        "mode": mode,
        "classes": list(new_classes.values()),
        "create": create,
        "update": update,
        "leave": leave,
        "preview": {
            "classes": {"create": len(new_classes)},
            "students": counts,
            "guardians": {"invite": invites},
            "errors": [{"row": e.row, "message": e.message} for e in errors],
        },
    }


def _new_pupil(row: RosterRow, class_name: str) -> dict[str, Any]:
    return {
        "class": class_name,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "dob": row.dob.isoformat() if row.dob else None,
        "mis_id": row.mis_id,
        "photo_consent": _flag(row.photo_consent, False),
        "la_care": _flag(row.la_care, False),
        "guardians": [_guardian_shape(g) for g in row.guardians],
    }


def _guardian_shape(guardian: Guardian) -> dict[str, Any]:
    return {
        "slot": guardian.slot,
        "name": guardian.name,
        "email": guardian.email,
        "language": guardian.language,
    }


def _changes(pupil: Pupil, row: RosterRow, class_name: str) -> dict[str, Any]:
    """What the row changes about a matched pupil (``class`` by name, dates as ISO text)."""
    changes: dict[str, Any] = {}
    if class_name != pupil.class_name:
        changes["class"] = class_name
    if row.first_name != pupil.first_name:
        changes["first_name"] = row.first_name
    if row.last_name != pupil.last_name:
        changes["last_name"] = row.last_name
    if row.dob is not None and row.dob != pupil.dob:
        changes["dob"] = row.dob.isoformat()
    if row.mis_id and row.mis_id != pupil.mis_id:
        changes["mis_id"] = row.mis_id
    if row.photo_consent is not None and row.photo_consent != pupil.photo_consent:
        changes["photo_consent"] = row.photo_consent
    if row.la_care is not None and row.la_care != pupil.la_care:
        changes["la_care"] = row.la_care
    return changes


def _contact_changes(
    snapshot: Snapshot, pupil_id: int, guardians: tuple[Guardian, ...]
) -> list[dict[str, Any]]:
    """The row's guardians that differ from the contacts the school holds for those slots."""
    held = snapshot.contacts.get(pupil_id, {})
    return [_guardian_shape(g) for g in guardians if held.get(g.slot) != _guardian_key(g)]
