"""Export (P18): everything held about a user as one JSON document, streamed section by section.

For a parent it also holds each linked child's record, points, portfolio and the posts they
are tagged in; for a pupil, their own. Media appear as links; :func:`zip_export` packs the
document and the user's files into a zip spooled to disk, so neither form loads whole into memory.
Token hashes and password hashes are never exported.

An export is a copy that leaves the app, so it holds exactly the files the user may fetch:
every link and every file in the zip passes :func:`server.media.access.viewable_media_ids`,
the decision ``GET /api/media`` asks too. A photo withheld under P12 (a tagged pupil's
consent withdrawn, or in care) is in nobody's export, its uploader's included.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import zipfile
from collections.abc import AsyncIterator, Iterable
from typing import IO, Any

import orjson
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.models import (
    Absence,
    AuditEntry,
    Award,
    Conversation,
    EventResponse,
    Like,
    Media,
    Message,
    MessageMedia,
    NotificationPreference,
    PolicyAcceptance,
    Post,
    PostMedia,
    PostStudent,
    PushSubscription,
    School,
    Session,
    Student,
    Submission,
    SubmissionMedia,
    Translation,
    TranslationReport,
    User,
)
from server.language.stored import content_hash
from server.media.access import viewable_media_ids
from server.media.storage import Storage
from server.notify.preferences import shape as notification_choices
from server.notify.subscriptions import shape as device_shape
from server.school.access import children_ids
from server.services import Services

BATCH = 500
SPOOL_BYTES = 8 * 1024 * 1024
CHUNK = 64 * 1024


def _dump(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)


def _media(found: Media) -> dict[str, Any]:
    return {
        "id": found.id,
        "kind": found.kind,
        "file_name": found.file_name,
        "content_type": found.content_type,
        "size": found.size,
        "url": f"/api/media/{found.id}?k={found.key}",
    }


async def _media_of(
    session: AsyncSession, viewer: Principal, link: Any, owner: Any, ids: list[int]
) -> dict[int, list[Any]]:
    """The links of the files attached to these owners that the viewer may see, by owner id."""
    found: dict[int, list[Any]] = {}
    if not ids:
        return found
    rows = (
        await session.execute(
            select(owner, Media).join(Media, Media.id == link.media_id).where(owner.in_(ids))
        )
    ).all()
    allowed = await viewable_media_ids(session, viewer, [media for _, media in rows])
    for owner_id, media in rows:
        if media.id in allowed:
            found.setdefault(owner_id, []).append(_media(media))
    return found


async def _batches(session: AsyncSession, query: Any, key: Any) -> AsyncIterator[list[Any]]:
    last = 0
    while True:
        rows = list((await session.scalars(query.where(key > last).order_by(key).limit(BATCH))).all())
        if not rows:
            return
        yield rows
        last = rows[-1].id


async def _translations(
    session: AsyncSession, messages: Iterable[Message]
) -> dict[str, list[dict[str, Any]]]:
    hashes = {content_hash(m.text) for m in messages if m.text}
    found: dict[str, list[dict[str, Any]]] = {}
    if not hashes:
        return found
    rows = await session.scalars(select(Translation).where(Translation.content_hash.in_(hashes)))
    for row in rows.all():
        found.setdefault(row.content_hash, []).append(
            {"source": row.source, "language": row.target, "text": row.text}
        )
    return found


def _post(post: Post, media: list[Any]) -> dict[str, Any]:
    return {
        "id": post.id,
        "scope": post.scope,
        "class_id": post.class_id,
        "text": post.text,
        "lang": post.lang,
        "created_at": post.created_at,
        "edited_at": post.edited_at,
        "media": media,
    }


async def _child(session: AsyncSession, viewer: Principal, pupil: Student) -> dict[str, Any]:
    awards = (
        await session.scalars(select(Award).where(Award.student_id == pupil.id).order_by(Award.id))
    ).all()
    submissions = (
        await session.scalars(
            select(Submission).where(Submission.student_id == pupil.id).order_by(Submission.id)
        )
    ).all()
    sub_media = await _media_of(
        session, viewer, SubmissionMedia, SubmissionMedia.submission_id, [s.id for s in submissions]
    )
    tagged = (
        await session.scalars(
            select(Post)
            .join(PostStudent, PostStudent.post_id == Post.id)
            .where(PostStudent.student_id == pupil.id)
        )
    ).all()
    post_media = await _media_of(session, viewer, PostMedia, PostMedia.post_id, [p.id for p in tagged])
    absences = (
        await session.scalars(select(Absence).where(Absence.student_id == pupil.id).order_by(Absence.id))
    ).all()
    answers = (
        await session.scalars(
            select(EventResponse).where(EventResponse.student_id == pupil.id).order_by(EventResponse.id)
        )
    ).all()
    return {
        "id": pupil.id,
        "first_name": pupil.first_name,
        "last_name": pupil.last_name,
        "class_id": pupil.class_id,
        "photo_consent": pupil.photo_consent,
        "avatar": pupil.avatar,
        "left_at": pupil.left_at,
        "created_at": pupil.created_at,
        "points": [
            {
                "id": a.id,
                "points": a.points,
                "skill_id": a.skill_id,
                "note": a.note,
                "created_at": a.created_at,
            }
            for a in awards
        ],
        "portfolio": [
            {
                "id": s.id,
                "activity_id": s.activity_id,
                "text": s.text,
                "status": s.status,
                "comment": s.comment,
                "created_at": s.created_at,
                "media": sub_media.get(s.id, []),
            }
            for s in submissions
        ],
        "tagged_posts": [_post(p, post_media.get(p.id, [])) for p in tagged],
        "absences": [
            {
                "id": a.id,
                "from": a.from_date.isoformat(),
                "to": a.to_date.isoformat(),
                "reason": a.reason,
                "note": a.note,
                "created_at": a.created_at,
                "acknowledged_at": a.acknowledged_at,
            }
            for a in absences
        ],
        "event_answers": [
            {"event_id": r.event_id, "answer": r.answer, "note": r.note, "answered_at": r.answered_at}
            for r in answers
        ],
    }


async def children_for(session: AsyncSession, user: User) -> list[Student]:
    """The pupils whose records belong in this user's export (their children, or themselves)."""
    if user.role == "student":
        query = select(Student).where(Student.user_id == user.id)
    else:
        query = select(Student).where(Student.id.in_(children_ids(user.id)))
    return list((await session.scalars(query.order_by(Student.id))).all())


