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

from server.db.models import NotificationEvent, OutboxEvent
from server.notify.kinds import kind_of


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow")


class PostPayload(_Payload):
    post: dict[str, Any]


class PostIdPayload(_Payload):
    post_id: int


class PostTranslatedPayload(_Payload):
    post_id: int
    lang: str
    text: str


class MessageTranslatedPayload(_Payload):
    message_id: int
    conversation_id: int
    lang: str
    text: str


class PortfolioTranslatedPayload(_Payload):
    item_id: int
    student_id: int
    lang: str
    text: str


class ActivityTranslatedPayload(_Payload):
    activity_id: int
    class_id: int
    field: Literal["title", "instructions"]
    lang: str
    text: str


class LikePayload(_Payload):
    post_id: int
    like_count: int


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


class AnyPayload(_Payload):
    pass


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
    "report.created": AnyPayload,
    "guardian_request.created": AnyPayload,
    "office.message": MessagePayload,
    "avatar.updated": AvatarPayload,
    "access.changed": AnyPayload,
    # To the uploader (``user:{id}``) while a video or audio recording is processed.
    "media.processing": MediaPayload,
    "media.ready": MediaPayload,
    "media.failed": MediaFailedPayload,
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
