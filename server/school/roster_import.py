"""Roster import against the database: preview (store the plan) and confirm (apply it, once).

The file is read by :mod:`server.school.roster_file`, its meaning worked out by
:mod:`server.school.roster_plan`; here the school's roster is loaded, the plan stored with a
fingerprint of what it was made against, and applied in the caller's one transaction
through the same functions the API uses one pupil at a time (:mod:`server.school.roster`),
so every class, pupil, move and leaver is audited and follows the same rules. The caller
re-checks live access for the users :func:`confirm` returns once the transaction has
committed, as ``PATCH /api/students/{id}`` does.

Confirming twice is harmless: the second confirm finds the import applied and returns its
counts. A confirm after the roster changed (another import, an admin's edit) gets 409
``stale``, and the admin previews again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.engine import rowcount
from server.db.models import GuardianContact, GuardianLink, RosterImport, SchoolClass, Student, User
from server.errors import conflict, not_found
from server.school import audit, guardians, roster
from server.school.roster_file import RosterFile
from server.school.roster_plan import Pupil, Snapshot, make_plan
from server.stories import posts as stories

PREVIEW_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Applied:
    """A confirmed import: its preview counts and whose live access to re-check after commit."""

    preview: dict[str, Any]
    mode: str
    affected_users: list[int]


async def _snapshot(session: AsyncSession, school_id: int) -> tuple[Snapshot, str]:
    """The school's roster as the planner sees it, and a digest of it for the staleness check."""
    classes = list(
        (
            await session.execute(
                select(SchoolClass.id, SchoolClass.name)
                .where(SchoolClass.school_id == school_id, SchoolClass.archived_at.is_(None))
                .order_by(SchoolClass.id)
            )
        ).all()
    )
    class_names = {class_id: name for class_id, name in classes}
    archived = set(
        (
            await session.scalars(
                select(SchoolClass.id).where(
                    SchoolClass.school_id == school_id, SchoolClass.archived_at.is_not(None)
                )
            )
        ).all()
    )
    students = list(
        (
            await session.execute(
                select(
                    Student.id,
                    Student.class_id,
                    Student.first_name,
                    Student.last_name,
                    Student.dob,
                    Student.mis_id,
                    Student.photo_consent,
                    Student.la_care,
                    Student.left_at,
                )
                .where(Student.school_id == school_id)
                .order_by(Student.id)
            )
        ).all()
    )
    contacts = list(
        (
            await session.execute(
                select(
                    GuardianContact.student_id,
                    GuardianContact.slot,
                    GuardianContact.name,
                    GuardianContact.email,
                    GuardianContact.language,
                )
                .join(Student, Student.id == GuardianContact.student_id)
                .where(Student.school_id == school_id)
                .order_by(GuardianContact.student_id, GuardianContact.slot)
            )
        ).all()
    )
    links = await session.execute(
        select(GuardianLink.student_id, User.email)
        .join(User, User.id == GuardianLink.guardian_id)
        .join(Student, Student.id == GuardianLink.student_id)
        .where(Student.school_id == school_id)
    )
    snapshot = Snapshot(
        class_names=[name for _, name in classes],
        pupils=[
            Pupil(
                s.id,
                class_names[s.class_id],
                s.first_name,
                s.last_name,
                s.dob,
                s.mis_id,
                s.photo_consent,
                s.la_care,
            )
            for s in students
            if s.left_at is None and s.class_id not in archived
        ],
    )
    for student_id, slot, name, email, language in contacts:
        snapshot.contacts.setdefault(student_id, {})[slot] = (name, email, language)
    for student_id, email in links:
        if email:
            snapshot.linked_emails.setdefault(student_id, set()).add(email.casefold())
    digest = hashlib.sha256(
        orjson.dumps([[list(c) for c in classes], [list(s) for s in students], [list(c) for c in contacts]],
                     default=str)
    ).hexdigest()  # fmt: skip
    return snapshot, digest


async def preview(
    session: AsyncSession, principal: Principal, parsed: RosterFile, mode: str, file_name: str, now: datetime
) -> RosterImport:
    """Work out and store what importing ``parsed`` would do; nothing of the roster is written."""
    snapshot, fingerprint = await _snapshot(session, principal.school_id)
    plan = make_plan(snapshot, parsed.rows, parsed.errors, mode)
    stored = RosterImport(
        school_id=principal.school_id,
        created_by=principal.id,
        file_name=file_name[:200],
        mode=mode,
        plan=plan,
        fingerprint=fingerprint,
        created_at=now,
    )
    session.add(stored)
    await session.flush()
    return stored


