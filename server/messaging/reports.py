"""Reports (P9): the recipient of a message reports it; admins work through the queue.

A report is the only way a leader reads a private message (P19): an admin sees the
reported message and, through :func:`server.messaging.conversations.readable_conversation`,
the rest of its conversation. The live ``report.created`` event goes to
``school:{id}:staff``, which every member of staff hears, so it carries only the
report's id and status; admins fetch the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.db.models import Conversation, Message, Report, Student
from server.errors import forbidden, not_found, validation_error
from server.events import emit, school_staff_channel
from server.language.interface import N_
from server.messaging import shapes
from server.messaging.conversations import media_of, refuse_pupils, users_by_id, visible_clause
from server.messaging.writes import write
from server.school import audit
from server.school.access import names_for_classes
from server.services import Services
from server.timeutil import iso

STATUSES = ("open", "resolved")


def _own(found: Report) -> dict[str, Any]:
    """A report as its reporter sees it."""
    return {
        "id": found.id,
        "message_id": found.message_id,
        "status": found.status,
        "reason": found.reason,
        "created_at": iso(found.created_at),
    }


async def report_message(
    services: Services, principal: Principal, message_id: int, reason: str
) -> tuple[dict[str, Any], bool]:
    """Report a message sent to the user; ``(report, created)`` (a repeat returns the first)."""
    refuse_pupils(principal)

    async def work(session: AsyncSession) -> tuple[dict[str, Any], bool]:
        message = await session.get(Message, message_id)
        conv = await session.get(Conversation, message.conversation_id) if message else None
        if (
            message is None
            or conv is None
            or conv.school_id != principal.school_id
            or principal.id not in (conv.guardian_id, conv.staff_id)
        ):
            raise not_found(N_("That message"))
        visible = await session.scalar(
            select(Message.id).where(
                Message.id == message.id, visible_clause(principal.id == conv.guardian_id, principal.id)
            )
        )
        if visible is None:
            raise not_found(N_("That message"))
        if message.system:
            raise validation_error(
                N_("Notices from Homeroom cannot be reported."), fields={"message_id": "system"}
            )
        if message.sender_id == principal.id:
            raise forbidden(N_("Only the person a message was sent to can report it."))
        existing = await session.scalar(
            select(Report).where(Report.message_id == message.id, Report.reporter_id == principal.id)
        )
        if existing is not None:
            return _own(existing), False
        found = Report(
            school_id=principal.school_id,
            message_id=message.id,
            reporter_id=principal.id,
            reason=reason,
            status="open",
            created_at=services.clock(),
        )
        session.add(found)
        await session.flush()
        audit.record(
            session,
            principal.school_id,
            principal.id,
            "message.reported",
            "message",
            message.id,
            report_id=found.id,
        )
        emit(
            session, school_staff_channel(principal.school_id), "report.created", shapes.report_notice(found)
        )
        return _own(found), True

    return await write(services, work)


async def list_reports(
    session: AsyncSession,
    principal: Principal,
    status: str | None,
    before: int | None,
    limit: int,
    *,
    translating: bool,
) -> list[dict[str, Any]]:
    """The admins' queue, newest first; ``status`` filters (open, resolved), None means all."""
    require_role(principal, "admin")
    query = select(Report).where(Report.school_id == principal.school_id)
    if status is not None:
        query = query.where(Report.status == status)
    if before is not None:
        query = query.where(Report.id < before)
    found = (await session.scalars(query.order_by(Report.id.desc()).limit(limit))).all()
    return await _views(session, principal, found, translating=translating)


async def resolve(
    services: Services, principal: Principal, report_id: int, resolution: str
) -> dict[str, Any]:
    """Close a report with what was done; resolving a closed report changes nothing."""
    require_role(principal, "admin")

    async def work(session: AsyncSession) -> dict[str, Any]:
        found = await session.get(Report, report_id)
        if found is None or found.school_id != principal.school_id:
            raise not_found(N_("That report"))
        if found.status != "resolved":
            found.status = "resolved"
            found.resolution = resolution
            found.resolved_by = principal.id
            found.resolved_at = services.clock()
            audit.record(session, principal.school_id, principal.id, "report.resolved", "report", found.id)
        await session.flush()
        return (await _views(session, principal, [found], translating=False))[0]

    return await write(services, work)


async def _views(
    session: AsyncSession, principal: Principal, found: Sequence[Report], *, translating: bool
) -> list[dict[str, Any]]:
    if not found:
        return []
    messages = {
        m.id: m
        for m in await session.scalars(
            select(Message).where(Message.id.in_({r.message_id for r in found if r.message_id}))
        )
    }
    convs = {
        c.id: c
        for c in await session.scalars(
            select(Conversation).where(Conversation.id.in_({m.conversation_id for m in messages.values()}))
        )
    }
    user_ids = {u for c in convs.values() for u in (c.guardian_id, c.staff_id) if u is not None}
    user_ids |= {u for r in found for u in (r.reporter_id, r.resolved_by) if u is not None}
    users = await users_by_id(session, user_ids)
    pupils = (
        await session.scalars(select(Student).where(Student.id.in_({c.student_id for c in convs.values()})))
    ).all()
    names = await names_for_classes(session, {p.class_id for p in pupils})
    media = await media_of(session, list(messages))
    items = []
    for report in found:
        message = messages.get(report.message_id) if report.message_id else None
        conv = convs.get(message.conversation_id) if message else None
        reported = None
        if message is not None:
            sender = users.get(message.sender_id) if message.sender_id else None
            reported = shapes.message(
                message,
                sender,
                principal.user.language,
                translating=translating,
                media=media.get(message.id, ()),
            )
        summary = None
        if conv is not None:
            summary = {
                "id": conv.id,
                "student": None
                if conv.student_id is None
                else {"id": conv.student_id, "name": names.get(conv.student_id)},
                "guardian": shapes.user_ref(users.get(conv.guardian_id) if conv.guardian_id else None),
                "staff": shapes.user_ref(users.get(conv.staff_id) if conv.staff_id else None),
            }
        items.append(
            shapes.report(
                report,
                reporter=users.get(report.reporter_id) if report.reporter_id else None,
                resolver=users.get(report.resolved_by) if report.resolved_by else None,
                reported=reported,
                conversation=summary,
            )
        )
    return items
