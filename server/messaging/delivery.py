"""Sending a message: quiet hours (P7), office routing (P8), idempotent retries and live events.

A guardian's message to staff outside the school's working hours is stored at
once with ``delivery: "held_quiet_hours"`` and ``held_until`` (the next working
period's start). Only the guardian's own devices hear of it; the guardian gets a
notice saying when it will be seen and by when to expect a reply (24 working
hours). :func:`release_held_messages`, a periodic job, releases it at that time:
each held row is claimed with a conditional UPDATE (``released_at IS NULL``), so
even with several processes running the job it reaches the member of staff
exactly once. Staff writing to a guardian are never held: quiet hours protect
staff, and a family may read a late reply whenever it suits them.

A guardian's message on an office topic (found by :mod:`server.messaging.office`,
in the school's language, through the translation hook when there is one) gets a
notice pointing to the school office with its phone number, and a copy in the
office inbox, delivered to the office when the message is (so quiet hours hold for
the office too).

A message may carry a ``client_id``: a retry with the same one returns the first
message and creates nothing (the database's unique (sender, client_id) decides
races).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.models import Conversation, Media, Message, MessageMedia, School, User
from server.errors import ApiError, conflict, validation_error
from server.events import emit, school_staff_channel, user_channel
from server.language.interface import N_, catalog_language, isolate, text
from server.media.processing import any_processing
from server.messaging import shapes
from server.messaging.conversations import (
    HELD,
    LIVE,
    media_of,
    member_conversation,
    refuse_pupils,
    translating,
    users_by_id,
)
from server.messaging.office import office_notice_text, office_told, office_topic
from server.messaging.office_routing import Match
from server.messaging.quiet_hours import WorkingWeek, describe, held_until, working_time_after
from server.messaging.writes import write
from server.school.access import is_guardian_of
from server.services import Services

MAX_MEDIA = 10
NOTICE_LANGUAGE = "en"
RELEASE_BATCH = 200


@dataclass(frozen=True)
class _Setting:
    """What a send needs to know, read before its write transaction (which then only writes)."""

    conversation: Conversation
    school: School
    sender: User
    recipient: User
    from_guardian: bool

    @property
    def staff(self) -> User:
        return self.recipient if self.from_guardian else self.sender


async def send(
    services: Services,
    principal: Principal,
    conversation_id: int,
    *,
    text: str,
    media_ids: list[int],
    client_id: str | None,
) -> tuple[dict[str, Any], bool]:
    """Store a message (and its notices), emit its events; ``(message, created)``."""
    refuse_pupils(principal)
    if not text and not media_ids:
        raise validation_error(N_("Write a message or attach a file."), fields={"text": "empty"})
    async with services.read() as session:
        conv = await member_conversation(session, principal, conversation_id)
        if client_id is not None:
            again = await _retry_of(session, services, principal, conv.id, client_id)
            if again is not None:
                return again, False
        school = await session.get(School, principal.school_id)
        assert school is not None
        from_guardian = principal.id == conv.guardian_id
        recipient_id = conv.staff_id if from_guardian else conv.guardian_id
        recipient = await session.get(User, recipient_id) if recipient_id is not None else None
        # A guardian unlinked from the pupil, or whose child left, is no longer their family:
        # the history stays readable to both members, but nothing new is said about the pupil.
        unlinked = (
            conv.guardian_id is not None
            and conv.student_id is not None
            and not await is_guardian_of(session, conv.guardian_id, conv.student_id)
        )
    if recipient is None:
        raise ApiError(409, "conversation_closed", N_("The other member of this conversation has left."))
    if unlinked:
        raise ApiError(409, "conversation_closed", N_("This family is no longer linked to the pupil."))
    setting = _Setting(conv, school, principal.user, recipient, from_guardian)
    match = None
    # Only a guardian's message to a teacher or leader is routed: one to the office is there already.
    if from_guardian and text and recipient.role != "office":
        match = await office_topic(services, text, principal.user.language, school.language)

    async def work(session: AsyncSession) -> dict[str, Any]:
        return await _store(session, services, principal, setting, text, media_ids, client_id, match)

    try:
        return await write(services, work), True
    except IntegrityError:
        if client_id is None:
            raise
        async with services.read() as session:
            again = await _retry_of(session, services, principal, conversation_id, client_id)
        if again is None:
            raise
        return again, False


async def _retry_of(
    session: AsyncSession, services: Services, principal: Principal, conversation_id: int, client_id: str
) -> dict[str, Any] | None:
    """The message this sender already sent with ``client_id``, shaped for them, if any."""
    found = await session.scalar(
        select(Message).where(Message.sender_id == principal.id, Message.client_id == client_id)
    )
    if found is None:
        return None
    if found.conversation_id != conversation_id:
        raise conflict("already_exists", N_("That client_id was already used for another message."))
    media = await media_of(session, [found.id])
    return shapes.message(
        found,
        principal.user,
        principal.user.language,
        translating=translating(services),
        media=media.get(found.id, ()),
    )


async def _own_media(session: AsyncSession, principal: Principal, media_ids: list[int]) -> list[Media]:
    if not media_ids:
        return []
    wanted = list(dict.fromkeys(media_ids))
    if len(wanted) > MAX_MEDIA:
        raise validation_error(f"Attach at most {MAX_MEDIA} files.", fields={"media_ids": "too many"})
    found = (
        await session.scalars(
            select(Media).where(
                Media.id.in_(wanted),
                Media.school_id == principal.school_id,
                Media.uploader_id == principal.id,
            )
        )
    ).all()
    if len(found) != len(wanted):
        raise validation_error(N_("Attach only files you uploaded."), fields={"media_ids": "unknown"})
    order = {media_id: index for index, media_id in enumerate(wanted)}
    return sorted(found, key=lambda m: order[m.id])


async def _store(
    session: AsyncSession,
    services: Services,
    principal: Principal,
    setting: _Setting,
    text: str,
    media_ids: list[int],
    client_id: str | None,
    match: Match | None,
) -> dict[str, Any]:
    """Write the message, held or live, with its notices and events; the sender's shape of it."""
    conv, school, sender, recipient = setting.conversation, setting.school, setting.sender, setting.recipient
    now = services.clock()
    media = await _own_media(session, principal, media_ids)
    week = WorkingWeek.of(school.working_hours, school.closure_days, school.timezone)
    hold = held_until(week, now) if setting.from_guardian else None
    message = Message(
        conversation_id=conv.id,
        sender_id=sender.id,
        client_id=client_id,
        text=text,
        lang=sender.language,
        topic=match.topic.key if match else None,
        delivery=HELD if hold else LIVE,
        held_until=hold,
        awaiting_media=any_processing(media),
        created_at=now,
    )
    session.add(message)
    await session.flush()
    session.add_all(MessageMedia(message_id=message.id, media_id=m.id) for m in media)
    notices = await _notices(session, school, week, message, match, setting.staff)
    if hold is None and not message.awaiting_media:
        await session.execute(
            update(Conversation).where(Conversation.id == conv.id).values(last_message_at=now)
        )
    await session.flush()

    busy = translating(services)
    mine = shapes.message(message, sender, sender.language, translating=busy, media=media)
    emit(session, user_channel(sender.id), "message.created", {"message": mine})
    # A voice note or video still processing: the recipient gets the message when it is ready.
    if hold is None and not message.awaiting_media:
        theirs = shapes.message(message, sender, recipient.language, translating=busy, media=media)
        emit(session, user_channel(recipient.id), "message.created", {"message": theirs})
        if message.topic is not None:
            emit(session, school_staff_channel(school.id), "office.message", shapes.office_notice(message))
    for notice in notices:
        shaped = shapes.message(notice, None, sender.language, translating=busy)
        emit(session, user_channel(sender.id), "message.created", {"message": shaped})
    return mine


