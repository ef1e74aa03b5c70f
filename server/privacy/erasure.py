"""Erasure (P18): a pupil's data goes for good; an adult's account goes, their messages stay anonymous.

Rows go in one transaction; the files of erased media are removed after it commits.
A crash between the two leaves files without a ``media`` row; :func:`sweep_orphan_files`
(run at start-up by :class:`OrphanFilePart`) removes those, so nothing survives a crash.

A photo on the story whose only tagged pupil is the one erased goes with them: from every
post and message it is on, and from storage; open pages get ``post.updated`` (or
``post.deleted`` for a post left with neither text nor photos). A group photo loses the
tag and stays, unless the pupil could not be shown in photos (P12), since it was withheld
because of them and would otherwise come back into view.

Readers' reports of bad translations keep copies of both texts: they go with the message
they report, and with the reader who made them.

The audit log keeps one entry per erasure (``student.erased`` / ``user.erased``) with the
numeric id of what went and no names; every other entry about the erased person goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import (
    Absence,
    AuditEntry,
    Award,
    Conversation,
    EventResponse,
    GuardianLink,
    GuardianRequest,
    Invite,
    Like,
    Media,
    Message,
    MessageMedia,
    NotificationEvent,
    OutboxEvent,
    PolicyAcceptance,
    PostMedia,
    PostStudent,
    Report,
    Session,
    Student,
    Submission,
    SubmissionMedia,
    Translation,
    User,
)
from server.events import (
    class_channel,
    class_staff_channel,
    school_staff_channel,
    student_channel,
    user_channel,
)
from server.language.stored import content_hash, forget_reports, forget_reports_by
from server.media.storage import LocalStorage
from server.media.uploads import LINK_TABLES, drop_unlinked, drop_uploads_of, storage_of
from server.school import audit
from server.services import Services
from server.stories import posts as stories

log = logging.getLogger("homeroom.privacy")
ORPHAN_GRACE_SECONDS = 3600.0
DELETED_TEXT = ""


async def _forget_texts(session: AsyncSession, texts: Iterable[str]) -> None:
    """Drop every cached translation of these texts, whatever their source language."""
    hashes = sorted({content_hash(text) for text in texts if text})
    for start in range(0, len(hashes), 500):
        chunk = hashes[start : start + 500]
        await session.execute(delete(Translation).where(Translation.content_hash.in_(chunk)))


def _mentions(value: Any, ids: dict[str, set[int]], words: tuple[str, ...]) -> bool:
    """Whether a JSON value names one of ``ids`` (by key) or holds one of ``words``."""
    if isinstance(value, dict):
        for key, item in value.items():
            for suffix, wanted in ids.items():
                if key.endswith(suffix):
                    if isinstance(item, int) and item in wanted:
                        return True
                    if isinstance(item, list) and any(isinstance(x, int) and x in wanted for x in item):
                        return True
            if _mentions(item, ids, words):
                return True
        return False
    if isinstance(value, list):
        return any(_mentions(item, ids, words) for item in value)
    if isinstance(value, str):
        lowered = value.lower()
        return any(word in lowered for word in words)
    return False


async def _scrub_json_rows(
    session: AsyncSession, model: Any, where: Any, ids: dict[str, set[int]], words: tuple[str, ...]
) -> None:
    """Delete rows of ``model`` (matching ``where``) whose JSON column mentions the erased person."""
    column = model.details if model is AuditEntry else model.data
    last = 0
    while True:
        rows = (
            await session.execute(
                select(model.id, column).where(where, model.id > last).order_by(model.id).limit(1000)
            )
        ).all()
        if not rows:
            return
        doomed = [row_id for row_id, data in rows if _mentions(data, ids, words)]
        if doomed:
            await session.execute(delete(model).where(model.id.in_(doomed)))
        last = rows[-1][0]


async def live_channels_of(session: AsyncSession, student: Student) -> list[str]:
    """The live channels whose history may mention the pupil; dropped after their erasure (P18).

    Their own and their class's channels, the school's staff channel (requests and office
    notices), and the ``user`` channels of the pupil, their guardians and the staff they
    wrote to about the pupil. Readers of these resubscribe and reload through the REST API.
    """
    guardians = await session.scalars(
        select(GuardianLink.guardian_id).where(GuardianLink.student_id == student.id)
    )
    staff = await session.scalars(select(Conversation.staff_id).where(Conversation.student_id == student.id))
    users = {student.user_id, *guardians.all(), *(s for s in staff.all() if s is not None)}
    return sorted(
        {
            student_channel(student.id),
            class_channel(student.class_id),
            class_staff_channel(student.class_id),
            school_staff_channel(student.school_id),
            *(user_channel(user_id) for user_id in users),
        }
    )


async def erase_student(session: AsyncSession, student: Student, actor_id: int | None) -> list[str]:
    """Hard-erase a pupil and everything about them; returns storage keys to remove after commit."""
    sid, uid, school_id = student.id, student.user_id, student.school_id
    words = tuple(w.lower() for w in (student.first_name, student.last_name) if len(w) >= 3)
    if student.first_name and student.last_name:
        words = (*words, f"{student.first_name} {student.last_name}".lower())

    awards = (await session.execute(select(Award.id, Award.note).where(Award.student_id == sid))).all()
    submissions = (
        await session.execute(
            select(Submission.id, Submission.text, Submission.comment).where(Submission.student_id == sid)
        )
    ).all()
    submission_ids = [row.id for row in submissions]
    media_ids: set[int] = set()
    if submission_ids:
        media_ids |= set(
            (
                await session.scalars(
                    select(SubmissionMedia.media_id).where(SubmissionMedia.submission_id.in_(submission_ids))
                )
            ).all()
        )
    conversation_ids = list(
        (await session.scalars(select(Conversation.id).where(Conversation.student_id == sid))).all()
    )
    messages = (
        (
            await session.execute(
                select(Message.id, Message.text).where(Message.conversation_id.in_(conversation_ids))
            )
        ).all()
        if conversation_ids
        else []
    )
    message_ids = [row.id for row in messages]
    if message_ids:
        media_ids |= set(
            (
                await session.scalars(
                    select(MessageMedia.media_id).where(MessageMedia.message_id.in_(message_ids))
                )
            ).all()
        )
    tagged_posts, photos = await stories.untag_erased_pupil(
        session, sid, shown=student.photo_consent and not student.la_care
    )
    changed_posts = set(tagged_posts)
    if photos:  # erased with the pupil: off every post and message they are on
        changed_posts.update(
            (await session.scalars(select(PostMedia.post_id).where(PostMedia.media_id.in_(photos)))).all()
        )
        for table in LINK_TABLES:
            await session.execute(delete(table).where(table.media_id.in_(photos)))
        media_ids |= photos
    media_keys = list(
        (
            await session.scalars(
                select(Media.key).where(or_(Media.id.in_(media_ids), Media.uploader_id == uid))
            )
        ).all()
    )
    if media_keys:
        words = (*words, *(key.lower() for key in media_keys))

    absence_notes = (await session.scalars(select(Absence.note).where(Absence.student_id == sid))).all()
    answer_notes = (
        await session.scalars(select(EventResponse.note).where(EventResponse.student_id == sid))
    ).all()
    await _forget_texts(
        session,
        [
            *absence_notes,
            *answer_notes,
            *(row.note for row in awards),
            *(t for row in submissions for t in (row.text, row.comment)),
            *(row.text for row in messages),
        ],
    )
    report_ids: list[int] = []
    if message_ids:
        report_ids = list(
            (await session.scalars(select(Report.id).where(Report.message_id.in_(message_ids)))).all()
        )
        await session.execute(delete(Report).where(Report.message_id.in_(message_ids)))
        await forget_reports(session, "message", message_ids)
        await session.execute(delete(Message).where(Message.id.in_(message_ids)))
    if conversation_ids:
        await session.execute(delete(Conversation).where(Conversation.id.in_(conversation_ids)))
    await session.execute(delete(Award).where(Award.student_id == sid))
    await session.execute(delete(Absence).where(Absence.student_id == sid))
    await session.execute(delete(EventResponse).where(EventResponse.student_id == sid))
    await session.execute(delete(Submission).where(Submission.student_id == sid))
    await session.execute(delete(PostStudent).where(PostStudent.student_id == sid))
    await session.execute(delete(GuardianLink).where(GuardianLink.student_id == sid))
    await session.execute(delete(Invite).where(Invite.student_id == sid))
    await session.execute(delete(GuardianRequest).where(GuardianRequest.student_id == sid))
    keys = await drop_unlinked(session, media_ids)
    keys += await drop_uploads_of(session, uid)

    targets = {
        "student": {sid},
        "user": {uid},
        "award": {row.id for row in awards},
        "submission": set(submission_ids),
        "conversation": set(conversation_ids),
        "message": set(message_ids),
        "report": set(report_ids),
    }
    for target_type, target_ids in targets.items():
        if target_ids:
            await session.execute(
                delete(AuditEntry).where(
                    AuditEntry.school_id == school_id,
                    AuditEntry.target_type == target_type,
                    AuditEntry.target_id.in_(target_ids),
                )
            )
    await session.execute(delete(AuditEntry).where(AuditEntry.actor_id == uid))
    id_keys = {"student_id": {sid}, "student_ids": {sid}, "user_id": {uid}, "pupil_id": {sid}}
    await _scrub_json_rows(session, AuditEntry, AuditEntry.school_id == school_id, id_keys, words)
    await _scrub_json_rows(session, OutboxEvent, OutboxEvent.id > 0, id_keys, words)
    # Notifications about the pupil not yet sent (or kept briefly after) go too, with their pushes.
    await _scrub_json_rows(session, NotificationEvent, NotificationEvent.id > 0, id_keys, words)

    await session.execute(delete(Session).where(Session.user_id == uid))
    await session.execute(delete(PolicyAcceptance).where(PolicyAcceptance.user_id == uid))
    await session.execute(delete(Like).where(Like.user_id == uid))
    await forget_reports_by(session, uid)
    await session.execute(delete(Student).where(Student.id == sid))
    await session.execute(delete(User).where(User.id == uid))
    session.expunge(student)
    # after the scrub above, which would take these for mentions of the pupil in a post's text
    await stories.announce_after_erasure(session, changed_posts)
    audit.record(session, school_id, actor_id, "student.erased", "student", sid)
    return sorted(set(keys))


class EraseRefused(Exception):
    """The account may not be erased (a pupil, or the school's last admin)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def erase_account(session: AsyncSession, user: User) -> list[str]:
    """Erase an adult's account; their messages stay for the other party with the text removed.

    A message whose ``sender_id`` is empty and which is not a system message is shown as
    from "deleted user"; its text is blanked and its cached translations forgotten.
    """
    if user.role == "student":
        raise EraseRefused("pupil")
    if user.role == "admin":
        admins = await session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.school_id == user.school_id, User.role == "admin", User.id != user.id)
        )
        if not admins:
            raise EraseRefused("last_admin")
    uid, school_id = user.id, user.school_id
    sent = (await session.execute(select(Message.id, Message.text).where(Message.sender_id == uid))).all()
    await _forget_texts(session, [row.text for row in sent])
    await forget_reports(session, "message", [row.id for row in sent])
    await forget_reports_by(session, uid)
    if sent:
        await session.execute(
            update(Message)
            .where(Message.sender_id == uid)
            .values(text=DELETED_TEXT, sender_id=None, client_id=None)
        )
    await session.execute(delete(GuardianLink).where(GuardianLink.guardian_id == uid))
    await session.execute(delete(GuardianRequest).where(GuardianRequest.user_id == uid))
    await session.execute(delete(Like).where(Like.user_id == uid))
    await session.execute(delete(Session).where(Session.user_id == uid))
    await session.execute(delete(PolicyAcceptance).where(PolicyAcceptance.user_id == uid))
    await session.execute(
        delete(AuditEntry).where(
            AuditEntry.school_id == school_id, AuditEntry.target_type == "user", AuditEntry.target_id == uid
        )
    )
    keys = await drop_uploads_of(session, uid)
    await session.execute(delete(User).where(User.id == uid))
    session.expunge(user)
    audit.record(session, school_id, None, "user.erased", "user", uid)
    return keys


