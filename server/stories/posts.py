"""Class and school stories (P2, P12, P13): posts with photos and tagged pupils, and their shape.

No HTTP here. Every change happens inside the caller's transaction, writes an
audit entry and emits its live events (published after commit). A post reaches
clients in one shape, built by :func:`post_shape` for REST replies and event
payloads alike; ``server.language.view.reader_view`` then fits it to one reader's
language (REST here, live events in the live layer's per-reader renderer).
Shaping a page of posts takes one query per kind of detail (authors, files,
tagged pupils, their names, the reader's likes), never one per post.

Which posts a reader gets lives in :mod:`server.stories.feed`; likes in :mod:`server.stories.likes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal, require_role
from server.db.models import (
    Like,
    Media,
    Post,
    PostMedia,
    PostStudent,
    SchoolClass,
    Student,
    User,
)
from server.errors import ApiError, forbidden, not_found, validation_error
from server.events import (
    class_channel,
    class_staff_channel,
    emit,
    school_channel,
    school_staff_channel,
    user_channel,
)
from server.language import view as translation_view
from server.language.interface import N_
from server.language.stored import forget as forget_translations
from server.language.stored import forget_reports
from server.language.view import NO_ROUTES, Routes
from server.media import claim_media, drop_unlinked, media_shape, withheld_media_ids
from server.media.processing import any_processing
from server.school import audit
from server.school.access import names_for_classes
from server.stories.feed import followed_classes
from server.timeutil import iso

MAX_TEXT = 5000
MAX_TAGS = 60
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # control characters but tab and newline


def clean_text(value: str, field_name: str, max_length: int, *, required: bool = True) -> str:
    """User text as stored: trimmed, newlines normalised, no control characters; else 422."""
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL.search(text):
        raise validation_error(f"{field_name} contains control characters.", fields={field_name: "control"})
    if required and not text:
        raise validation_error(f"{field_name} cannot be empty.", fields={field_name: "empty"})
    if len(text) > max_length:
        raise validation_error(
            f"{field_name} can be at most {max_length} characters.", fields={field_name: "too_long"}
        )
    return text


# -- shapes -------------------------------------------------------------------------------------


def post_shape(
    post: Post,
    *,
    author: User | None,
    media: Sequence[Media],
    students: Sequence[tuple[int, str]],
    liked: bool | None,
) -> dict[str, Any]:
    """A post in the API.md shape, in its original language.

    ``liked`` is the reader's own like; None leaves it out (live event payloads,
    whose readers each keep their own). The reader's view adds ``translation``.
    """
    shape: dict[str, Any] = {
        "id": post.id,
        "scope": post.scope,
        "class_id": post.class_id,
        "author": {"id": author.id, "name": author.name} if author else {"id": None, "name": "deleted user"},
        "text": post.text,
        "lang": post.lang,
        "original": {"text": post.text, "lang": post.lang},
        "media": [media_shape(m) for m in media],
        "students": [{"id": sid, "name": name} for sid, name in students],
        "like_count": post.like_count,
        "created_at": iso(post.created_at),
        "edited_at": iso(post.edited_at),
    }
    if liked is not None:
        shape["liked"] = liked
    return shape


@dataclass
class _Decor:
    """What a page of posts needs beyond the rows: loaded in a fixed number of queries."""

    authors: dict[int, User] = field(default_factory=dict)
    media: dict[int, list[Media]] = field(default_factory=dict)
    students: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    liked: set[int] = field(default_factory=set)
    withheld: set[int] = field(default_factory=set)  # files no one may see now (P12)


def _by_name(tagged: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Tagged pupils ``(id, display name)`` in the order readers see them."""
    return sorted(tagged, key=lambda pair: (pair[1].casefold(), pair[0]))


def _withheld_count(decor: _Decor, post_id: int) -> int:
    """How many of a post's files no one may see now (told to staff only)."""
    return sum(1 for m in decor.media.get(post_id, []) if m.id in decor.withheld)