async def _notices(
    session: AsyncSession,
    school: School,
    week: WorkingWeek,
    message: Message,
    match: Match | None,
    staff: User,
) -> list[Message]:
    """The notices a guardian's message earns: quiet time (once a period), office (once a topic)."""
    notices: list[Message] = []
    now, conv_id = message.created_at, message.conversation_id
    reader = await _sender_language(session, message.sender_id)
    held = message.held_until
    sender_id = message.sender_id
    if (
        held is not None
        and sender_id is not None
        and not await _already_held(session, conv_id, sender_id, message.id)
    ):
        body = _quiet_text(week, now, held, staff, reader)
        english = _quiet_text(week, now, held, staff, None)
        notices.append(_notice(conv_id, now, "quiet_hours", body, _written_in(body, english, reader)))
    if match is not None and not await office_told(session, conv_id, match, now):
        body = office_notice_text(match.topic.label, school.office_phone, reader)
        english = office_notice_text(match.topic.label, school.office_phone)
        notices.append(
            _notice(conv_id, now, f"office:{match.topic.key}", body, _written_in(body, english, reader))
        )
    session.add_all(notices)
    return notices


async def _sender_language(session: AsyncSession, sender_id: int | None) -> str | None:
    """The language of the guardian a notice answers (the one who reads it)."""
    if sender_id is None:
        return None
    return await session.scalar(select(User.language).where(User.id == sender_id))


def _written_in(body: str, english: str, reader: str | None) -> str:
    """The notice's language: the reader's when its catalog had the words, else English.

    Staff reading the conversation get it translated into theirs like any message."""
    if reader and body != english and catalog_language(reader) is not None:
        return reader
    return NOTICE_LANGUAGE


def _notice(
    conversation_id: int, now: datetime, topic: str, body: str, lang: str = NOTICE_LANGUAGE
) -> Message:
    return Message(
        conversation_id=conversation_id,
        sender_id=None,
        text=body,
        lang=lang,
        system=True,
        topic=topic,
        delivery=LIVE,
        created_at=now,
    )


