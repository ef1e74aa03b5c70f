"""Conversations: one guardian and one member of staff, about one pupil.

Who may see what (P5, P13, P19):

- Pupils are refused every messaging operation (403 ``forbidden``).
- A conversation and its messages are visible to its two members only; anyone
  else gets 404, as if it did not exist.
- Admins read a conversation they are not in only when one of its messages was
  reported to them (P19), and each such reading is written to the audit log.
- A message held for quiet hours (P7) is invisible to the member of staff until it
  is released; server-written notices (``system``) are addressed to the guardian,
  whose message caused them, and only the guardian sees them.

A guardian may start a conversation about one of their own children with any
member of staff of the school (class teacher, support staff, office or a leader:
in a primary school the right person is not always the class teacher). A member
of staff may start one with a guardian of any pupil of the school. Starting is
idempotent: the existing conversation comes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import STAFF_ROLES, Principal
from server.db.engine import rowcount
from server.db.models import (
    Conversation,
    GuardianLink,
    Media,
    Message,
    MessageMedia,
    Report,
    StaffClass,
    Student,
    User,
)
from server.errors import bad_request, forbidden, not_found, validation_error
from server.events import emit, user_channel
from server.language.interface import N_
from server.language.view import Routes, cached_translations, reader_view, routes_of
from server.messaging import shapes
from server.messaging.writes import write
from server.school import audit
from server.school.access import get_student, is_guardian_of, names_for_classes
from server.services import Services
from server.timeutil import iso

LIVE = "live"
HELD = "held_quiet_hours"


def refuse_pupils(principal: Principal) -> None:
    """403 for pupils on every messaging endpoint (P5)."""
    if principal.role not in STAFF_ROLES and principal.role != "parent":
        raise forbidden(N_("Pupils cannot send or read messages."))


def translation_routes(services: Services) -> Routes | None:
    """The engines' routes when a translation pipeline runs; None when nothing is translated here."""
    return routes_of(services) if services.translation is not None else None


def translating(services: Services) -> bool:
    """True when a translation pipeline runs, so other languages are ``pending``, not ``unavailable``."""
    return services.translation is not None


async def in_reader_language(
    services: Services, items: list[dict[str, Any]], language: str
) -> list[dict[str, Any]]:
    """Messages with their stored translations into ``language`` applied (original kept)."""
    wanted = [(m["original"]["text"], m["original"]["lang"]) for m in items if not m["system"]]
    if not wanted:
        return items
    async with services.read() as session:
        found = await cached_translations(session, wanted, language)
    routes = routes_of(services)
    return [m if m["system"] else reader_view(m, language, found, routes=routes) for m in items]


def visible_clause(guardian_side: bool, viewer_id: int) -> ColumnElement[bool]:
    """Messages of a conversation one member sees: all for the guardian, fewer for staff."""
    # A message waiting for its recordings to be processed is its sender's alone until then.
    ready = or_(Message.awaiting_media.is_(False), Message.sender_id == viewer_id)
    if guardian_side:
        return ready
    return and_(
        Message.system.is_(False),
        ready,
        or_(Message.delivery == LIVE, Message.released_at.is_not(None), Message.sender_id == viewer_id),
    )


def _unread_clause(viewer_id: int) -> ColumnElement[bool]:
    return and_(Message.read_at.is_(None), or_(Message.sender_id.is_(None), Message.sender_id != viewer_id))


async def member_conversation(
    session: AsyncSession, principal: Principal, conversation_id: int
) -> Conversation:
    """A conversation the user is one of the two members of, else 404."""
    refuse_pupils(principal)
    found = await session.get(Conversation, conversation_id)
    if (
        found is None
        or found.school_id != principal.school_id
        or principal.id not in (found.guardian_id, found.staff_id)
    ):
        raise not_found(N_("That conversation"))
    return found


async def is_reported(session: AsyncSession, conversation_id: int) -> bool:
    """True when any message of the conversation was reported."""
    hit = await session.scalar(
        select(Report.id)
        .join(Message, Message.id == Report.message_id)
        .where(Message.conversation_id == conversation_id)
        .limit(1)
    )
    return hit is not None


async def readable_conversation(
    session: AsyncSession, principal: Principal, conversation_id: int
) -> tuple[Conversation, bool]:
    """A conversation the user may read, and whether they read it as an admin through a report."""
    refuse_pupils(principal)
    found = await session.get(Conversation, conversation_id)
    if found is None or found.school_id != principal.school_id:
        raise not_found(N_("That conversation"))
    if principal.id in (found.guardian_id, found.staff_id):
        return found, False
    if principal.is_admin and await is_reported(session, found.id):
        return found, True
    raise not_found(N_("That conversation"))


