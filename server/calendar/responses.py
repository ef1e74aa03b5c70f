"""Guardians' answers to events that ask for attendance or consent, the staff's list, and the nudge.

One answer per pupil (the newest of their guardians'), changeable until the event's
deadline (:func:`server.calendar.events.deadline`: ``respond_by`` when the author set one,
else the event's start). Only the pupil's own guardians may answer, and only while the
pupil is theirs and has not left (:func:`server.school.access.is_guardian_of`): a removed
guardian or a leaver's family gets 404, as for every other read of that pupil. Every
answer is audited and reaches the pupil's class staff live (``event.answered`` on
``class:{id}:staff``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.calendar.events import deadline, payload
from server.db.models import EventResponse, GuardianLink, SchoolEvent, Student, User
from server.errors import ApiError, conflict, forbidden, not_found, rate_limited, validation_error
from server.events import class_staff_channel, emit, user_channel
from server.language.interface import N_
from server.school import audit
from server.school.access import is_guardian_of, names_for_classes
from server.stories.posts import clean_text
from server.timeutil import iso

MAX_NOTE = 1000
NUDGE_GAP = timedelta(minutes=30)


def _open(event: SchoolEvent, now: datetime) -> None:
    if event.rsvp == "none":
        raise validation_error(N_("This event does not ask for replies."), fields={"event": "no_replies"})
    if event.cancelled_at is not None:
        raise conflict("event_cancelled", N_("This event was cancelled."))
    if now > deadline(event):
        raise conflict(
            "replies_closed", N_("Replies to this event have closed."), respond_by=iso(deadline(event))
        )


def response_shape(
    response: EventResponse, name: str, guardian: User | None, class_id: int
) -> dict[str, Any]:
    """One pupil's answer as staff and the answering guardian see it."""
    return {
        "event_id": response.event_id,
        "student": {"id": response.student_id, "name": name},
        "class_id": class_id,
        "answer": response.answer,
        "note": response.note,
        "guardian": {"id": guardian.id, "name": guardian.name} if guardian else None,
        "answered_at": iso(response.answered_at),
    }


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def answer(
    session: AsyncSession,
    principal: Principal,
    event: SchoolEvent,
    student_id: int,
    reply: str,
    note: str,
    now: datetime,
) -> dict[str, Any]:
    """Record (or change) a guardian's answer for one pupil; 404 unless the pupil is theirs."""
    if principal.role != "parent":
        raise forbidden("Only a pupil's guardians can answer for them.")
    pupil = await session.get(Student, student_id)
    in_audience = pupil is not None and (
        pupil.class_id == event.class_id if event.scope == "class" else pupil.school_id == event.school_id
    )
    if pupil is None or not in_audience or not await is_guardian_of(session, principal.id, student_id):
        raise not_found(N_("That pupil"))
    _open(event, now)
    if reply not in ("yes", "no"):
        raise validation_error("answer must be yes or no.", fields={"answer": "invalid"})
    text = clean_text(note, "note", MAX_NOTE, required=False)
    values = {"answer": reply, "note": text, "guardian_id": principal.id, "answered_at": now}
    statement = _insert(session)(EventResponse).values(event_id=event.id, student_id=student_id, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["event_id", "student_id"], set_=values)
    )
    response = await session.scalar(
        select(EventResponse)
        .where(EventResponse.event_id == event.id, EventResponse.student_id == student_id)
        .execution_options(populate_existing=True)
    )
    assert response is not None
    audit.record(
        session, principal.school_id, principal.id, "event.answered", "event", event.id,
        student_id=student_id, answer=reply, rsvp=event.rsvp,
    )  # fmt: skip
    name = (await names_for_classes(session, [pupil.class_id]))[pupil.id]
    shape = response_shape(response, name, principal.user, pupil.class_id)
    emit(session, class_staff_channel(pupil.class_id), "event.answered", {"response": shape})
    return shape


async def _audience(session: AsyncSession, event: SchoolEvent) -> list[Student]:
    query = select(Student).where(Student.school_id == event.school_id, Student.left_at.is_(None))
    if event.scope == "class":
        query = query.where(Student.class_id == event.class_id)
    return list(
        (await session.scalars(query.order_by(Student.class_id, Student.first_name, Student.id))).all()
    )


