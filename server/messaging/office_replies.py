"""The office answering what was routed to it (P8): a reply as the office, and "done".

A reply goes into the family's own conversation about the pupil, from the member of the
office who wrote it: the family reads it there (translated into their language by the
pipeline, as every message), and the class teacher, the conversation's other member,
sees it in the same thread, so what the office has handled is never hidden from them.
"Done" marks the routed message handled; the teacher's thread and every staff inbox see
it live (``office.done``). Both are audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.db.models import Conversation, Message, User
from server.errors import ApiError, not_found
from server.events import emit, school_staff_channel, user_channel
from server.messaging import shapes
from server.school import audit
from server.timeutil import iso


async def routed_message(
    session: AsyncSession, principal: Principal, message_id: int
) -> tuple[Message, Conversation]:
    """A message routed to this school's office, with its conversation; 404 for anything else."""
    require_role(principal, "office", "admin")
    message = await session.get(Message, message_id)
    if message is None or message.system or message.topic is None:
        raise not_found("That office message")
    conv = await session.get(Conversation, message.conversation_id)
    if conv is None or conv.school_id != principal.school_id:
        raise not_found("That office message")
    return message, conv


async def reply(
    session: AsyncSession,
    principal: Principal,
    message_id: int,
    text: str,
    now: datetime,
    *,
    translating: bool,
) -> dict[str, Any]:
    """Write the office's reply into the family's conversation; the reply as its writer sees it."""
    routed, conv = await routed_message(session, principal, message_id)
    if conv.guardian_id is None:
        raise ApiError(409, "conversation_closed", "The family has left this conversation.")
    answer = Message(
        conversation_id=conv.id,
        sender_id=principal.id,
        text=text,
        lang=principal.user.language,
        created_at=now,
    )
    session.add(answer)
    await session.flush()
    await session.execute(update(Conversation).where(Conversation.id == conv.id).values(last_message_at=now))
    sender = principal.user
    for reader_id in {conv.guardian_id, conv.staff_id, principal.id} - {None}:
        reader = await session.get(User, reader_id)
        if reader is not None:
            shaped = shapes.message(answer, sender, reader.language, translating=translating)
            emit(session, user_channel(reader.id), "message.created", {"message": shaped})
    audit.record(session, principal.school_id, principal.id, "office.replied", "message", routed.id)
    return shapes.message(answer, sender, sender.language, translating=translating)


async def mark_done(
    session: AsyncSession, principal: Principal, message_id: int, now: datetime
) -> dict[str, Any]:
    """Mark a routed message handled (idempotent: the first time and person are kept)."""
    routed, conv = await routed_message(session, principal, message_id)
    if routed.office_done_at is None:
        routed.office_done_at = now
        routed.office_done_by = principal.id
        audit.record(session, principal.school_id, principal.id, "office.done", "message", routed.id)
    by = await session.get(User, routed.office_done_by) if routed.office_done_by else None
    event = {
        "message_id": routed.id,
        "conversation_id": conv.id,
        "done_at": iso(routed.office_done_at),
        "done_by": shapes.user_ref(by),
    }
    emit(session, school_staff_channel(principal.school_id), "office.done", event)
    if conv.staff_id is not None:
        emit(session, user_channel(conv.staff_id), "office.done", event)
    return event
