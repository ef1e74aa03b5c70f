"""Story pages and the feed: which posts a reader gets, newest first, with cursor pages.

A page is found with one query: a UNION ALL of the newest ``limit`` rows of each story
the reader follows (the school story and each followed class), each an index range scan
backwards on ``ix_posts_scope_class_id (school_id, scope, class_id, id)``. The cost grows
with the page size and the number of stories, never with the number of posts. Shaping
the page (one query per kind of detail) lives in :mod:`server.stories.posts`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.models import Post, SchoolClass, StaffClass
from server.school.access import children_of, own_student


async def followed_classes(session: AsyncSession, principal: Principal) -> set[int]:
    """Classes whose story is in the user's feed: children's (parent), own (pupil), assigned (staff)."""
    if principal.role == "parent":
        return {child.class_id for child in await children_of(session, principal.id)}
    if principal.role == "student":
        pupil = await own_student(session, principal.id)
        return {pupil.class_id} if pupil else set()
    query = select(SchoolClass.id).where(SchoolClass.school_id == principal.school_id)
    if not principal.is_admin:
        query = query.join(StaffClass, StaffClass.class_id == SchoolClass.id).where(
            StaffClass.user_id == principal.id
        )
    return set((await session.scalars(query)).all())


def _story(
    school_id: int, class_id: int | None, before: int | None, limit: int, reader_id: int | None
) -> Select[int]:
    # A post waiting for its recordings to be processed is its author's alone until then.
    query = select(Post.id).where(
        Post.school_id == school_id, or_(Post.awaiting_media.is_(False), Post.author_id == reader_id)
    )
    if class_id is None:
        query = query.where(Post.scope == "school", Post.class_id.is_(None))
    else:
        query = query.where(Post.scope == "class", Post.class_id == class_id)
    if before is not None:
        query = query.where(Post.id < before)
    return query.order_by(Post.id.desc()).limit(limit)


async def _page(
    session: AsyncSession,
    school_id: int,
    stories: Iterable[int | None],
    before: int | None,
    limit: int,
    reader_id: int | None,
) -> list[Post]:
    """The newest ``limit`` posts (older than ``before``) across stories (None: the school story)."""
    parts = [_story(school_id, class_id, before, limit, reader_id) for class_id in stories]
    if not parts:
        return []
    if len(parts) == 1:
        ids = parts[0]
    else:
        merged = union_all(*(select(part.subquery().c.id) for part in parts)).subquery()
        ids = select(merged.c.id).order_by(merged.c.id.desc()).limit(limit)
    rows = await session.scalars(select(Post).where(Post.id.in_(ids)).order_by(Post.id.desc()))
    return list(rows.all())


async def class_posts(
    session: AsyncSession,
    school_class: SchoolClass,
    before: int | None,
    limit: int,
    reader_id: int | None = None,
) -> list[Post]:
    """A class story, newest first (the caller has checked the class is visible)."""
    return await _page(session, school_class.school_id, [school_class.id], before, limit, reader_id)


async def school_posts(
    session: AsyncSession, school_id: int, before: int | None, limit: int, reader_id: int | None = None
) -> list[Post]:
    """The school story, newest first."""
    return await _page(session, school_id, [None], before, limit, reader_id)


async def feed_for(session: AsyncSession, principal: Principal, before: int | None, limit: int) -> list[Post]:
    """The user's feed: the school story merged with the class stories they follow, newest first."""
    classes = sorted(await followed_classes(session, principal))
    return await _page(session, principal.school_id, [None, *classes], before, limit, principal.id)