async def _decorate(session: AsyncSession, posts: Sequence[Post], reader_id: int | None) -> _Decor:
    decor = _Decor()
    ids = [p.id for p in posts]
    if not ids:
        return decor
    author_ids = {p.author_id for p in posts if p.author_id is not None}
    if author_ids:
        decor.authors = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(author_ids)))}
    rows = await session.execute(
        select(PostMedia.post_id, Media)
        .join(Media, Media.id == PostMedia.media_id)
        .where(PostMedia.post_id.in_(ids))
        .order_by(PostMedia.post_id, PostMedia.position)
    )
    for post_id, item in rows:
        decor.media.setdefault(post_id, []).append(item)
    decor.withheld = await withheld_media_ids(session, (m.id for ms in decor.media.values() for m in ms))
    tags = list(
        (
            await session.execute(
                select(PostStudent.post_id, Student.id, Student.class_id)
                .join(Student, Student.id == PostStudent.student_id)
                .where(PostStudent.post_id.in_(ids))
            )
        ).all()
    )
    if tags:
        names = await names_for_classes(session, {class_id for _, _, class_id in tags})
        for post_id, student_id, _ in tags:
            decor.students.setdefault(post_id, []).append((student_id, names[student_id]))
        decor.students = {post_id: _by_name(tagged) for post_id, tagged in decor.students.items()}
    # ``like_count`` moves in the statement that adds or removes a like row, so a page whose
    # posts nobody liked (every new post) needs no lookup of the reader's own likes.
    if reader_id is not None and any(post.like_count for post in posts):
        decor.liked = set(
            (
                await session.scalars(
                    select(Like.post_id).where(Like.user_id == reader_id, Like.post_id.in_(ids))
                )
            ).all()
        )
    return decor


async def shape_posts(
    session: AsyncSession, posts: Sequence[Post], reader: Principal | None, routes: Routes = NO_ROUTES
) -> list[dict[str, Any]]:
    """Posts as a reader sees them (``reader=None``: the reader-neutral event payload form).

    ``routes`` tells which languages an engine can reach (``pending``) from those none can.
    """
    return await _shape_decorated(
        session, posts, await _decorate(session, posts, reader.id if reader else None), reader, routes
    )


async def _shape_decorated(
    session: AsyncSession, posts: Sequence[Post], decor: _Decor, reader: Principal | None, routes: Routes
) -> list[dict[str, Any]]:
    shapes = [
        post_shape(
            post,
            author=decor.authors.get(post.author_id) if post.author_id else None,
            media=[m for m in decor.media.get(post.id, []) if m.id not in decor.withheld],
            students=decor.students.get(post.id, []),
            liked=(post.id in decor.liked) if reader else None,
        )
        for post in posts
    ]
    if reader is not None and reader.is_staff:  # families are not told why: it could reveal care status
        for shape in shapes:
            if hidden := _withheld_count(decor, shape["id"]):
                shape["media_withheld"] = hidden
    if reader is None:  # live payloads carry every stored translation; the live layer picks per reader
        return [
            {**shape, "translations": await translation_view.cached_languages(session, post.text, post.lang)}
            for shape, post in zip(shapes, posts, strict=True)
        ]
    language = reader.user.language
    found = await translation_view.cached_translations(session, [(p.text, p.lang) for p in posts], language)
    return [translation_view.reader_view(shape, language, found, routes=routes) for shape in shapes]


# -- who sees what -----------------------------------------------------------------------------


def channels_of(post: Post) -> tuple[str, str]:
    """The post's story channel and the staff channel beside it."""
    if post.scope == "class" and post.class_id is not None:
        return class_channel(post.class_id), class_staff_channel(post.class_id)
    return school_channel(post.school_id), school_staff_channel(post.school_id)


async def _may_read(session: AsyncSession, principal: Principal, post: Post) -> bool:
    if post.school_id != principal.school_id:
        return False
    if post.awaiting_media and post.author_id != principal.id:
        return False  # its recordings are still being processed: the author's alone until then
    if post.scope == "school" or principal.is_staff:
        return True
    return post.class_id in await followed_classes(session, principal)


