"""Who may see an uploaded file: the one decision every path that serves or packages a file asks.

:func:`viewable_media_ids` is that decision. The download route (``GET /api/media``,
through :func:`find_viewable`), the export's links and its zip (:mod:`server.privacy.export`)
all call it, and the stories ask :func:`withheld_media_ids`, its P12 half, which files of
a post to leave out. A file is visible to nobody while it is withheld (P12): while any
post it is on tags a pupil who may not appear in photos (consent withdrawn, or in care
since), not even to its uploader, since whoever may fetch it may also keep a copy (P16).
It comes back when consent is given again. Otherwise a file is visible to its uploader,
and to readers of what links it:
- a post: the post's audience (the school for the school story; the class's
  pupils, their guardians and staff for a class story);
- a message: the conversation's two members, and admins once the message was reported;
- an activity: the class's members;
- a submission: the pupil, staff, and the pupil's guardians once it is approved.
Anything else is invisible, and the HTTP layer answers 404 for it.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.auth.principal import Principal
from server.db.models import (
    Activity,
    ActivityMedia,
    Conversation,
    Media,
    Message,
    MessageMedia,
    Post,
    PostMedia,
    PostStudent,
    Report,
    Student,
    Submission,
    SubmissionMedia,
)
from server.errors import not_found
from server.language.interface import N_
from server.messaging.conversations import visible_clause
from server.school.access import children_ids, shown_in_photos, visible_class_ids

CHUNK = 500  # ids per IN (...) list
# Any message of the conversation, as the one reported (the file's own message is ``Message``).
ReportedMessage = aliased(Message)


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    ordered = sorted(set(ids))
    return [ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)]


async def withheld_media_ids(session: AsyncSession, media_ids: Iterable[int]) -> set[int]:
    """The files among ``media_ids`` on a post that tags a pupil who may not appear in photos (P12)."""
    found: set[int] = set()
    for chunk in _chunks(media_ids):
        rows = await session.scalars(
            select(PostMedia.media_id)
            .join(PostStudent, PostStudent.post_id == PostMedia.post_id)
            .join(Student, Student.id == PostStudent.student_id)
            .where(PostMedia.media_id.in_(chunk), ~shown_in_photos())
        )
        found.update(rows.all())
    return found


async def viewable_media_ids(session: AsyncSession, principal: Principal, media: Sequence[Media]) -> set[int]:
    """The ids of the files in ``media`` this user may see or take away (the module docstring's rules)."""
    ours = [m for m in media if m.school_id == principal.school_id]
    withheld = await withheld_media_ids(session, [m.id for m in ours])
    shown = [m for m in ours if m.id not in withheld]
    allowed = {m.id for m in shown if m.uploader_id is not None and m.uploader_id == principal.id}
    for via in (_via_posts, _via_messages, _via_activities, _via_submissions):
        rest = [m.id for m in shown if m.id not in allowed]
        if not rest:
            break
        for chunk in _chunks(rest):
            allowed |= await via(session, principal, chunk)
    return allowed


async def can_view_media(session: AsyncSession, principal: Principal, media: Media) -> bool:
    """True when the user may see this file: :func:`viewable_media_ids` for one file."""
    return media.id in await viewable_media_ids(session, principal, [media])


async def _via_posts(session: AsyncSession, principal: Principal, media_ids: list[int]) -> set[int]:
    rows = await session.execute(
        select(PostMedia.media_id, Post.scope, Post.class_id)
        .join(Post, Post.id == PostMedia.post_id)
        .where(PostMedia.media_id.in_(media_ids), Post.school_id == principal.school_id)
    )
    places = list(rows.all())
    if principal.is_staff:
        return {media_id for media_id, _, _ in places}
    classes = await visible_class_ids(session, principal) if places else set()
    return {media_id for media_id, scope, class_id in places if scope == "school" or class_id in classes}


async def _via_messages(session: AsyncSession, principal: Principal, media_ids: list[int]) -> set[int]:
    """Files of messages the user may read, by the messaging rules themselves.

    The guardian sees every message of their conversations; the member of staff only
    those :func:`~server.messaging.conversations.visible_clause` shows them (not one held
    in quiet hours until it is released); an admin the messages of a conversation in which
    something was reported (P9, P19); pupils no message at all (P5).
    """
    if principal.role == "student":
        return set()
    reported = exists().where(
        Report.message_id == ReportedMessage.id, ReportedMessage.conversation_id == Conversation.id
    )
    member = (Conversation.guardian_id == principal.id) | (
        (Conversation.staff_id == principal.id) & visible_clause(False, principal.id)
    )
    if principal.is_admin:
        member = member | reported
    rows = await session.scalars(
        select(MessageMedia.media_id)
        .join(Message, Message.id == MessageMedia.message_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(MessageMedia.media_id.in_(media_ids), Conversation.school_id == principal.school_id, member)
    )
    return set(rows.all())


async def _via_activities(session: AsyncSession, principal: Principal, media_ids: list[int]) -> set[int]:
    rows = (
        await session.execute(
            select(ActivityMedia.media_id, Activity.class_id)
            .join(Activity, Activity.id == ActivityMedia.activity_id)
            .where(ActivityMedia.media_id.in_(media_ids), Activity.school_id == principal.school_id)
        )
    ).all()
    if principal.is_staff:
        return {media_id for media_id, _ in rows}
    visible = await visible_class_ids(session, principal) if rows else set()
    return {media_id for media_id, class_id in rows if class_id in visible}


async def _via_submissions(session: AsyncSession, principal: Principal, media_ids: list[int]) -> set[int]:
    linked = (
        select(SubmissionMedia.media_id)
        .join(Submission, Submission.id == SubmissionMedia.submission_id)
        .where(SubmissionMedia.media_id.in_(media_ids), Submission.school_id == principal.school_id)
    )
    if principal.role == "student":
        own = select(Student.id).where(Student.user_id == principal.id)
        linked = linked.where(Submission.student_id.in_(own))
    elif principal.role == "parent":
        linked = linked.where(
            Submission.student_id.in_(children_ids(principal.id)), Submission.status == "approved"
        )
    elif not principal.is_staff:
        return set()
    return set((await session.scalars(linked)).all())


async def find_viewable(session: AsyncSession, principal: Principal, media_id: int, key: str) -> Media:
    """A file by id and secret key that this user may see; 404 for anything else."""
    media = await session.get(Media, media_id)
    if media is None or not hmac.compare_digest(media.key.encode(), key.encode()):
        raise not_found(N_("That file"))
    if not await can_view_media(session, principal, media):
        raise not_found(N_("That file"))
    return media