async def confirm(session: AsyncSession, principal: Principal, import_id: int, now: datetime) -> Applied:
    """Apply a previewed import exactly as previewed, in the caller's transaction."""
    found = await session.get(RosterImport, import_id)
    if found is None or found.school_id != principal.school_id:
        raise not_found("That import")
    plan: dict[str, Any] = found.plan
    claimed = await session.execute(
        update(RosterImport)
        .where(RosterImport.id == found.id, RosterImport.applied_at.is_(None))
        .values(applied_at=now)
    )
    if rowcount(claimed) != 1:  # applied already: confirming again changes nothing
        return Applied(plan["preview"], found.mode, [])
    if found.created_at + PREVIEW_LIFETIME < now:
        raise conflict("stale", "This preview is more than a day old: upload the file again.")
    _, fingerprint = await _snapshot(session, principal.school_id)
    if fingerprint != found.fingerprint:
        raise conflict("stale", "The school's roster has changed since this preview: upload the file again.")
    affected = await _apply(session, principal, plan, now)
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "roster.imported",
        "roster_import",
        found.id,
        mode=found.mode,
        classes=plan["preview"]["classes"],
        students=plan["preview"]["students"],
        guardians=plan["preview"]["guardians"],
        errors=len(plan["preview"]["errors"]),
    )
    return Applied(plan["preview"], found.mode, affected)


async def _apply(
    session: AsyncSession, principal: Principal, plan: dict[str, Any], now: datetime
) -> list[int]:
    classes = {c.name: c for c in await roster.list_classes(session, principal.school_id)}
    for name in plan["classes"]:
        classes[name] = await roster.create_class(session, principal, name)
    for item in plan["create"]:
        pupil = await roster.add_student(
            session,
            principal,
            classes[item["class"]],
            first_name=item["first_name"],
            last_name=item["last_name"],
            photo_consent=item["photo_consent"],
            la_care=item["la_care"],
        )
        pupil.dob = date.fromisoformat(item["dob"]) if item["dob"] else None
        pupil.mis_id = item["mis_id"]
        _set_contacts(session, pupil.id, item["guardians"], {})
    affected: list[int] = []
    ids = [item["id"] for item in plan["update"]] + plan["leave"]
    pupils = {
        p.id: p for p in (await session.scalars(select(Student).where(Student.id.in_(ids)))).all()
    } if ids else {}  # fmt: skip
    held = await _contacts_of(session, [item["id"] for item in plan["update"] if item["guardians"]])
    for item in plan["update"]:
        pupil = pupils[item["id"]]
        if item["changes"]:
            affected += await _change(session, principal, pupil, item["changes"], classes)
        _set_contacts(session, pupil.id, item["guardians"], held.get(pupil.id, {}))
    for pupil_id in plan["leave"]:
        pupil = pupils[pupil_id]
        await roster.update_student(session, principal, pupil, {"left_at": now})
        affected += await guardians.family_of(session, pupil)
    return affected


async def _change(
    session: AsyncSession,
    principal: Principal,
    pupil: Student,
    changes: dict[str, Any],
    classes: dict[str, SchoolClass],
) -> list[int]:
    """One pupil's changes through the API's own rules; the family when their access moves."""
    was_shown = pupil.photo_consent and not pupil.la_care
    applied: dict[str, Any] = {
        k: v for k, v in changes.items() if k in ("first_name", "last_name", "photo_consent", "la_care")
    }
    if "class" in changes:
        applied["class_id"] = classes[changes["class"]].id
    if "dob" in changes:
        pupil.dob = date.fromisoformat(changes["dob"])
    if "mis_id" in changes:
        pupil.mis_id = changes["mis_id"]
    if applied:
        await roster.update_student(session, principal, pupil, applied)
    if was_shown != (pupil.photo_consent and not pupil.la_care):
        await session.flush()
        await stories.announce_consent_change(session, pupil.id)
    return await guardians.family_of(session, pupil) if "class" in changes else []


async def _contacts_of(
    session: AsyncSession, student_ids: list[int]
) -> dict[int, dict[int, GuardianContact]]:
    if not student_ids:
        return {}
    rows = await session.scalars(select(GuardianContact).where(GuardianContact.student_id.in_(student_ids)))
    held: dict[int, dict[int, GuardianContact]] = {}
    for contact in rows.all():
        held.setdefault(contact.student_id, {})[contact.slot] = contact
    return held


def _set_contacts(
    session: AsyncSession, student_id: int, wanted: list[dict[str, Any]], held: dict[int, GuardianContact]
) -> None:
    for item in wanted:
        contact = held.get(item["slot"])
        if contact is None:
            contact = GuardianContact(student_id=student_id, slot=item["slot"])
            session.add(contact)
        contact.name, contact.email, contact.language = item["name"], item["email"], item["language"]