async def get_post(session: AsyncSession, principal: Principal, post_id: int) -> Post:
    """A post the user may read, else 404."""
    post = await session.get(Post, post_id)
    if post is None or not await _may_read(session, principal, post):
        raise not_found(N_("That post"))
    return post


def _may_change(principal: Principal, post: Post) -> None:
    if not (principal.is_admin or (principal.is_staff and post.author_id == principal.id)):
        raise forbidden(N_("Only the author or an admin can change this post."))


# -- changes -----------------------------------------------------------------------------------


async def _tagged(
    session: AsyncSession, principal: Principal, class_id: int | None, student_ids: Sequence[int]
) -> list[Student]:
    wanted = list(dict.fromkeys(student_ids))
    if len(wanted) > MAX_TAGS:
        raise validation_error(
            f"At most {MAX_TAGS} pupils can be tagged.", fields={"student_ids": "too_many"}
        )
    if not wanted:
        return []
    query = select(Student).where(
        Student.id.in_(wanted), Student.school_id == principal.school_id, Student.left_at.is_(None)
    )
    if class_id is not None:
        query = query.where(Student.class_id == class_id)
    found = {s.id: s for s in await session.scalars(query)}
    bad = [i for i in wanted if i not in found]
    if bad:
        where = "in this class" if class_id is not None else "in this school"
        raise validation_error(
            f"Some tagged pupils are not {where}.", fields={"student_ids": "unknown"}, student_ids=bad
        )
    return [found[i] for i in wanted]


async def announce_consent_change(session: AsyncSession, student_id: int) -> None:
    """Re-send the posts with photos that tag this pupil, so open pages hide (or restore) them."""
    posts = await session.scalars(
        select(Post)
        .join(PostStudent, PostStudent.post_id == Post.id)
        .where(
            PostStudent.student_id == student_id,
            exists().where(PostMedia.post_id == Post.id),
        )
        .order_by(Post.id)
    )
    for post in posts.unique().all():
        await _emit_post(session, "post.updated", post)


def lacking_consent(pupils: Iterable[Student]) -> list[Student]:
    """Pupils who may not appear in photos (P12): no photo consent, or in local-authority care."""
    return [p for p in pupils if not p.photo_consent or p.la_care]


async def _check_consent(session: AsyncSession, media: Sequence[Media], pupils: Sequence[Student]) -> None:
    if not media:
        return
    refused = lacking_consent(pupils)
    if not refused:
        return
    names = await names_for_classes(session, {p.class_id for p in refused})
    named: list[dict[str, Any]] = [{"id": p.id, "name": names[p.id]} for p in refused]
    listed = ", ".join(n["name"] for n in named)
    template = N_("Photos and files cannot be shared of {names}. Remove the attachments or untag them.")
    raise ApiError(
        422,
        "consent_required",
        template.format(names=listed),
        {"students": named},
        template=template,
        values={"names": listed},
    )


def _link(session: AsyncSession, post: Post, media: Sequence[Media], pupils: Sequence[Student]) -> None:
    session.add_all(PostMedia(post_id=post.id, media_id=m.id, position=i) for i, m in enumerate(media))
    session.add_all(PostStudent(post_id=post.id, student_id=p.id) for p in pupils)


async def _emit_post(session: AsyncSession, type_: str, post: Post) -> None:
    payload = (await shape_posts(session, [post], None))[0]
    emit(session, channels_of(post)[0], type_, {"post": payload})