def _orphans(root: Path, known: set[str], older_than: float) -> list[Path]:
    found: list[Path] = []
    if not root.is_dir():
        return found
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            name = path.name
            if name.startswith(".part-") or not path.is_file():
                continue
            key = name.split(".", 1)[0]  # keys have no dots: ".display", ".poster", ".src" are theirs
            if key not in known and path.stat().st_mtime < older_than:
                found.append(path)
    return found


async def sweep_orphan_files(services: Services, grace: float = ORPHAN_GRACE_SECONDS) -> int:
    """Remove stored files no ``media`` row names (left by a crash after an erasure committed)."""
    storage = storage_of(services)
    if not isinstance(storage, LocalStorage):
        return 0
    async with services.read() as session:
        known = set((await session.scalars(select(Media.key))).all())
    # An upload writes its file before its row commits: spare files younger than the grace period.
    doomed = await asyncio.to_thread(_orphans, storage.root, known, time.time() - grace)
    for path in doomed:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    return len(doomed)


class OrphanFilePart:
    """At start-up, removes media files whose records an erasure deleted before a crash."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None

    async def start(self, services: Services) -> None:
        self.task = asyncio.create_task(self._run(services), name="orphan-file-sweep")

    async def _run(self, services: Services) -> None:
        try:
            removed = await sweep_orphan_files(services)
        except Exception:  # never stops the server; the next start-up tries again
            log.exception("sweeping orphaned media files failed")
            return
        if removed:
            log.info("removed %d orphaned media files", removed)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
