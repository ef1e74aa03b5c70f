"""The daily digest: one email at 18:00 school time to each reader who chose ``daily``.

A periodic job (every few minutes, one process per tick): for each school whose local
time is past 18:00, every reader with ``email: "daily"`` not yet sent today's digest gets
one email of the day's posts from their children's classes and the school story, the
points of their own children (never anyone else's: P20), and how many messages came.
Only what :mod:`server.school.access` lets them see goes in, asked at sending time. A day
with nothing to tell sends nothing. Post texts are in the reader's language when a stored
translation is ready, else the original. ``digest_sent_on`` (the school-local date) makes
each day's digest go once, even across processes and restarts.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.models import (
    Award,
    Conversation,
    Message,
    NotificationPreference,
    Post,
    School,
    SchoolClass,
    User,
)
from server.language import stored
from server.messaging.office_routing import primary_language
from server.notify.emails import digest_email
from server.notify.links import public_base
from server.notify.mail import compose, mailer_of, unsubscribe_url
from server.school.access import children_of, names_for_classes, visible_class_ids
from server.services import Services

log = logging.getLogger("homeroom.notify")

DIGEST_AT = time(18, 0)
MAX_POSTS = 20


def due_day(zone: ZoneInfo, now: datetime) -> tuple[str, datetime] | None:
    """The school-local date whose digest is due at ``now``, and that day's start (UTC), or None."""
    local = now.astimezone(zone)
    if local.time() < DIGEST_AT:
        return None
    start = datetime.combine(local.date(), time(0), tzinfo=zone)
    return local.date().isoformat(), start


async def send_digests(services: Services) -> int:
    """The job: send every digest due now; returns how many were sent."""
    mailer = mailer_of(services)
    base = public_base(services.settings)
    if mailer is None or not mailer.configured or base is None:
        return 0
    now = services.clock()
    sent = 0
    async with services.read() as session:
        readers = list(
            (
                await session.execute(
                    select(User, NotificationPreference, School)
                    .join(NotificationPreference, NotificationPreference.user_id == User.id)
                    .join(School, School.id == User.school_id)
                    .where(
                        NotificationPreference.email == "daily",
                        User.role != "student",
                        User.suspended_at.is_(None),
                    )
                )
            ).all()
        )
    for user, preference, school in readers:
        due = due_day(ZoneInfo(school.timezone), now)
        if due is None or preference.digest_sent_on == due[0] or not user.email:
            continue
        async with services.read() as session:
            email = await _compose(session, user, school, due[1], now, base, services.settings.secret_key)
        if email is not None:
            email_message = compose(
                services.settings.mail_from,
                user.email,
                *email,
                language=user.language,
                unsubscribe=unsubscribe_url(base, services.settings.secret_key, user.id),
            )
            if not await mailer.send(email_message):
                continue
            sent += 1
        async with services.transaction() as session:
            found = await session.get(NotificationPreference, user.id)
            if found is not None:
                found.digest_sent_on = due[0]
    return sent


async def _compose(
    session: AsyncSession, user: User, school: School, start: datetime, end: datetime, base: str, secret: str
) -> tuple[str, str] | None:
    principal = Principal(
        user=user, session_id=0, token="", via="email", policy_version=school.policy_version
    )
    if principal.needs_policy:
        return None
    classes = await visible_class_ids(session, principal) if user.role == "parent" else set()
    posts = list(
        (
            await session.scalars(
                select(Post)
                .where(
                    Post.school_id == school.id,
                    Post.awaiting_media.is_(False),
                    Post.created_at >= start,
                    Post.created_at <= end,
                    or_(Post.scope == "school", Post.class_id.in_(classes)),
                )
                .order_by(Post.id)
                .limit(MAX_POSTS)
            )
        ).all()
    )
    class_names: dict[int, str] = {}
    if classes:
        rows = await session.execute(
            select(SchoolClass.id, SchoolClass.name).where(SchoolClass.id.in_(classes))
        )
        class_names = {class_id: name for class_id, name in rows.all()}
    post_lines: list[tuple[str, str]] = []
    for post in posts:
        body = post.text
        if primary_language(post.lang) != primary_language(user.language):
            cached = await stored.lookup(session, post.text, post.lang, user.language)
            body = cached.text if cached else post.text
        place = class_names.get(post.class_id or 0, school.name) if post.scope == "class" else school.name
        post_lines.append((place, " ".join(body.split())))
    points: list[tuple[str, int]] = []
    if user.role == "parent":
        children = await children_of(session, user.id)
        names = await names_for_classes(session, {c.class_id for c in children})
        for child in children:
            count = await session.scalar(
                select(func.count()).where(
                    Award.student_id == child.id, Award.created_at >= start, Award.created_at <= end
                )
            )
            if count:
                points.append((names[child.id], int(count)))
    messages = int(
        await session.scalar(
            select(func.count())
            .select_from(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                or_(Conversation.guardian_id == user.id, Conversation.staff_id == user.id),
                Message.sender_id != user.id,
                Message.created_at >= start,
                Message.created_at <= end,
                or_(Message.delivery == "live", Message.released_at.is_not(None)),
            )
        )
        or 0
    )
    if not post_lines and not points and not messages:
        return None
    return digest_email(
        user.language,
        school.name,
        post_lines,
        points,
        messages,
        f"{base}/",
        unsubscribe_url(base, secret, user.id),
    )
