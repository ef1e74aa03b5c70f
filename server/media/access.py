"""Who may see an uploaded file: whoever may see something it is attached to (P16).

A file is visible to its uploader, and to readers of what links it:
- a post: the post's audience (the school for the school story; the class's
  pupils, their guardians and staff for a class story), unless the post tags a pupil
  who may not appear in photos (P12: consent withdrawn, or in care since);
- a message: the conversation's two members, and admins once the message was reported;
- an activity: the class's members;
- a submission: the pupil, staff, and the pupil's guardians once it is approved.
Anything else is invisible, and the HTTP layer answers 404 for it.
"""

from __future__ import annotations

import hmac

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.access import children_ids, shown_in_photos, visible_class_ids
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


async def can_view_media(session: AsyncSession, principal: Principal, media: Media) -> bool:
    """True when the user may see this file (see the module docstring for the rules)."""
    if media.school_id != principal.school_id:
        return False
    if media.uploader_id == principal.id:
        return True
    return (
        await _via_posts(session, principal, media.id)
        or await _via_messages(session, principal, media.id)
        or await _via_activities(session, principal, media.id)
        or await _via_submissions(session, principal, media.id)
    )


async def _via_posts(session: AsyncSession, principal: Principal, media_id: int) -> bool:
    unshowable = (  # a tagged pupil may not appear in photos (P12): not through this post
        select(PostStudent.post_id)
        .join(Student, Student.id == PostStudent.student_id)
        .where(PostStudent.post_id == Post.id, ~shown_in_photos())
    )
    rows = await session.execute(
        select(Post.scope, Post.class_id)
        .join(PostMedia, PostMedia.post_id == Post.id)
        .where(
            PostMedia.media_id == media_id,
            Post.school_id == principal.school_id,
            ~unshowable.exists(),
        )
    )
    places = list(rows.all())
    if not places:
        return False
    if principal.is_staff or any(scope == "school" for scope, _ in places):
        return True
    classes = await visible_class_ids(session, principal)
    return any(class_id in classes for _, class_id in places)


async def _via_messages(session: AsyncSession, principal: Principal, media_id: int) -> bool:
    member = (Conversation.guardian_id == principal.id) | (Conversation.staff_id == principal.id)
    if principal.is_admin:
        member = member | exists().where(Report.message_id == Message.id)
    found = await session.scalar(
        select(Message.id)
        .join(MessageMedia, MessageMedia.message_id == Message.id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(MessageMedia.media_id == media_id, Conversation.school_id == principal.school_id, member)
        .limit(1)
    )
    return found is not None


async def _via_activities(session: AsyncSession, principal: Principal, media_id: int) -> bool:
    class_ids = list(
        (
            await session.scalars(
                select(Activity.class_id)
                .join(ActivityMedia, ActivityMedia.activity_id == Activity.id)
                .where(ActivityMedia.media_id == media_id, Activity.school_id == principal.school_id)
            )
        ).all()
    )
    if not class_ids:
        return False
    if principal.is_staff:
        return True
    visible = await visible_class_ids(session, principal)
    return any(class_id in visible for class_id in class_ids)


async def _via_submissions(session: AsyncSession, principal: Principal, media_id: int) -> bool:
    linked = (
        select(Submission.id)
        .join(SubmissionMedia, SubmissionMedia.submission_id == Submission.id)
        .where(SubmissionMedia.media_id == media_id, Submission.school_id == principal.school_id)
    )
    if principal.role == "student":
        own = select(Student.id).where(Student.user_id == principal.id)
        linked = linked.where(Submission.student_id.in_(own))
    elif principal.role == "parent":
        linked = linked.where(
            Submission.student_id.in_(children_ids(principal.id)), Submission.status == "approved"
        )
    elif not principal.is_staff:
        return False
    return await session.scalar(linked.limit(1)) is not None


async def find_viewable(session: AsyncSession, principal: Principal, media_id: int, key: str) -> Media:
    """A file by id and secret key that this user may see; 404 for anything else."""
    media = await session.get(Media, media_id)
    if media is None or not hmac.compare_digest(media.key.encode(), key.encode()):
        raise not_found("That file")
    if not await can_view_media(session, principal, media):
        raise not_found("That file")
    return media