async def start(
    services: Services,
    principal: Principal,
    *,
    student_id: int,
    staff_id: int | None,
    guardian_id: int | None,
) -> tuple[Conversation, bool]:
    """The conversation of this guardian, member of staff and pupil; created (True) or existing."""
    refuse_pupils(principal)

    async def work(session: AsyncSession) -> tuple[Conversation, bool]:
        pupil = await get_student(session, principal, student_id)
        if principal.role == "parent":
            if staff_id is None:
                raise validation_error(N_("Choose a member of staff."), fields={"staff_id": "missing"})
            staff = await session.get(User, staff_id)
            if (
                staff is None
                or staff.school_id != principal.school_id
                or staff.role not in STAFF_ROLES
                or staff.suspended_at is not None
            ):
                raise not_found(N_("That member of staff"))
            keys = (principal.id, staff.id, pupil.id)
        else:
            if guardian_id is None:
                raise validation_error(
                    N_("Choose a guardian of the pupil."), fields={"guardian_id": "missing"}
                )
            if not await is_guardian_of(session, guardian_id, pupil.id):
                raise not_found(N_("That guardian"))
            keys = (guardian_id, principal.id, pupil.id)
        existing = await _find(session, *keys)
        if existing is not None:
            return existing, False
        created = Conversation(
            school_id=principal.school_id,
            guardian_id=keys[0],
            staff_id=keys[1],
            student_id=keys[2],
            created_at=services.clock(),
        )
        session.add(created)
        await session.flush()
        return created, True

    try:
        return await write(services, work)
    except IntegrityError:
        # The same conversation was started at the same moment elsewhere: return that one.
        return await write(services, work)


async def contacts(session: AsyncSession, principal: Principal, student_id: int) -> list[dict[str, Any]]:
    """Who the user may start a conversation with about this pupil.

    A guardian: the staff of the pupil's class first (``class_staff: true``), then the
    school's leaders and office. Staff: the pupil's guardians. Suspended accounts are left out.
    """
    refuse_pupils(principal)
    pupil = await get_student(session, principal, student_id)
    if principal.role == "parent":
        assigned = set(
            (
                await session.scalars(select(StaffClass.user_id).where(StaffClass.class_id == pupil.class_id))
            ).all()
        )
        rows = await session.scalars(
            select(User)
            .where(
                User.school_id == principal.school_id,
                User.suspended_at.is_(None),
                User.id.in_(assigned) | User.role.in_(("admin", "office")),
                User.role.in_(STAFF_ROLES),
            )
            .order_by(User.name, User.id)
        )
        people = sorted(rows.all(), key=lambda u: u.id not in assigned)  # stable: class staff first
        return [{"id": u.id, "name": u.name, "role": u.role, "class_staff": u.id in assigned} for u in people]
    if pupil.left_at is not None:  # a leaver's guardians are no longer the school's families
        return []
    rows = await session.scalars(
        select(User)
        .join(GuardianLink, GuardianLink.guardian_id == User.id)
        .where(GuardianLink.student_id == pupil.id, User.suspended_at.is_(None))
        .order_by(User.name, User.id)
    )
    return [{"id": u.id, "name": u.name, "role": u.role, "language": u.language} for u in rows.all()]


async def _find(
    session: AsyncSession, guardian_id: int, staff_id: int, student_id: int
) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(
            Conversation.guardian_id == guardian_id,
            Conversation.staff_id == staff_id,
            Conversation.student_id == student_id,
        )
    )


async def list_for(
    session: AsyncSession, principal: Principal, before: int | None, limit: int, *, routes: Routes | None
) -> list[dict[str, Any]]:
    """The user's conversations, most recent activity first; ``before`` is a conversation id."""
    refuse_pupils(principal)
    activity = func.coalesce(Conversation.last_message_at, Conversation.created_at)
    query = select(Conversation).where(
        Conversation.school_id == principal.school_id,
        or_(Conversation.guardian_id == principal.id, Conversation.staff_id == principal.id),
    )
    if before is not None:
        cursor = await session.get(Conversation, before)
        if cursor is None or principal.id not in (cursor.guardian_id, cursor.staff_id):
            raise bad_request(N_("'before' must be the id of one of your conversations."), field="before")
        key = cursor.last_message_at or cursor.created_at
        query = query.where(or_(activity < key, and_(activity == key, Conversation.id < cursor.id)))
    rows = (await session.scalars(query.order_by(activity.desc(), Conversation.id.desc()).limit(limit))).all()
    return await views(session, principal, rows, routes=routes)