async def stream_export(services: Services, viewer: Principal) -> AsyncIterator[bytes]:
    """The export document for the signed-in user, as JSON chunks."""
    user_id = viewer.id
    async with services.read() as session:
        user = await session.get(User, user_id)
        if user is None:
            return
        school = await session.get(School, user.school_id)
        profile = {
            "id": user.id,
            "role": user.role,
            "name": user.name,
            "email": user.email,
            "language": user.language,
            "policy_accepted_version": user.policy_accepted_version,
            "suspended_at": user.suspended_at,
            "created_at": user.created_at,
            "school": school.name if school else None,
        }
        yield b'{"format":"homeroom-export/1","exported_at":' + _dump(services.clock())
        yield b',"profile":' + _dump(profile)
        sessions = (await session.scalars(select(Session).where(Session.user_id == user_id))).all()
        yield b',"sessions":' + _dump(
            [
                {
                    "id": s.id,
                    "created_at": s.created_at,
                    "last_seen_at": s.last_seen_at,
                    "expires_at": s.expires_at,
                    "revoked_at": s.revoked_at,
                    "user_agent": s.user_agent,
                }
                for s in sessions
            ]
        )
        accepted = (
            await session.scalars(select(PolicyAcceptance).where(PolicyAcceptance.user_id == user_id))
        ).all()
        yield b',"policy_acceptances":' + _dump(
            [{"version": a.version, "accepted_at": a.accepted_at} for a in accepted]
        )
        # Notification choices and the devices that receive pushes (endpoints are secrets of
        # the browser's push service: their host is enough to recognise a device).
        choices = await session.get(NotificationPreference, user_id)
        devices = (
            await session.scalars(select(PushSubscription).where(PushSubscription.user_id == user_id))
        ).all()
        yield b',"notifications":' + _dump(
            {"preferences": notification_choices(choices), "devices": [device_shape(d) for d in devices]}
        )

        yield b',"posts":['
        first = True
        async for posts in _batches(session, select(Post).where(Post.author_id == user_id), Post.id):
            media = await _media_of(session, viewer, PostMedia, PostMedia.post_id, [p.id for p in posts])
            for post in posts:
                yield (b"" if first else b",") + _dump(_post(post, media.get(post.id, [])))
                first = False
        yield b"]"

        likes = (
            await session.execute(select(Like.post_id, Like.created_at).where(Like.user_id == user_id))
        ).all()
        yield b',"likes":' + _dump([{"post_id": p, "created_at": c} for p, c in likes])

        reported = (
            await session.scalars(
                select(TranslationReport)
                .where(TranslationReport.reporter_id == user_id)
                .order_by(TranslationReport.id)
            )
        ).all()
        yield b',"translation_reports":' + _dump(
            [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "item_id": r.item_id,
                    "original": {"text": r.original_text, "lang": r.source},
                    "translation": {"text": r.translated_text, "lang": r.lang, "engine": r.engine},
                    "reason": r.reason,
                    "created_at": r.created_at,
                }
                for r in reported
            ]
        )

        conversations = (
            await session.scalars(
                select(Conversation).where(
                    or_(Conversation.guardian_id == user_id, Conversation.staff_id == user_id)
                )
            )
        ).all()
        yield b',"conversations":' + _dump(
            [
                {
                    "id": c.id,
                    "student_id": c.student_id,
                    "guardian_id": c.guardian_id,
                    "staff_id": c.staff_id,
                    "created_at": c.created_at,
                }
                for c in conversations
            ]
        )
        yield b',"messages":['
        first = True
        conversation_ids = [c.id for c in conversations]
        if conversation_ids:
            query = select(Message).where(Message.conversation_id.in_(conversation_ids))
            async for messages in _batches(session, query, Message.id):
                translated = await _translations(session, messages)
                media = await _media_of(
                    session, viewer, MessageMedia, MessageMedia.message_id, [m.id for m in messages]
                )
                for m in messages:
                    shaped = {
                        "id": m.id,
                        "conversation_id": m.conversation_id,
                        "sender_id": m.sender_id,
                        "mine": m.sender_id == user_id,
                        "text": m.text,
                        "lang": m.lang,
                        "system": m.system,
                        "created_at": m.created_at,
                        "read_at": m.read_at,
                        "translations": translated.get(content_hash(m.text), []) if m.text else [],
                        "media": media.get(m.id, []),
                    }
                    yield (b"" if first else b",") + _dump(shaped)
                    first = False
        yield b"]"

        uploads = (await session.scalars(select(Media).where(Media.uploader_id == user_id))).all()
        allowed = await viewable_media_ids(session, viewer, uploads)
        yield b',"uploads":' + _dump([_media(m) for m in uploads if m.id in allowed])

        yield b',"audit":['
        first = True
        about_me = or_(
            AuditEntry.actor_id == user_id,
            (AuditEntry.target_type == "user") & (AuditEntry.target_id == user_id),
        )
        audit = select(AuditEntry).where(AuditEntry.school_id == user.school_id, about_me)
        async for entries in _batches(session, audit, AuditEntry.id):
            for e in entries:
                shaped = {
                    "id": e.id,
                    "action": e.action,
                    "actor_id": e.actor_id,
                    "target_type": e.target_type,
                    "target_id": e.target_id,
                    "details": e.details,
                    "created_at": e.created_at,
                }
                yield (b"" if first else b",") + _dump(shaped)
                first = False
        yield b"]"

        key = "children" if user.role != "student" else "pupil"
        children = await children_for(session, user)
        yield b',"' + key.encode() + b'":['
        for n, pupil in enumerate(children):
            yield (b"," if n else b"") + _dump(await _child(session, viewer, pupil))
        yield b"]}"