async def _already_held(session: AsyncSession, conversation_id: int, sender_id: int, message_id: int) -> bool:
    """True when an earlier message of this quiet period is still held (its notice was sent)."""
    found = await session.scalar(
        select(Message.id).where(
            Message.conversation_id == conversation_id,
            Message.sender_id == sender_id,
            Message.delivery == HELD,
            Message.released_at.is_(None),
            Message.id != message_id,
        )
    )
    return found is not None


def _quiet_text(
    week: WorkingWeek, now: datetime, opening: datetime, staff: User | None, language: str | None
) -> str:
    """The quiet-hours notice in ``language``: when staff will see the message, when to expect a reply."""
    when = describe(week, opening, now, language)
    if staff is not None:
        body = text(
            language,
            "Thank you, your message is saved. It is outside staff working hours, so {name} will see "
            "it on {when}.",
            name=isolate(staff.name, language),
            when=when,
        )
    else:
        body = text(
            language,
            "Thank you, your message is saved. It is outside staff working hours, so staff will see "
            "it on {when}.",
            when=when,
        )
    reply_by = working_time_after(week, now)
    if reply_by is not None:
        body += " " + text(
            language, "You can expect a reply by {when}.", when=describe(week, reply_by, now, language)
        )
    return body


async def release_held_messages(services: Services) -> int:
    """Release every held message whose working period has begun; returns how many."""
    total = 0
    while True:
        released = await write(services, lambda session: _release_batch(session, services))
        total += released
        if released < RELEASE_BATCH:
            return total


async def _release_batch(session: AsyncSession, services: Services) -> int:
    now = services.clock()
    due = (
        await session.scalars(
            select(Message.id)
            .where(
                Message.delivery == HELD,
                Message.released_at.is_(None),
                Message.held_until <= now,
                Message.awaiting_media.is_(False),
            )
            .order_by(Message.id)
            .limit(RELEASE_BATCH)
        )
    ).all()
    if not due:
        return 0
    # The claim: only rows still unreleased are taken, so a concurrent run in another
    # process (waiting on the same rows) finds nothing left to release.
    claimed = (
        await session.scalars(
            update(Message)
            .where(Message.id.in_(due), Message.released_at.is_(None))
            .values(released_at=now)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    if not claimed:
        return 0
    messages = (
        await session.scalars(select(Message).where(Message.id.in_(claimed)).order_by(Message.id))
    ).all()
    convs = {
        c.id: c
        for c in await session.scalars(
            select(Conversation).where(Conversation.id.in_({m.conversation_id for m in messages}))
        )
    }
    users = await users_by_id(
        session, {u for c in convs.values() for u in (c.guardian_id, c.staff_id) if u is not None}
    )
    media = await media_of(session, list(claimed))
    busy = translating(services)
    for conv_id in sorted(convs):
        await session.execute(
            update(Conversation).where(Conversation.id == conv_id).values(last_message_at=now)
        )
    for message in messages:
        conv = convs[message.conversation_id]
        sender = users.get(message.sender_id) if message.sender_id else None
        attached = media.get(message.id, ())
        staff = users.get(conv.staff_id) if conv.staff_id else None
        if staff is not None:
            shaped = shapes.message(message, sender, staff.language, translating=busy, media=attached)
            emit(session, user_channel(staff.id), "message.created", {"message": shaped})
        if sender is not None:
            shaped = shapes.message(message, sender, sender.language, translating=busy, media=attached)
            emit(session, user_channel(sender.id), "message.released", {"message": shaped})
        if message.topic is not None:
            emit(
                session, school_staff_channel(conv.school_id), "office.message", shapes.office_notice(message)
            )
    return len(claimed)


async def announce_ready_message(session: AsyncSession, services: Services, message_id: int) -> None:
    """Deliver a message whose recordings are all ready now (one held for quiet hours stays held)."""
    message = await session.get(Message, message_id, populate_existing=True)
    if message is None or (message.delivery == HELD and message.released_at is None):
        return  # the quiet-hours release delivers it when the working day begins
    conv = await session.get(Conversation, message.conversation_id)
    if conv is None:
        return
    users = await users_by_id(
        session, {u for u in (conv.guardian_id, conv.staff_id, message.sender_id) if u is not None}
    )
    sender = users.get(message.sender_id) if message.sender_id else None
    recipient_id = conv.staff_id if message.sender_id == conv.guardian_id else conv.guardian_id
    recipient = users.get(recipient_id) if recipient_id else None
    now = services.clock()
    await session.execute(update(Conversation).where(Conversation.id == conv.id).values(last_message_at=now))
    attached = (await media_of(session, [message.id])).get(message.id, ())
    busy = translating(services)
    if recipient is not None:
        shaped = shapes.message(message, sender, recipient.language, translating=busy, media=attached)
        emit(session, user_channel(recipient.id), "message.created", {"message": shaped})
    if message.topic is not None:
        emit(session, school_staff_channel(conv.school_id), "office.message", shapes.office_notice(message))
