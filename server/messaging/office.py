"""The school office's side of office routing (P8).

The topic table in force (the built-in one of :mod:`server.messaging.office_routing`,
extended by ``<data_dir>/office_topics.json`` when the school has one), classifying
a guardian's message in the school's language through the translation hook, the
notice that points the guardian to the office, and the office inbox
(``GET /api/office/messages``) for office staff and admins.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.db.models import Conversation, Message, SchoolClass, Student
from server.language.interface import isolate, text
from server.messaging import shapes
from server.messaging.conversations import LIVE, media_of, users_by_id
from server.messaging.office_routing import DEFAULT_RULES, Match, Rules, classify, compile_rules, parse_extra
from server.messaging.office_routing import primary_language as primary
from server.school.access import names_for_classes
from server.services import Services
from server.timeutil import iso

log = logging.getLogger("homeroom.messaging")
# One notice per topic per conversation in this time: a parent writing three times about
# the same illness is told once.
OFFICE_NOTICE_EVERY = timedelta(hours=12)


def office_rules(services: Services) -> Rules:
    """The topic table, extended by ``<data_dir>/office_topics.json`` when the school has one.

    Read again whenever the file changes (no restart needed), else kept.
    """
    path = services.settings.data_dir / "office_topics.json"
    try:
        stat = path.stat()
    except OSError:
        return DEFAULT_RULES
    return _rules_from(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _rules_from(path: Path, mtime_ns: int, size: int) -> Rules:
    try:
        return compile_rules(parse_extra(json.loads(path.read_text(encoding="utf-8"))))
    except (OSError, ValueError) as exc:
        log.warning("ignoring %s: %s", path, exc)
        return DEFAULT_RULES


async def office_topic(services: Services, text: str, lang: str, school_language: str) -> Match | None:
    """The office topic of a message, classified in the school's language where possible."""
    rules = office_rules(services)
    translate = services.translation.translate_for_routing if services.translation is not None else None
    if translate is not None and primary(lang) != primary(school_language):
        try:
            translated = await translate(text, lang, school_language)
        except Exception:
            log.warning("translation for office routing failed; classifying the original", exc_info=True)
            translated = None
        if translated:
            found = classify(translated, school_language, rules)
            if found is not None:
                return found
    return classify(text, lang, rules)


async def office_told(session: AsyncSession, conversation_id: int, match: Match, now: datetime) -> bool:
    """True when this conversation had the same office notice recently."""
    found = await session.scalar(
        select(Message.id).where(
            Message.conversation_id == conversation_id,
            Message.system.is_(True),
            Message.topic == f"office:{match.topic.key}",
            Message.created_at > now - OFFICE_NOTICE_EVERY,
        )
    )
    return found is not None


def office_notice_text(label: str, office_phone: str, language: str | None = None) -> str:
    """The notice a guardian gets when their message on ``label`` is passed to the office,
    in ``language`` (the guardian's); the office's phone number is a placeholder."""
    topic = text(language, label)
    if office_phone:
        return text(
            language,
            "This looks like a message about {topic}. The school office deals with {topic}, so a copy "
            "has gone to the office too. For anything urgent, please call the school office on {phone}.",
            topic=topic,
            phone=isolate(office_phone, language),
        )
    return text(
        language,
        "This looks like a message about {topic}. The school office deals with {topic}, so a copy "
        "has gone to the office too. For anything urgent, please contact the school office.",
        topic=topic,
    )


async def office_inbox(
    session: AsyncSession,
    principal: Principal,
    before: int | None,
    limit: int,
    *,
    translating: bool,
    rules: Rules = DEFAULT_RULES,
) -> list[dict[str, Any]]:
    """Messages routed to the office (office staff and admins), newest first; ``before`` is a message id."""
    require_role(principal, "office", "admin")
    query = (
        select(Message, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.school_id == principal.school_id,
            Message.system.is_(False),
            Message.topic.is_not(None),
            or_(Message.delivery == LIVE, Message.released_at.is_not(None)),
        )
    )
    if before is not None:
        query = query.where(Message.id < before)
    rows = (await session.execute(query.order_by(Message.id.desc()).limit(limit))).all()
    convs = [conv for _, conv in rows]
    users = await users_by_id(
        session, {u for c in convs for u in (c.guardian_id, c.staff_id) if u is not None}
    )
    pupils = {
        p.id: p
        for p in await session.scalars(select(Student).where(Student.id.in_({c.student_id for c in convs})))
    }
    classes = {
        c.id: c
        for c in await session.scalars(
            select(SchoolClass).where(SchoolClass.id.in_({p.class_id for p in pupils.values()}))
        )
    }
    names = await names_for_classes(session, classes)
    media = await media_of(session, [m.id for m, _ in rows])
    labels = {topic.key: topic.label for topic in rules.topics}
    items = []
    for message, conv in rows:
        pupil = pupils.get(conv.student_id) if conv.student_id else None
        sender = users.get(message.sender_id) if message.sender_id else None
        school_class = classes.get(pupil.class_id) if pupil else None
        items.append(
            {
                "id": message.id,
                "topic": message.topic,
                "topic_label": labels.get(message.topic or "", message.topic),
                "conversation_id": conv.id,
                "student": None
                if pupil is None
                else {
                    "id": pupil.id,
                    "name": names.get(pupil.id),
                    "class_id": pupil.class_id,
                    "class_name": school_class.name if school_class else None,
                },
                "guardian": shapes.user_ref(users.get(conv.guardian_id) if conv.guardian_id else None),
                "staff": shapes.user_ref(users.get(conv.staff_id) if conv.staff_id else None),
                "message": shapes.message(
                    message,
                    sender,
                    principal.user.language,
                    translating=translating,
                    media=media.get(message.id, ()),
                ),
                "created_at": iso(message.created_at),
            }
        )
    return items