async def media_keys_for(services: Services, viewer: Principal) -> list[tuple[int, str, str]]:
    """``(id, key, file_name)`` of every file in a user's export (theirs, their children's) they may see."""
    user_id = viewer.id
    async with services.read() as session:
        user = await session.get(User, user_id)
        if user is None:
            return []
        pupils = [p.id for p in await children_for(session, user)]
        conversation_ids = select(Conversation.id).where(
            or_(Conversation.guardian_id == user_id, Conversation.staff_id == user_id)
        )
        message_ids = select(Message.id).where(Message.conversation_id.in_(conversation_ids))
        post_ids = select(Post.id).where(Post.author_id == user_id)
        clauses = [
            Media.uploader_id == user_id,
            Media.id.in_(select(MessageMedia.media_id).where(MessageMedia.message_id.in_(message_ids))),
            Media.id.in_(select(PostMedia.media_id).where(PostMedia.post_id.in_(post_ids))),
        ]
        if pupils:
            clauses.append(
                Media.id.in_(
                    select(SubmissionMedia.media_id)
                    .join(Submission, Submission.id == SubmissionMedia.submission_id)
                    .where(Submission.student_id.in_(pupils))
                )
            )
            clauses.append(
                Media.id.in_(
                    select(PostMedia.media_id)
                    .join(PostStudent, PostStudent.post_id == PostMedia.post_id)
                    .where(PostStudent.student_id.in_(pupils))
                )
            )
        found = list((await session.scalars(select(Media).where(or_(*clauses)).order_by(Media.id))).all())
        allowed = await viewable_media_ids(session, viewer, found)
        return [(m.id, m.key, m.file_name) for m in found if m.id in allowed]


def _add_file(archive: zipfile.ZipFile, storage: Storage, arcname: str, key: str) -> None:
    try:
        source = storage.open(key)
    except (FileNotFoundError, ValueError):
        return
    with source, archive.open(arcname, "w", force_zip64=True) as out:
        while chunk := source.read(CHUNK):
            out.write(chunk)


async def zip_export(services: Services, storage: Storage, viewer: Principal) -> IO[bytes]:
    """``export.json`` and the user's media in a zip, spooled (in memory up to 8 MiB, then on disk)."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    archive = zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED)
    try:
        with archive.open("export.json", "w", force_zip64=True) as out:
            async for chunk in stream_export(services, viewer):
                out.write(chunk)
        for media_id, key, file_name in await media_keys_for(services, viewer):
            await asyncio.to_thread(_add_file, archive, storage, f"media/{media_id}-{file_name}", key)
        archive.close()
    except BaseException:
        with contextlib.suppress(Exception):
            archive.close()
        spool.close()
        raise
    spool.seek(0)
    return spool


async def read_chunks(spool: IO[bytes]) -> AsyncIterator[bytes]:
    """Stream a spooled file and close it at the end."""
    try:
        while chunk := await asyncio.to_thread(spool.read, CHUNK):
            yield chunk
    finally:
        spool.close()
