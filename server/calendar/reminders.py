"""The reminders job: each reminder of each occurrence goes to each reader once.

:func:`send_reminders` is a leased periodic job (``server/jobs.py``), so one process runs
each tick, but exactly-once does not rest on the lease: for every reader a reminder is
due to, one ``event_reminders_sent`` row (unique per event, occurrence, reminder time and
reader) is inserted with ``ON CONFLICT DO NOTHING``, and only the rows this transaction
actually inserted emit an ``event.reminder`` on the reader's ``user:{id}`` channel, in the
same transaction. A second runner, a lease that expired under a slow run, or a restart in
the middle of a tick finds the rows already there and sends nothing again.

The reminder is a notification like any other (kind ``events``): the push worker renders
it in the reader's interface language with the event's title in their language, and
applies preferences and the access rules again at send time. Staff are reminded only
inside the school's working hours (P7): outside them nothing is written for them, and the
latest reminder due reaches them when their hours start, if the occurrence has not begun.
Families' reminders missed by more than a day (the server was down) are dropped.

What is due is decided by ``services.clock`` (tests move it); leases by the wall clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import STAFF_ROLES
from server.calendar.events import payload, series_of
from server.calendar.occurrences import MAX_REMINDER_AHEAD, Due, due_reminders, local_date
from server.db.models import GuardianLink, ReminderSent, School, SchoolEvent, StaffClass, Student, User
from server.events import emit, user_channel
from server.messaging.quiet_hours import WorkingWeek, held_until
from server.services import Services
from server.timeutil import iso

KEEP_GUARDS = timedelta(days=2)


async def recipients(session: AsyncSession, event: SchoolEvent) -> tuple[list[int], list[int]]:
    """``(families, staff)``: the guardians of the event's pupils and the staff it concerns.

    A class event: the class's guardians and the staff assigned to the class. A school
    event: every guardian and every member of staff. Suspended accounts and the families
    of pupils who left are not reminded.
    """
    pupils = select(Student.id).where(Student.school_id == event.school_id, Student.left_at.is_(None))
    staff = select(User.id).where(
        User.school_id == event.school_id, User.role.in_(STAFF_ROLES), User.suspended_at.is_(None)
    )
    if event.scope == "class":
        pupils = pupils.where(Student.class_id == event.class_id)
        staff = staff.join(StaffClass, StaffClass.user_id == User.id).where(
            StaffClass.class_id == event.class_id
        )
    families = await session.scalars(
        select(GuardianLink.guardian_id)
        .join(User, User.id == GuardianLink.guardian_id)
        .where(GuardianLink.student_id.in_(pupils), User.suspended_at.is_(None))
        .distinct()
    )
    return sorted(families.all()), sorted((await session.scalars(staff)).all())


async def _claim(session: AsyncSession, event: SchoolEvent, due: Due, user_ids: list[int]) -> list[int]:
    """Insert the once-rows for these readers; returns those that were not reminded before."""
    if not user_ids:
        return []
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [
        {"event_id": event.id, "occurrence_at": due.occurrence_at, "remind_at": due.remind_at, "user_id": uid}
        for uid in user_ids
    ]
    inserted = await session.scalars(
        insert(ReminderSent).values(rows).on_conflict_do_nothing().returning(ReminderSent.user_id)
    )
    return sorted(inserted.all())


async def _remind(session: AsyncSession, event: SchoolEvent, school: School, now: datetime) -> int:
    series = series_of(event, school)
    family_due = due_reminders(series, event.reminders, now)
    staff_due: list[Due] = []
    if held_until(WorkingWeek.of(school.working_hours, school.closure_days, school.timezone), now) is None:
        staff_due = due_reminders(series, event.reminders, now, late_limit=MAX_REMINDER_AHEAD)
    if not family_due and not staff_due:
        return 0
    families, staff = await recipients(session, event)
    # Staff who were out of hours get only the latest due reminder of an occurrence; the
    # earlier ones are marked as handled so they never arrive later.
    latest = {d.occurrence_at: d for d in sorted(staff_due, key=lambda d: d.remind_at)}
    plan: dict[Due, tuple[set[int], set[int]]] = {}  # due -> (told, marked only)
    for due in family_due:
        plan.setdefault(due, (set(), set()))[0].update(families)
    for due in staff_due:
        told, marked = plan.setdefault(due, (set(), set()))
        (told if latest[due.occurrence_at] == due else marked).update(staff)
    sent = 0
    shaped = await payload(session, event)
    for due in sorted(plan, key=lambda d: (d.occurrence_at, d.remind_at)):
        told, marked = plan[due]
        for user_id in await _claim(session, event, due, sorted(told | marked)):
            if user_id not in told:
                continue
            emit(
                session,
                user_channel(user_id),
                "event.reminder",
                {"event": shaped, "occurrence_at": iso(due.occurrence_at) or ""},
            )
            sent += 1
    return sent


async def remind_due(session: AsyncSession, now: datetime) -> int:
    """Write every reminder due at ``now`` in the caller's transaction; returns how many readers were told.

    Nothing is sent until the transaction commits: a process that dies before then leaves
    no rows, and the next run (in any process) sends them.
    """
    horizon = now + MAX_REMINDER_AHEAD + timedelta(minutes=1)
    # Guards of occurrences already begun guard nothing any more (only later ones are reminded of).
    await session.execute(delete(ReminderSent).where(ReminderSent.occurrence_at < now - KEEP_GUARDS))
    events = await session.scalars(
        select(SchoolEvent)
        .where(
            SchoolEvent.cancelled_at.is_(None),
            SchoolEvent.starts_at <= horizon,
            or_(
                SchoolEvent.starts_at > now,
                SchoolEvent.repeat_until >= local_date(now, "UTC") - timedelta(days=1),
            ),
        )
        .order_by(SchoolEvent.id)
    )
    sent = 0
    schools: dict[int, School | None] = {}
    for event in events.all():
        if not event.reminders:
            continue
        if event.school_id not in schools:
            schools[event.school_id] = await session.get(School, event.school_id)
        school = schools[event.school_id]
        if school is not None:
            sent += await _remind(session, event, school, now)
    return sent


async def send_reminders(services: Services) -> int:
    """The job: send every reminder now due, each once per reader; returns how many went out."""
    async with services.transaction() as session:
        return await remind_due(session, services.clock())
