"""School events and absence notes in the translation pipeline (``server.translation.pipeline``).

An event's title and details go to the languages of its readers (the class's, or the whole
school's), like an activity's; each finished field is announced as ``event.translated`` on
the event's channel, to the readers of that language. An absence report's note goes to the
languages of the office and the school's leaders who read it (P8), announced as
``absence.translated`` on ``school:{id}:staff``. Here: who needs which language and the
delivery; the pipeline does the queueing and the engines.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.calendar.events import FIELDS, channel_of
from server.db.models import Absence, SchoolEvent, User
from server.events import emit, school_staff_channel

OFFICE_READERS = ("office", "admin")


async def event_languages(session: AsyncSession, event: SchoolEvent) -> set[str]:
    """Preferred languages of an event's readers: its class's (and the staff), or the whole school's."""
    if event.scope == "class" and event.class_id is not None:
        from server.translation.pipeline import class_audience_languages  # the pipeline imports this module

        return await class_audience_languages(session, event.school_id, event.class_id)
    rows = await session.scalars(select(User.language).where(User.school_id == event.school_id).distinct())
    return set(rows.all())


async def office_languages(session: AsyncSession, school_id: int) -> set[str]:
    """Preferred languages of those who read absence reports: the office and the leaders."""
    rows = await session.scalars(
        select(User.language).where(User.school_id == school_id, User.role.in_(OFFICE_READERS)).distinct()
    )
    return set(rows.all())


async def event_texts(session: AsyncSession, event_id: int) -> tuple[list[str], str, set[str]] | None:
    """An event's texts to translate, their language and the languages wanted; None when it is gone."""
    event = await session.get(SchoolEvent, event_id)
    if event is None:
        return None
    return [getattr(event, f) for f in FIELDS], event.lang, await event_languages(session, event)


async def absence_texts(session: AsyncSession, absence_id: int) -> tuple[list[str], str, set[str]] | None:
    """An absence's note, its language and the office's languages; None when it is gone."""
    absence = await session.get(Absence, absence_id)
    if absence is None:
        return None
    return [absence.note], absence.lang, await office_languages(session, absence.school_id)


async def deliver_event(
    session: AsyncSession, event_id: int, text: str, source: str, target: str, result: str, engine: str
) -> None:
    """Announce a finished title or details translation, if the event still says the same."""
    event = await session.get(SchoolEvent, event_id)
    if event is None or event.lang != source:
        return
    for field in FIELDS:
        if getattr(event, field) != text:
            continue
        emit(
            session,
            channel_of(event),
            "event.translated",
            {
                "event_id": event.id,
                "field": field,
                "lang": target,
                "text": result,
                "engine": engine,
                "audience": {"language": target},
            },
        )


async def deliver_absence(
    session: AsyncSession, absence_id: int, text: str, source: str, target: str, result: str, engine: str
) -> None:
    """Announce a finished translation of an absence note to the office readers of that language."""
    absence = await session.get(Absence, absence_id)
    if absence is None or absence.note != text or absence.lang != source:
        return
    emit(
        session,
        school_staff_channel(absence.school_id),
        "absence.translated",
        {
            "absence_id": absence.id,
            "lang": target,
            "text": result,
            "engine": engine,
            "audience": {"language": target, "staff": True},
        },
    )


async def item_school(session: AsyncSession, kind: str, item_id: int) -> int | None:
    """The school an event or absence belongs to."""
    model = SchoolEvent if kind == "event" else Absence
    return await session.scalar(select(model.school_id).where(model.id == item_id))
