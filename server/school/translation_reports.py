"""Readers' reports of bad translations, and the admins' list of them.

A reader who may read a post or message reports its translation into one language
(``POST /api/translations/report``); the report keeps both versions as they were
at that moment, since a cached translation can later be forgotten or replaced.
Reporting again updates the reader's earlier report. Admins list the school's
reports, newest first (``GET /api/translations/reports``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.db.models import Conversation, Message, Post, TranslationReport, User
from server.errors import not_found
from server.language import stored as cache
from server.language.interface import N_
from server.messaging.shapes import user_ref
from server.stories.posts import get_post
from server.timeutil import iso

KINDS = ("post", "message")
OFFICE_READERS = ("office", "admin")


async def _message_for(session: AsyncSession, principal: Principal, message_id: int) -> Message:
    """A message the user reads: a member of its conversation, or the office for routed ones."""
    found = await session.get(Message, message_id)
    conversation = await session.get(Conversation, found.conversation_id) if found is not None else None
    if found is None or found.system or conversation is None or conversation.school_id != principal.school_id:
        raise not_found(N_("That message"))
    member = principal.id in (conversation.guardian_id, conversation.staff_id)
    office = principal.role in OFFICE_READERS and found.topic is not None
    if not (member or office):
        raise not_found(N_("That message"))
    return found


async def report_translation(
    session: AsyncSession, principal: Principal, kind: str, item_id: int, lang: str, reason: str
) -> tuple[TranslationReport, bool]:
    """Record a reader's report of one translation; (the report, whether it is new)."""
    if kind == "post":
        item: Post | Message = await get_post(session, principal, item_id)
    else:
        item = await _message_for(session, principal, item_id)
    translated = await cache.lookup(session, item.text, item.lang, lang)
    if translated is None:
        raise not_found(N_("That translation"))
    found = await session.scalar(
        select(TranslationReport).where(
            TranslationReport.reporter_id == principal.id,
            TranslationReport.kind == kind,
            TranslationReport.item_id == item_id,
            TranslationReport.lang == lang,
        )
    )
    created = found is None
    if found is None:
        found = TranslationReport(
            school_id=principal.school_id, reporter_id=principal.id, kind=kind, item_id=item_id, lang=lang
        )
        session.add(found)
    found.source = item.lang
    found.original_text = item.text
    found.translated_text = translated.text
    found.engine = translated.engine
    found.reason = reason
    await session.flush()
    return found, created


def report_shape(found: TranslationReport, reporter: User | None) -> dict[str, Any]:
    """A report as admins (and its reporter) see it: both versions side by side."""
    return {
        "id": found.id,
        "kind": found.kind,
        "item_id": found.item_id,
        "original": {"text": found.original_text, "lang": found.source},
        "translation": {"text": found.translated_text, "lang": found.lang, "engine": found.engine},
        "reason": found.reason,
        "reporter": user_ref(reporter),
        "created_at": iso(found.created_at),
    }


async def list_reports(
    session: AsyncSession, principal: Principal, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """The school's translation reports, newest first (admins)."""
    require_role(principal, "admin")
    query = select(TranslationReport).where(TranslationReport.school_id == principal.school_id)
    if before is not None:
        query = query.where(TranslationReport.id < before)
    rows = list((await session.scalars(query.order_by(TranslationReport.id.desc()).limit(limit))).all())
    ids = {r.reporter_id for r in rows if r.reporter_id is not None}
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [report_shape(r, users.get(r.reporter_id) if r.reporter_id else None) for r in rows]