async def views(
    session: AsyncSession, principal: Principal, found: Sequence[Conversation], *, routes: Routes | None
) -> list[dict[str, Any]]:
    """Conversations shaped for one member: names, last visible message, unread count."""
    translating = routes is not None
    if not found:
        return []
    ids = [c.id for c in found]
    guardian_side = principal.role == "parent"
    visible = visible_clause(guardian_side, principal.id)
    users = await users_by_id(
        session, {u for c in found for u in (c.guardian_id, c.staff_id) if u is not None}
    )
    pupils = (
        await session.scalars(select(Student).where(Student.id.in_({c.student_id for c in found})))
    ).all()
    names = await names_for_classes(session, {p.class_id for p in pupils})
    latest = (
        select(func.max(Message.id))
        .where(Message.conversation_id.in_(ids), visible)
        .group_by(Message.conversation_id)
        .scalar_subquery()
    )
    last = {
        m.conversation_id: m for m in (await session.scalars(select(Message).where(Message.id.in_(latest))))
    }
    writers = {m.sender_id for m in last.values() if m.sender_id is not None} - users.keys()
    if writers:  # a last message from the office, answering a routed message
        users.update(await users_by_id(session, writers))
    media = await media_of(session, [m.id for m in last.values()])
    unread = dict(
        (
            await session.execute(
                select(Message.conversation_id, func.count())
                .where(Message.conversation_id.in_(ids), visible, _unread_clause(principal.id))
                .group_by(Message.conversation_id)
            )
        ).all()
    )
    language = principal.user.language
    stored: dict[Any, Any] = {}
    if translating:  # the previews in the reader's language too, like the messages themselves
        wanted = [(m.text, m.lang) for m in last.values() if not m.system]
        stored = await cached_translations(session, wanted, language) if wanted else {}
    result = []
    for conv in found:
        message = last.get(conv.id)
        shaped = None
        if message is not None:
            sender = users.get(message.sender_id) if message.sender_id else None
            shaped = shapes.message(
                message,
                sender,
                language,
                translating=translating,
                media=media.get(message.id, ()),
            )
            if routes is not None and not message.system:
                shaped = reader_view(shaped, language, stored, routes=routes)
        result.append(
            shapes.conversation(
                conv,
                student_name=names.get(conv.student_id) if conv.student_id else None,
                guardian=users.get(conv.guardian_id) if conv.guardian_id else None,
                staff=users.get(conv.staff_id) if conv.staff_id else None,
                last_message=shaped,
                unread_count=int(unread.get(conv.id, 0)),
            )
        )
    return result


async def users_by_id(session: AsyncSession, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))}


async def media_of(session: AsyncSession, message_ids: Sequence[int]) -> dict[int, list[Media]]:
    """Attachments per message id."""
    if not message_ids:
        return {}
    rows = await session.execute(
        select(MessageMedia.message_id, Media)
        .join(Media, Media.id == MessageMedia.media_id)
        .where(MessageMedia.message_id.in_(message_ids))
        .order_by(Media.id)
    )
    found: dict[int, list[Media]] = {}
    for message_id, item in rows.all():
        found.setdefault(message_id, []).append(item)
    return found


async def messages_page(
    services: Services, principal: Principal, conversation_id: int, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """A page of a conversation's messages, newest first, as the reader may see them."""
    async with services.read() as session:
        conv, via_report = await readable_conversation(session, principal, conversation_id)
        visible = true() if via_report else visible_clause(principal.id == conv.guardian_id, principal.id)
        query = select(Message).where(Message.conversation_id == conv.id, visible)
        if before is not None:
            query = query.where(Message.id < before)
        rows = (await session.scalars(query.order_by(Message.id.desc()).limit(limit))).all()
        # The members, and anyone else who wrote here: the office answering a routed message.
        writers = {m.sender_id for m in rows if m.sender_id is not None}
        users = await users_by_id(
            session, {u for u in (conv.guardian_id, conv.staff_id) if u is not None} | writers
        )
        media = await media_of(session, [m.id for m in rows])
    items = [
        shapes.message(
            m,
            users.get(m.sender_id) if m.sender_id else None,
            principal.user.language,
            translating=translating(services),
            media=media.get(m.id, ()),
        )
        for m in rows
    ]
    if translating(services):
        items = await in_reader_language(services, items, principal.user.language)
    if via_report:

        async def note(session: AsyncSession) -> None:
            audit.record(
                session,
                principal.school_id,
                principal.id,
                "conversation.read_reported",
                "conversation",
                conv.id,
                messages=len(items),
            )

        await write(services, note)
    return items


async def mark_read(
    services: Services, principal: Principal, conversation_id: int, message_id: int
) -> dict[str, Any]:
    """Mark every message up to ``message_id`` that the reader received as read; tell both members."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        conv = await member_conversation(session, principal, conversation_id)
        visible = visible_clause(principal.id == conv.guardian_id, principal.id)
        target = await session.scalar(
            select(Message.id).where(Message.id == message_id, Message.conversation_id == conv.id, visible)
        )
        if target is None:
            raise not_found(N_("That message"))
        now = services.clock()
        result = await session.execute(
            update(Message)
            .where(
                Message.conversation_id == conv.id,
                Message.id <= message_id,
                visible,
                _unread_clause(principal.id),
            )
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        marked = rowcount(result)
        if marked:
            data = {"conversation_id": conv.id, "message_id": message_id, "reader_id": principal.id}
            for member in (conv.guardian_id, conv.staff_id):
                if member is not None:
                    emit(session, user_channel(member), "message.read", data)
        return {
            "conversation_id": conv.id,
            "message_id": message_id,
            "reader_id": principal.id,
            "read_at": iso(now),
            "marked": marked,
        }

    return await write(services, work)
