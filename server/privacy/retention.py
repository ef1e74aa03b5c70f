"""Retention (P18): a daily job erases pupils who left long ago and purges expired sessions and invites.

Roster import previews go too once they can no longer be confirmed (a day): their plans hold
pupils' and families' names, which the roster itself is the place for.

It runs as a :class:`server.jobs.Job`, so with several processes one of them runs each tick
(the ``job_leases`` row is the lock). Each pupil is erased in its own transaction, so a
failure part-way leaves every pupil either wholly there or wholly gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select

from server.db.engine import rowcount
from server.db.models import Invite, RosterImport, Session, Student
from server.media.uploads import discard_files
from server.privacy.erasure import erase_student, live_channels_of
from server.school.access import guardians_of
from server.services import Services

log = logging.getLogger("homeroom.privacy")
DAILY = 24 * 3600.0
SESSION_KEEP_AFTER_END = timedelta(days=1)
ROSTER_PLAN_KEPT = timedelta(days=1)  # as long as a preview can be confirmed (server.school.roster_import)


@dataclass
class RetentionResult:
    """What one run removed."""

    pupils: int = 0
    sessions: int = 0
    invites: int = 0


async def run_retention(services: Services) -> RetentionResult:
    """Erase pupils who left more than ``retention_days`` ago; purge expired sessions and invites."""
    now = services.clock()
    result = RetentionResult()
    cutoff = now - timedelta(days=services.settings.retention_days)
    async with services.read() as session:
        due = list(
            (
                await session.scalars(
                    select(Student.id).where(Student.left_at.is_not(None), Student.left_at < cutoff)
                )
            ).all()
        )
    for student_id in due:
        async with services.transaction() as session:
            pupil = await session.get(Student, student_id)
            if pupil is None:  # erased meanwhile by an admin
                continue
            affected = [pupil.user_id, *(g.id for g in await guardians_of(session, pupil.id))]
            channels = await live_channels_of(session, pupil)
            keys = await erase_student(session, pupil, None)
        await discard_files(services, keys)
        await services.forget_history(channels)
        for user_id in affected:
            await services.access_changed(user_id)
        result.pupils += 1
    async with services.transaction() as session:
        ended = now - SESSION_KEEP_AFTER_END
        gone = await session.execute(
            delete(Session).where(or_(Session.expires_at < ended, Session.revoked_at < ended))
        )
        result.sessions = rowcount(gone)
        gone = await session.execute(delete(Invite).where(Invite.expires_at < now))
        result.invites = rowcount(gone)
        await session.execute(delete(RosterImport).where(RosterImport.created_at < now - ROSTER_PLAN_KEPT))
    if result.pupils or result.sessions or result.invites:
        log.info(
            "retention: erased %d pupils, purged %d sessions and %d invites",
            result.pupils,
            result.sessions,
            result.invites,
        )
    return result
