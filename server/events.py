"""Every live event type, declared once with its payload schema, and ``emit()``.

Domain code calls :func:`emit` inside its transaction: the event is written to the
``outbox_events`` table with the change it announces (a transactional outbox), and
:meth:`server.services.Services.transaction` hands it to the broker right after the
commit. A relay republishes whatever is left unpublished (broker down), so no
committed change is ever silently missing from the live stream.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from server.channels.protocol import Channel
from server.db.models import NotificationEvent, OutboxEvent
from server.notify.kinds import kind_of

# Channel names (API.md "Channels"), built only here through the protocol's ``Channel``.


def school_channel(school_id: int) -> str:
    """Everyone in the school."""
    return Channel("school", school_id).name


def school_staff_channel(school_id: int) -> str:
    """The school's staff."""
    return Channel("school", school_id, staff=True).name


def class_channel(class_id: int) -> str:
    """The class's families, pupils and staff."""
    return Channel("class", class_id).name


def class_staff_channel(class_id: int) -> str:
    """The class's staff."""
    return Channel("class", class_id, staff=True).name


def student_channel(student_id: int) -> str:
    """One pupil's own things (points, portfolio), for the pupil, their family and staff."""
    return Channel("student", student_id).name


def user_channel(user_id: int) -> str:
    """One user's private channel."""
    return Channel("user", user_id).name


class _Payload(BaseModel):
    """An event's data: declared keys only, so a misspelt or stray key fails at ``emit``, not in a client."""

    model_config = ConfigDict(extra="forbid")


class Audience(_Payload):
    """Who among a channel's readers receives the event (``server/channels/render.py``); never sent on."""

    language: str | None = None
    staff: bool | None = None


class _Translated(_Payload):
    """A translation delivered to the readers of one language (``audience``), with the engine that made it."""

    lang: str
    text: str
    engine: str | None = None
    audience: Audience | None = None


class PostPayload(_Payload):
    post: dict[str, Any]


class PostIdPayload(_Payload):
    post_id: int


class PostTranslatedPayload(_Translated):
    post_id: int


class MessageTranslatedPayload(_Translated):
    message_id: int
    conversation_id: int


class PortfolioTranslatedPayload(_Translated):
    item_id: int
    student_id: int


class ActivityTranslatedPayload(_Translated):
    activity_id: int
    class_id: int
    field: Literal["title", "instructions"]


class LikePayload(_Payload):
    post_id: int
    like_count: int
    user: dict[str, Any] | None = None  # on the staff channel: who liked it


class AwardPayload(_Payload):
    award: dict[str, Any]
    total: int


class MessagePayload(_Payload):
    message: dict[str, Any]


class MessageReadPayload(_Payload):
    conversation_id: int
    message_id: int
    reader_id: int


class ItemPayload(_Payload):
    item: dict[str, Any]


class UserPayload(_Payload):
    user: dict[str, Any]


class ActivityPayload(_Payload):
    activity: dict[str, Any]


class ActivityIdPayload(_Payload):
    activity_id: int


class AvatarPayload(_Payload):
    student_id: int
    avatar: dict[str, str]


class MediaPayload(_Payload):
    media: dict[str, Any]


class MediaFailedPayload(_Payload):
    media: dict[str, Any]
    reason: str


class ReportPayload(_Payload):
    report: dict[str, Any]


class GuardianRequestPayload(_Payload):
    request_id: int
    student_id: int


class OfficeDonePayload(_Payload):
    message_id: int
    conversation_id: int
    done_at: str
    done_by: dict[str, Any]


class SchoolEventPayload(_Payload):
    event: dict[str, Any]


class EventTranslatedPayload(_Translated):
    event_id: int
    field: Literal["title", "details"]


class EventAnsweredPayload(_Payload):
    response: dict[str, Any]


class EventNoticePayload(_Payload):
    """A reminder or a nudge to one reader: the event, and the occurrence it is about."""

    event: dict[str, Any]
    occurrence_at: str
    student_ids: list[int] | None = None


class AbsencePayload(_Payload):
    absence: dict[str, Any]


class AbsenceTranslatedPayload(_Translated):
    absence_id: int


EVENT_SCHEMAS: dict[str, type[BaseModel]] = {
    "post.created": PostPayload,
    "post.updated": PostPayload,
    "post.deleted": PostIdPayload,
    "post.translated": PostTranslatedPayload,
    "post.liked": LikePayload,
    "post.unliked": LikePayload,
    "points.awarded": AwardPayload,
    "points.removed": AwardPayload,
    "message.created": MessagePayload,
    "message.read": MessageReadPayload,
    # To the sender's devices when a message held for quiet hours reaches the member of staff.
    "message.released": MessagePayload,
    "message.translated": MessageTranslatedPayload,
    "portfolio.submitted": ItemPayload,
    "portfolio.approved": ItemPayload,
    "portfolio.returned": ItemPayload,
    "portfolio.translated": PortfolioTranslatedPayload,
    "activity.created": ActivityPayload,
    "activity.updated": ActivityPayload,
    "activity.deleted": ActivityIdPayload,
    "activity.translated": ActivityTranslatedPayload,
    "presence.joined": UserPayload,
    "presence.left": UserPayload,
    "report.created": ReportPayload,
    "guardian_request.created": GuardianRequestPayload,
    "office.message": MessagePayload,
    # On ``school:{id}:staff`` and to the class teacher's ``user:{id}``: the office has dealt with it.
    "office.done": OfficeDonePayload,
    "avatar.updated": AvatarPayload,
    # To the uploader (``user:{id}``) while a video or audio recording is processed.
    "media.processing": MediaPayload,
    "media.ready": MediaPayload,
    "media.failed": MediaFailedPayload,
    # School events (server/calendar) on ``class:{id}`` or ``school:{id}``.
    "event.created": SchoolEventPayload,
    "event.updated": SchoolEventPayload,
    "event.cancelled": SchoolEventPayload,
    "event.translated": EventTranslatedPayload,
    # A guardian's RSVP or consent answer, on the pupil's ``class:{id}:staff``.
    "event.answered": EventAnsweredPayload,
    # To one reader's ``user:{id}``: a reminder of an occurrence, or staff asking for a reply.
    "event.reminder": EventNoticePayload,
    "event.nudge": EventNoticePayload,
    # Absence reports, for the office on ``school:{id}:staff``; the acknowledgement also to the reporter.
    "absence.reported": AbsencePayload,
    "absence.acknowledged": AbsencePayload,
    "absence.translated": AbsenceTranslatedPayload,
}


class UnknownEvent(ValueError):
    """An event type that is not declared in :data:`EVENT_SCHEMAS`."""


def validate_event(type_: str, data: dict[str, Any]) -> None:
    """Raise if ``data`` does not match the declared schema of ``type_``."""
    schema = EVENT_SCHEMAS.get(type_)
    if schema is None:
        raise UnknownEvent(type_)
    schema.model_validate(data)


def emit(session: AsyncSession, channel: str, type_: str, data: dict[str, Any]) -> OutboxEvent:
    """Queue a live event in the current transaction; it is published after commit.

    An event that may notify people when their page is closed (``server.notify.kinds``)
    is also written to the notification outbox, in the same transaction.
    """
    validate_event(type_, data)
    row = OutboxEvent(channel=channel, type=type_, data=data)
    session.add(row)
    if kind_of(channel, type_) is not None:
        session.add(NotificationEvent(channel=channel, type=type_, data=data))
        session.info["notify"] = True
    session.info.setdefault("outbox", []).append(row)
    return row
