"""How conversations, messages, reports and office items look to the people who read them.

One function per shape, used by the REST replies and the live events alike, so a
message pushed over ``/ws`` is exactly the message ``GET`` returns (API.md:
``{id, conversation_id, sender, text, lang, original, translation, created_at,
read_at, delivery, system}``, plus ``held_until``, ``released_at``, ``office_topic``
and ``media``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.db.models import Conversation, Media, Message, Report, User
from server.messaging.office_routing import primary_language
from server.timeutil import iso

SYSTEM_SENDER: dict[str, Any] = {"id": None, "name": "Homeroom", "role": "system"}


def user_ref(user: User | None) -> dict[str, Any]:
    """``{id, name, role}``; an erased account shows as "deleted user"."""
    if user is None:
        return {"id": None, "name": "deleted user", "role": None}
    return {"id": user.id, "name": user.name, "role": user.role}


def translation(source: str, reader: str, translating: bool) -> dict[str, Any]:
    """The translation state of a text in ``source`` for a reader of ``reader``."""
    if primary_language(source) == primary_language(reader):
        return {"status": "not_needed"}
    return {"status": "pending" if translating else "unavailable"}


def media_ref(found: Media) -> dict[str, Any]:
    """An attachment as posts show theirs: a private URL carrying the file's secret key.

    A voice note or video carries its state (processing, ready, failed), duration, poster
    and caption, as in posts, so the conversation shows "being prepared" or the player.
    """
    if found.kind in ("video", "audio"):
        from server.media.uploads import media_shape  # here: server.media imports messaging

        return media_shape(found)
    url = f"/api/media/{found.id}?k={found.key}"
    shape: dict[str, Any] = {"id": found.id, "kind": found.kind, "url": url}
    if found.kind == "image":
        shape.update(display_url=f"{url}&size=display", width=found.width, height=found.height)
    else:
        shape.update(name=found.display_name or found.file_name, size=found.size)
    return shape


def message(
    found: Message,
    sender: User | None,
    reader_language: str,
    *,
    translating: bool = False,
    media: Sequence[Media] = (),
) -> dict[str, Any]:
    """A message as one reader sees it (text in the original until a translation is ready)."""
    return {
        "id": found.id,
        "conversation_id": found.conversation_id,
        "sender": SYSTEM_SENDER if found.system else user_ref(sender),
        "text": found.text,
        "lang": found.lang,
        "original": {"text": found.text, "lang": found.lang},
        "translation": translation(found.lang, reader_language, translating),
        "created_at": iso(found.created_at),
        "read_at": iso(found.read_at),
        "delivery": found.delivery,
        "held_until": iso(found.held_until),
        "released_at": iso(found.released_at),
        "system": found.system,
        "office_topic": None if found.system else found.topic,
        # The office notice about an absence offers the absence form (``POST /api/absences``).
        "offer": "absence_report" if found.system and found.topic == "office:absence" else None,
        "office_done_at": iso(found.office_done_at),
        "media": [media_ref(m) for m in media],
    }


def conversation(
    found: Conversation,
    *,
    student_name: str | None,
    guardian: User | None,
    staff: User | None,
    last_message: dict[str, Any] | None,
    unread_count: int,
) -> dict[str, Any]:
    """A conversation in a member's list."""
    return {
        "id": found.id,
        "student": None if found.student_id is None else {"id": found.student_id, "name": student_name},
        "guardian": user_ref(guardian),
        "staff": user_ref(staff),
        "created_at": iso(found.created_at),
        "last_message_at": iso(found.last_message_at),
        "last_message": last_message,
        "unread_count": unread_count,
    }


def report(
    found: Report,
    *,
    reporter: User | None,
    resolver: User | None,
    reported: dict[str, Any] | None,
    conversation: dict[str, Any] | None,
) -> dict[str, Any]:
    """A report in the admins' queue, with the reported message and its conversation."""
    return {
        "id": found.id,
        "status": found.status,
        "reason": found.reason,
        "resolution": found.resolution,
        "reporter": user_ref(reporter),
        "resolved_by": user_ref(resolver) if found.resolved_by is not None else None,
        "created_at": iso(found.created_at),
        "resolved_at": iso(found.resolved_at),
        "message": reported,
        "conversation": conversation,
    }


def report_notice(found: Report) -> dict[str, Any]:
    """What every member of staff's ``school:{id}:staff`` stream carries: no private text."""
    return {"report": {"id": found.id, "status": found.status, "created_at": iso(found.created_at)}}


def office_notice(found: Message) -> dict[str, Any]:
    """The live office copy on ``school:{id}:staff``: which message and topic, never its text.

    Every member of staff hears that channel; the office reads the message itself
    through ``GET /api/office/messages``.
    """
    return {
        "message": {
            "id": found.id,
            "conversation_id": found.conversation_id,
            "topic": found.topic,
            "created_at": iso(found.created_at),
        }
    }