async def create_post(
    session: AsyncSession,
    principal: Principal,
    school_class: SchoolClass | None,
    *,
    text: str,
    media_ids: Sequence[int],
    student_ids: Sequence[int],
    now: datetime,
    routes: Routes = NO_ROUTES,
) -> tuple[Post, dict[str, Any]]:
    """A new class post (``school_class``) or school post (None), with its files and tags.

    Returns the post and the author's view of it (the REST reply; ``routes`` as in :func:`shape_posts`).
    """
    require_role(principal, "staff")
    body = clean_text(text, "text", MAX_TEXT, required=not media_ids)
    media = await claim_media(session, principal, list(media_ids))
    class_id = school_class.id if school_class else None
    pupils = await _tagged(session, principal, class_id, student_ids)
    await _check_consent(session, media, pupils)
    post = Post(
        school_id=principal.school_id,
        scope="class" if school_class else "school",
        class_id=class_id,
        author_id=principal.id,
        text=body,
        lang=principal.user.language,
        like_count=0,
        awaiting_media=any_processing(media),
        created_at=now,
    )
    session.add(post)
    await session.flush()  # its id, for the links, the audit row and the event
    _link(session, post, media, pupils)
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "post.created",
        "post",
        post.id,
        scope=post.scope,
        class_id=class_id,
        media=len(media),
        students=len(pupils),
    )
    # Shaped once from what is in hand (the author, the claimed files, the tagged pupils): the
    # event's payload, and the author's reply from it. Loading them back would cost six queries.
    decor = _Decor(authors={principal.id: principal.user})
    if media:
        decor.media[post.id] = list(media)
        decor.withheld = await withheld_media_ids(session, [m.id for m in media])
    if pupils:
        names = await names_for_classes(session, {p.class_id for p in pupils})
        decor.students[post.id] = _by_name([(p.id, names[p.id]) for p in pupils])
    payload = (await _shape_decorated(session, [post], decor, None, NO_ROUTES))[0]
    channel = user_channel(principal.id) if post.awaiting_media else channels_of(post)[0]
    # A post still being processed is its author's alone; announced when its recordings are
    # ready (server.media.processing).
    emit(session, channel, "post.created", {"post": payload})
    reply = translation_view.reader_view({**payload, "liked": False}, principal.user.language, routes=routes)
    if hidden := _withheld_count(decor, post.id):
        reply["media_withheld"] = hidden
    return post, reply


async def announce_ready_post(session: AsyncSession, services: object, post_id: int) -> None:
    """Announce a post whose recordings are all ready now (it was its author's alone till then)."""
    post = await session.get(Post, post_id, populate_existing=True)
    if post is not None:
        await _emit_post(session, "post.created", post)


async def update_post(
    session: AsyncSession, principal: Principal, post: Post, changes: Mapping[str, Any], now: datetime
) -> tuple[Post, list[str]]:
    """Edit a post's text, files or tags (author or admin); returns it and the file keys to discard."""
    _may_change(principal, post)
    current_media = list(
        (
            await session.scalars(
                select(Media)
                .join(PostMedia, PostMedia.media_id == Media.id)
                .where(PostMedia.post_id == post.id)
                .order_by(PostMedia.position)
            )
        ).all()
    )
    media = current_media
    if changes.get("media_ids") is not None:
        kept = {m.id: m for m in current_media}
        wanted = list(dict.fromkeys(changes["media_ids"]))
        added = await claim_media(session, principal, [i for i in wanted if i not in kept])
        by_id = {**kept, **{m.id: m for m in added}}
        media = [by_id[i] for i in wanted]
    current_tags = list(
        (await session.scalars(select(PostStudent.student_id).where(PostStudent.post_id == post.id))).all()
    )
    tags_changed = changes.get("student_ids") is not None
    if tags_changed:
        pupils = await _tagged(session, principal, post.class_id, changes["student_ids"])
    else:  # kept as they are, even a pupil who has since left or moved class
        pupils = list((await session.scalars(select(Student).where(Student.id.in_(current_tags)))).all())
    text = post.text
    if changes.get("text") is not None:
        text = clean_text(changes["text"], "text", MAX_TEXT, required=not media)
    elif not media and not text:
        raise validation_error(N_("A post needs text or a file."), fields={"text": "empty"})
    if changes.get("media_ids") is not None or tags_changed:
        await _check_consent(session, media, pupils)
    changed = sorted(
        name
        for name, differs in (
            ("text", text != post.text),
            ("media_ids", [m.id for m in media] != [m.id for m in current_media]),
            ("student_ids", tags_changed and {p.id for p in pupils} != set(current_tags)),
        )
        if differs
    )
    if not changed:
        return post, []
    removed = [m.id for m in current_media if m.id not in {x.id for x in media}]
    await session.execute(delete(PostMedia).where(PostMedia.post_id == post.id))
    await session.execute(delete(PostStudent).where(PostStudent.post_id == post.id))
    previous_text = post.text
    post.text = text
    post.edited_at = now
    _link(session, post, media, pupils)
    await session.flush()
    if text != previous_text:
        await forget_translations(session, previous_text, post.lang)
        await forget_reports(session, "post", [post.id])
    keys = await drop_unlinked(session, removed)
    audit.record(session, principal.school_id, principal.id, "post.edited", "post", post.id, fields=changed)
    if post.awaiting_media:
        post.awaiting_media = any_processing(media)
        await session.flush()
        if post.awaiting_media and post.author_id is not None:  # still waiting: only its author hears
            shaped = (await shape_posts(session, [post], None))[0]
            emit(session, user_channel(post.author_id), "post.updated", {"post": shaped})
        else:  # the recording that held it back was removed: announced now
            await _emit_post(session, "post.created", post)
        return post, keys
    await _emit_post(session, "post.updated", post)
    return post, keys


