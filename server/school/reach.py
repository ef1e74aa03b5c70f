"""Reach for leaders: per class, how many families are linked, who has not joined, whose
language is not translated, and how many families have been in since each post.

Counted without tracking anyone further: Homeroom records no views of posts. "Seen" is
how many of the class's linked families have signed-in devices active since the post
went up (the session's last activity, which the server keeps anyway to expire sessions),
so it is an upper bound on who can have read it, and never names anyone. Pupils and
families appear by the names staff already see: pupils' display names (P11) and the
guardian names the school gave in its roster.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.db.models import (
    GuardianContact,
    GuardianLink,
    Like,
    Post,
    School,
    SchoolClass,
    Session,
    Student,
    User,
)
from server.language.interface import text
from server.school.access import names_for_classes
from server.school.onboarding import GUARDIAN_LIMIT
from server.timeutil import iso

POSTS_PER_CLASS = 5


async def reach(session: AsyncSession, principal: Principal, translatable: Collection[str]) -> dict[str, Any]:
    """The school's reach, class by class (admins)."""
    require_role(principal, "admin")
    school = await session.get(School, principal.school_id)
    assert school is not None
    classes = list(
        (
            await session.scalars(
                select(SchoolClass)
                .where(SchoolClass.school_id == school.id, SchoolClass.archived_at.is_(None))
                .order_by(SchoolClass.position, SchoolClass.id)
            )
        ).all()
    )
    class_ids = [c.id for c in classes]
    pupils = list(
        (
            await session.scalars(
                select(Student)
                .where(Student.class_id.in_(class_ids), Student.left_at.is_(None))
                .order_by(Student.first_name, Student.last_name)
            )
        ).all()
    )
    names = await names_for_classes(session, class_ids)
    pupil_ids = [p.id for p in pupils]
    links: dict[int, list[tuple[int, str | None, str]]] = {}
    for student_id, user_id, email, language in await session.execute(
        select(GuardianLink.student_id, User.id, User.email, User.language)
        .join(User, User.id == GuardianLink.guardian_id)
        .where(GuardianLink.student_id.in_(pupil_ids))
    ):
        links.setdefault(student_id, []).append((user_id, (email or "").casefold() or None, language))
    contacts: dict[int, list[GuardianContact]] = {}
    for contact in await session.scalars(
        select(GuardianContact)
        .where(GuardianContact.student_id.in_(pupil_ids))
        .order_by(GuardianContact.slot)
    ):
        contacts.setdefault(contact.student_id, []).append(contact)
    rows = []
    for school_class in classes:
        mine = [p for p in pupils if p.class_id == school_class.id]
        rows.append(
            await _class_reach(session, school, school_class, mine, names, links, contacts, set(translatable))
        )
    return {"school": {"id": school.id, "name": school.name, "language": school.language}, "classes": rows}


async def _class_reach(
    session: AsyncSession,
    school: School,
    school_class: SchoolClass,
    pupils: list[Student],
    names: dict[int, str],
    links: dict[int, list[tuple[int, str | None, str]]],
    contacts: dict[int, list[GuardianContact]],
    translatable: set[str],
) -> dict[str, Any]:
    counts = {"0": 0, "1": 0, "2": 0}
    not_joined = []
    languages: dict[str, int] = {}
    families: set[int] = set()
    for pupil in pupils:
        linked = links.get(pupil.id, [])
        families.update(user_id for user_id, _, _ in linked)
        counts[str(min(len(linked), GUARDIAN_LIMIT))] += 1
        joined_emails = {email for _, email, _ in linked if email}
        waiting = [
            c for c in contacts.get(pupil.id, []) if not c.email or c.email.casefold() not in joined_emails
        ]
        for _, _, language in linked:
            languages[language] = languages.get(language, 0) + 1
        for contact in waiting[: max(GUARDIAN_LIMIT - len(linked), 0)]:
            if contact.language:
                languages[contact.language] = languages.get(contact.language, 0) + 1
        if len(linked) < GUARDIAN_LIMIT:
            not_joined.append(
                {
                    "student": {"id": pupil.id, "name": names.get(pupil.id, pupil.first_name)},
                    "linked": len(linked),
                    "waiting": [{"name": c.name, "language": c.language} for c in waiting],
                }
            )
    untranslated = sorted(
        lang
        for lang in languages
        if lang.split("-")[0] != school.language.split("-")[0] and lang not in translatable
    )
    return {
        "id": school_class.id,
        "name": school_class.name,
        "pupils": len(pupils),
        "guardians": counts,
        "not_joined": not_joined,
        "languages": dict(sorted(languages.items())),
        "languages_not_translated": untranslated,
        "posts": await _posts(session, school_class.id, families),
    }


async def _posts(session: AsyncSession, class_id: int, families: set[int]) -> list[dict[str, Any]]:
    posts = list(
        (
            await session.scalars(
                select(Post)
                .where(Post.scope == "class", Post.class_id == class_id, Post.awaiting_media.is_(False))
                .order_by(Post.id.desc())
                .limit(POSTS_PER_CLASS)
            )
        ).all()
    )
    shaped = []
    for post in posts:
        seen = 0
        likes = 0
        if families:
            seen = int(
                await session.scalar(
                    select(func.count(func.distinct(Session.user_id))).where(
                        Session.user_id.in_(families), Session.last_seen_at >= post.created_at
                    )
                )
                or 0
            )
            likes = int(
                await session.scalar(
                    select(func.count()).where(Like.post_id == post.id, Like.user_id.in_(families))
                )
                or 0
            )
        written = post.text  # (not indexed inline: the catalog extractor reads "text[" as a call)
        shaped.append(
            {
                "id": post.id,
                "excerpt": written[:80],
                "created_at": iso(post.created_at),
                "families": len(families),
                "seen": seen,
                "likes": likes,
            }
        )
    return shaped


def reach_csv(report: dict[str, Any], language: str) -> str:
    """One row per class, for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            text(language, "Class"),
            text(language, "Pupils"),
            text(language, "No guardian linked"),
            text(language, "One guardian linked"),
            text(language, "Two guardians linked"),
            text(language, "Not joined yet"),
            text(language, "Languages not translated"),
        ]
    )
    for row in report["classes"]:
        writer.writerow(
            [
                row["name"],
                row["pupils"],
                row["guardians"]["0"],
                row["guardians"]["1"],
                row["guardians"]["2"],
                "; ".join(item["student"]["name"] for item in row["not_joined"]),
                " ".join(row["languages_not_translated"]),
            ]
        )
    return out.getvalue()
