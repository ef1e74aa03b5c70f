"""What a notification says, in its reader's interface language (API.md "Notifications").

``{"type", "title", "body", "url", "tag"}``: the interface's words come from
:mod:`server.language.interface`; a post's or message's own text is given in the reader's
language when its stored translation is ready, else in the original (the worker waits a
short while for it first, see :func:`needs_translation`). With ``minimal`` content no
user-written text is sent at all, only what happened and where ("New post in Year 4 Oak").
Pupils are named only as :func:`server.school.access.display_name` names them (P11), and
only to readers :func:`server.notify.audience.may_know` allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import NotificationEvent, SchoolClass, Student, User
from server.events import class_channel
from server.language import stored
from server.language.interface import N_, plural, text
from server.language.locale import format_date, format_time
from server.messaging.office_routing import primary_language
from server.notify.fanout import school_of
from server.notify.kinds import channel_family, channel_id
from server.school.access import display_name

MAX_BODY = 240


@dataclass(frozen=True)
class Written:
    """User-written text of an event: the text and its language."""

    text: str
    lang: str


def written(event: NotificationEvent) -> Written | None:
    """The user-written text an event carries (a post's or a message's), if any."""
    holder = event.data.get("post") or event.data.get("message") or event.data.get("event") or {}
    if holder.get("system"):
        return None
    original = holder.get("original") or {}
    body, lang = original.get("text", original.get("title")), original.get("lang")
    if isinstance(body, str) and body and isinstance(lang, str):
        return Written(body, lang)
    return None


def needs_translation(reader: User, found: Written | None) -> bool:
    """Whether the reader reads another language than the text was written in."""
    return found is not None and primary_language(found.lang) != primary_language(reader.language)


async def in_reader_language(session: AsyncSession, reader: User, found: Written) -> str | None:
    """The text in the reader's language: itself, its stored translation, or None (not ready)."""
    if not needs_translation(reader, found):
        return found.text
    cached = await stored.lookup(session, found.text, found.lang, reader.language)
    return cached.text if cached else None


def _short(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= MAX_BODY else value[: MAX_BODY - 1] + "…"


async def _place(session: AsyncSession, lang: str, channel: str, school_name: str) -> str:
    if channel_family(channel) == "class":
        found = await session.get(SchoolClass, channel_id(channel))
        return found.name if found else school_name
    return school_name


async def _pupil(session: AsyncSession, student_id: int) -> Student | None:
    return await session.get(Student, student_id)


_EVENT_TITLES = {
    "event.created": N_("New event in {place}"),
    "event.updated": N_("Event changed in {place}"),
    "event.cancelled": N_("Event cancelled in {place}"),
    "event.reminder": N_("Reminder from {place}"),
    "event.nudge": N_("Please reply: {place}"),
}


async def _event_notice(
    session: AsyncSession, lang: str, event: NotificationEvent, school_name: str, title_text: str
) -> dict[str, Any]:
    """A school event's notification: what happened and where; its title (translated) and when."""
    item = event.data.get("event") or {}
    place = school_name
    if item.get("scope") == "class" and isinstance(item.get("class_id"), int):
        place = await _place(session, lang, class_channel(item["class_id"]), school_name)
    when = event.data.get("occurrence_at") or item.get("starts_at")
    school = await school_of(session, event.channel)
    moment = datetime.fromisoformat(when) if isinstance(when, str) else None
    if moment is not None and school is not None:
        formatted = format_date(moment, lang, school.timezone)
        if not item.get("all_day"):
            formatted += f" · {format_time(moment, lang, school.timezone)}"
        body = f"{title_text} · {formatted}" if title_text else formatted
    else:
        body = title_text
    return {
        "type": event.type,
        "title": text(lang, _EVENT_TITLES[event.type], place=place),
        "body": body,
        "url": f"/#/calendar/{item.get('id')}",
        "tag": f"event-{item.get('id')}",
    }


async def render(
    session: AsyncSession,
    reader: User,
    event: NotificationEvent,
    *,
    school_name: str,
    count: int = 1,
    summary: bool = False,
    minimal: bool = False,
    translated: str | None = None,
) -> dict[str, Any]:
    """The payload for one reader; ``translated`` is the user-written text to show, if any."""
    lang = reader.language
    body_text = "" if minimal or translated is None else _short(translated)
    if summary:
        return {
            "type": "summary",
            "title": text(lang, "Homeroom"),
            "body": plural(
                lang,
                "{n} new notification arrived outside your working hours.",
                "{n} new notifications arrived outside your working hours.",
                count,
            ),
            "url": "/#/",
            "tag": "summary",
        }
    family, type_ = channel_family(event.channel), event.type
    if type_ == "post.created":
        post = event.data.get("post") or {}
        place = await _place(session, lang, event.channel, school_name)
        return {
            "type": type_,
            "title": text(lang, "New post in {place}", place=place),
            "body": body_text,
            "url": "/#/feed",
            "tag": f"post-{post.get('id')}",
        }
    if type_ == "message.created":
        message = event.data.get("message") or {}
        conversation = message.get("conversation_id")
        if message.get("system"):
            title = text(lang, "A notice from the school")
            body_text = _short(str(message.get("text") or ""))
        else:
            sender = (message.get("sender") or {}).get("name") or text(lang, "deleted user")
            title = text(lang, "New message from {name}", name=sender)
            if minimal:
                body_text = text(lang, "Open Homeroom to read it.")
        return {
            "type": type_,
            "title": title,
            "body": body_text,
            "url": f"/#/messages/{conversation}",
            "tag": f"conversation-{conversation}",
        }
    if family == "student":
        student_id = channel_id(event.channel)
        pupil = await _pupil(session, student_id)
        name = await display_name(session, pupil) if pupil else text(lang, "your child")
        if type_ == "points.awarded":
            return {
                "type": type_,
                "title": text(lang, "Points for {name}", name=name),
                "body": plural(
                    lang,
                    "{name} received {n} new award.",
                    "{name} received {n} new awards.",
                    count,
                    name=name,
                ),
                "url": f"/#/child/{student_id}/points",
                "tag": f"points-{student_id}",
            }
        return {
            "type": type_,
            "title": text(lang, "New work in {name}'s portfolio", name=name),
            "body": "",
            "url": f"/#/child/{student_id}/portfolio",
            "tag": f"portfolio-{student_id}",
        }
    if type_.startswith("event."):
        return await _event_notice(session, lang, event, school_name, body_text)
    if type_ == "absence.acknowledged":
        absence = event.data.get("absence") or {}
        return {
            "type": type_,
            "title": text(lang, "The school office has seen your absence report"),
            "body": str((absence.get("student") or {}).get("name") or ""),
            "url": "/#/absences",
            "tag": f"absence-{absence.get('id')}",
        }
    if type_ == "report.created":
        return {
            "type": type_,
            "title": text(lang, "A message was reported"),
            "body": text(lang, "It is waiting in the reports queue."),
            "url": "/#/reports",
            "tag": "reports",
        }
    return {
        "type": type_,
        "title": text(lang, "A guardian request is waiting"),
        "body": text(lang, "Someone asked to be linked to a pupil."),
        "url": "/#/requests",
        "tag": "guardian-requests",
    }