async def delete_post(session: AsyncSession, principal: Principal, post: Post) -> list[str]:
    """Delete a post (author or admin); returns the keys of files nothing else uses."""
    _may_change(principal, post)
    media_ids = list(
        (await session.scalars(select(PostMedia.media_id).where(PostMedia.post_id == post.id))).all()
    )
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "post.deleted",
        "post",
        post.id,
        author_id=post.author_id,
        scope=post.scope,
        class_id=post.class_id,
    )
    emit(session, channels_of(post)[0], "post.deleted", {"post_id": post.id})
    await session.delete(post)
    await session.flush()
    await forget_translations(session, post.text, post.lang)
    await forget_reports(session, "post", [post.id])
    return await drop_unlinked(session, media_ids)


# -- erasure (P18) -----------------------------------------------------------------------------


async def untag_erased_pupil(
    session: AsyncSession, student_id: int, *, shown: bool
) -> tuple[list[int], set[int]]:
    """Untag a pupil being erased; returns the posts that tagged them and the files to erase with them.

    A post's photos go with the pupil when they were its only tagged pupil. A group photo
    loses the tag and stays, unless the pupil could not be shown in photos (``shown`` False,
    P12): then it was withheld because of them and would come back into view without the
    tag, so it goes too.
    """
    post_ids = sorted(
        set(
            (
                await session.scalars(select(PostStudent.post_id).where(PostStudent.student_id == student_id))
            ).all()
        )
    )
    if not post_ids:
        return [], set()
    doomed_posts = post_ids
    if shown:
        others = await session.scalars(
            select(PostStudent.post_id).where(
                PostStudent.post_id.in_(post_ids), PostStudent.student_id != student_id
            )
        )
        group = set(others.all())
        doomed_posts = [p for p in post_ids if p not in group]
    media_ids: set[int] = set()
    if doomed_posts:
        media_ids = set(
            (
                await session.scalars(select(PostMedia.media_id).where(PostMedia.post_id.in_(doomed_posts)))
            ).all()
        )
    await session.execute(delete(PostStudent).where(PostStudent.student_id == student_id))
    return post_ids, media_ids


async def announce_after_erasure(session: AsyncSession, post_ids: Iterable[int]) -> None:
    """Re-send posts an erasure changed (``post.updated``); a post left with neither text nor files goes."""
    posts = (
        await session.scalars(select(Post).where(Post.id.in_(sorted(set(post_ids)))).order_by(Post.id))
    ).all()
    for post in posts:
        has_media = await session.scalar(select(exists().where(PostMedia.post_id == post.id)))
        if post.text or has_media:
            await _emit_post(session, "post.updated", post)
            continue
        emit(session, channels_of(post)[0], "post.deleted", {"post_id": post.id})
        await forget_reports(session, "post", [post.id])
        await session.delete(post)
    await session.flush()
