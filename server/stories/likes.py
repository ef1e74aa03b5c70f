"""Likes on posts (P3): idempotent, counted exactly, announced live.

The count on the post row moves by one with each like that is actually inserted or
deleted (``UPDATE posts SET like_count = like_count ± 1``), so simultaneous likes are
all counted. Everyone following the story hears the new count; the staff channel
beside it also hears who liked, so teachers watch likes arrive and families never
learn who else liked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from server.auth.principal import Principal, require_role
from server.db.models import Like, Post, User
from server.events import emit
from server.stories.posts import channels_of
from server.timeutil import iso


def _insert_ignoring_duplicates(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def set_like(
    session: AsyncSession, principal: Principal, post: Post, liked: bool, now: datetime
) -> int:
    """Like or unlike a post (parents and staff); idempotent. Returns the new like count."""
    require_role(principal, "parent", "staff")
    if liked:
        insert = _insert_ignoring_duplicates(session)
        done = await session.scalar(
            insert(Like)
            .values(post_id=post.id, user_id=principal.id, created_at=now)
            .on_conflict_do_nothing()
            .returning(Like.post_id)
        )
    else:
        done = await session.scalar(
            delete(Like).where(Like.post_id == post.id, Like.user_id == principal.id).returning(Like.post_id)
        )
    if done is None:
        return post.like_count
    step = 1 if liked else -1
    count = await session.scalar(
        update(Post)
        .where(Post.id == post.id)
        .values(like_count=Post.like_count + step)
        .returning(Post.like_count)
        .execution_options(synchronize_session=False)
    )
    assert count is not None
    set_committed_value(post, "like_count", count)
    public, staff = channels_of(post)
    type_ = "post.liked" if liked else "post.unliked"
    emit(session, public, type_, {"post_id": post.id, "like_count": count})
    emit(
        session,
        staff,
        type_,
        {"post_id": post.id, "like_count": count, "user": {"id": principal.id, "name": principal.user.name}},
    )
    return count


async def likes_of(session: AsyncSession, principal: Principal, post: Post) -> list[dict[str, Any]]:
    """Who liked a post, newest first (staff only)."""
    require_role(principal, "staff")
    rows = await session.execute(
        select(User, Like.created_at)
        .join(Like, Like.user_id == User.id)
        .where(Like.post_id == post.id)
        .order_by(Like.created_at.desc(), User.id)
    )
    return [
        {"user": {"id": user.id, "name": user.name, "role": user.role}, "liked_at": iso(when)}
        for user, when in rows
    ]
