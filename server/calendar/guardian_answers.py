"""A guardian's own answers to one event, child by child (the family's reply form reads them).

Only the reader's own children count (linked and not left, as
:func:`server.school.access.children_ids` says), and only those the event is for; the
newest answer of any of the child's guardians is the child's answer, as staff see it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.calendar.responses import response_shape
from server.db.models import EventResponse, SchoolEvent, Student, User
from server.school.access import children_ids, names_for_classes


async def answers_of_guardian(
    session: AsyncSession, principal: Principal, event: SchoolEvent
) -> list[dict[str, Any]]:
    """``response_shape`` of each of the reader's children in the event's audience who has an answer."""
    mine = set((await session.scalars(children_ids(principal.id))).all())
    if not mine:
        return []
    pupils = [
        p
        for p in await session.scalars(select(Student).where(Student.id.in_(mine), Student.left_at.is_(None)))
        if event.scope != "class" or p.class_id == event.class_id
    ]
    if not pupils:
        return []
    names = await names_for_classes(session, {p.class_id for p in pupils})
    by_id = {p.id: p for p in pupils}
    found = await session.scalars(
        select(EventResponse).where(EventResponse.event_id == event.id, EventResponse.student_id.in_(by_id))
    )
    out = []
    for response in found:
        guardian = await session.get(User, response.guardian_id) if response.guardian_id else None
        pupil = by_id[response.student_id]
        out.append(response_shape(response, names[pupil.id], guardian, pupil.class_id))
    return out