async def _families(session: AsyncSession, pupil_ids: list[int]) -> dict[int, list[User]]:
    """Each pupil's guardians who can be reached: an account linked to them and not suspended."""
    families: dict[int, list[User]] = {}
    for start in range(0, len(pupil_ids), 1000):
        rows = await session.execute(
            select(GuardianLink.student_id, User)
            .join(User, User.id == GuardianLink.guardian_id)
            .where(GuardianLink.student_id.in_(pupil_ids[start : start + 1000]), User.suspended_at.is_(None))
            .order_by(User.id)
        )
        for student_id, user in rows.all():
            families.setdefault(student_id, []).append(user)
    return families


async def replies_of(session: AsyncSession, principal: Principal, event: SchoolEvent) -> dict[str, Any]:
    """Every pupil of the event's audience with their answer, who has not answered, and who has no guardian.

    ``no_guardian`` lists pupils without a reachable guardian account (none linked, or all
    suspended): nobody can answer for them in the app, so the office chases them.
    """
    require_role(principal, "staff")
    pupils = await _audience(session, event)
    names = await names_for_classes(session, {p.class_id for p in pupils})
    answers = {
        r.student_id: r
        for r in await session.scalars(select(EventResponse).where(EventResponse.event_id == event.id))
    }
    guardian_ids = {r.guardian_id for r in answers.values() if r.guardian_id is not None}
    guardians = (
        {u.id: u for u in await session.scalars(select(User).where(User.id.in_(guardian_ids)))}
        if guardian_ids
        else {}
    )
    families = await _families(session, [p.id for p in pupils])
    items, unanswered, no_guardian = [], [], []
    counts = {"yes": 0, "no": 0, "unanswered": 0}
    for pupil in pupils:
        pupil_ref = {"id": pupil.id, "name": names[pupil.id], "class_id": pupil.class_id}
        found = answers.get(pupil.id)
        if found is None:
            counts["unanswered"] += 1
            unanswered.append(pupil_ref)
            items.append(
                {"event_id": event.id, "student": pupil_ref, "class_id": pupil.class_id, "answer": None}
            )
        else:
            counts[found.answer] += 1
            guardian = guardians.get(found.guardian_id) if found.guardian_id else None
            items.append(response_shape(found, names[pupil.id], guardian, pupil.class_id))
        if not families.get(pupil.id):
            no_guardian.append(pupil_ref)
    return {
        "event_id": event.id,
        "rsvp": event.rsvp,
        "respond_by": iso(deadline(event)),
        "counts": counts,
        "items": items,
        "unanswered": unanswered,
        "no_guardian": no_guardian,
    }


async def nudge(session: AsyncSession, principal: Principal, event: SchoolEvent, now: datetime) -> int:
    """One notification to each guardian who still has a child without an answer; returns how many.

    At most once per :data:`NUDGE_GAP` per event, so a double tap does not nag families twice.
    """
    require_role(principal, "staff")
    _open(event, now)
    if event.nudged_at is not None and now < event.nudged_at + NUDGE_GAP:
        raise rate_limited((event.nudged_at + NUDGE_GAP - now).total_seconds())
    pupils = await _audience(session, event)
    answered = set(
        (
            await session.scalars(select(EventResponse.student_id).where(EventResponse.event_id == event.id))
        ).all()
    )
    waiting = [p.id for p in pupils if p.id not in answered]
    if not waiting:
        raise ApiError(409, "already_answered", "Every pupil already has an answer.")
    families = await _families(session, waiting)
    children: dict[int, list[int]] = {}
    for student_id, guardians in families.items():
        for guardian in guardians:
            children.setdefault(guardian.id, []).append(student_id)
    shaped = await payload(session, event)
    for guardian_id, student_ids in sorted(children.items()):
        emit(
            session,
            user_channel(guardian_id),
            "event.nudge",
            {
                "event": shaped,
                "occurrence_at": iso(event.starts_at) or "",
                "student_ids": sorted(student_ids),
            },
        )
    event.nudged_at = now
    audit.record(
        session, principal.school_id, principal.id, "event.nudged", "event", event.id, guardians=len(children)
    )
    return len(children)
