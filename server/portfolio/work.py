"""Home learning and pupil portfolios (P6): activities set for a class, pupils' work, teacher approval.

Who sees what (anything else is 404, never 403, so ids of other families' work do not leak):

- an activity: the class's pupils, their guardians, and staff;
- a portfolio item (a submission): the pupil and staff always; the pupil's guardians only once a
  teacher approved it. A returned item goes back to the pupil alone, with the teacher's comment.
  An item is private to the pupil's family and staff: it is never part of a story.

Live events, written with the change and published after commit:

- ``activity.created`` / ``activity.updated`` {activity} and ``activity.deleted`` {activity_id}
  on ``class:{id}``;
- ``portfolio.submitted`` {item} on ``class:{id}:staff`` (the teachers' list of work to review);
- ``portfolio.approved`` {item} on ``student:{id}`` (the pupil, their guardians) and ``class:{id}:staff``;
- ``portfolio.returned`` {item} on ``user:{pupil's user id}`` and ``class:{id}:staff``. Guardians read
  ``student:{id}`` too, so a returned item never goes there.

Media are linked through ``activity_media`` and ``submission_media``; who may fetch a file is
decided by :mod:`server.media` from those links. No HTTP lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.engine import rowcount
from server.db.models import (
    Activity,
    ActivityMedia,
    Media,
    SchoolClass,
    Student,
    Submission,
    SubmissionMedia,
    User,
)
from server.errors import ApiError, conflict, forbidden, not_found, validation_error
from server.events import class_channel, class_staff_channel, emit, student_channel, user_channel
from server.language.interface import N_
from server.language.view import activity_translations
from server.media import claim_media, drop_unlinked, media_shape
from server.media.processing import any_processing
from server.school import audit
from server.school.access import get_class, is_guardian_of, names_for_classes, own_student
from server.timeutil import aware, iso

STATUSES = ("pending", "approved", "returned")
DECISIONS = {"approve": "approved", "return": "returned"}
GUARDIAN_STATUSES = ("approved",)


# -- pure rules --------------------------------------------------------------------------------


def user_ref(user: User) -> dict[str, Any]:
    """``{id, name, role}`` of a member of staff (or anyone) named on an activity or item."""
    return {"id": user.id, "name": user.name, "role": user.role}


def may_see_item(relation: str | None, status: str) -> bool:
    """Whether a reader with ``relation`` to the pupil ("staff", "pupil", "guardian") sees an item."""
    if relation in ("staff", "pupil"):
        return True
    return relation == "guardian" and status in GUARDIAN_STATUSES


def next_status(current: str, decision: str) -> str | None:
    """The status a teacher's decision leads to; None when it is already so; 409 when decided otherwise."""
    target = DECISIONS[decision]
    if current == target:
        return None
    if current != "pending":
        raise conflict(
            "already_decided",
            f"This work was already {current}.",
            status=current,
        )
    return target


def visible_statuses(relation: str, wanted: str | None) -> tuple[str, ...]:
    """Statuses a reader lists, narrowed to ``wanted`` when given (empty when they may not see it)."""
    allowed = STATUSES if relation in ("staff", "pupil") else GUARDIAN_STATUSES
    if wanted is None:
        return allowed
    return (wanted,) if wanted in allowed else ()


def is_late(created_at: datetime, due_at: datetime | None) -> bool:
    """Handed in after the activity's due time."""
    return due_at is not None and aware(created_at) > aware(due_at)


def relation_of(principal: Principal) -> str:
    """How a reader who passed the pupil check relates to the pupil: by role."""
    if principal.is_staff:
        return "staff"
    return "pupil" if principal.role == "student" else "guardian"


# -- activities --------------------------------------------------------------------------------


def activity_shape(activity: Activity, author: User | None, media: Sequence[Media] = ()) -> dict[str, Any]:
    """An activity as every class member sees it."""
    return {
        "id": activity.id,
        "class_id": activity.class_id,
        "title": activity.title,
        "instructions": activity.instructions,
        # The language it was written in: its author's (what translation starts from).
        "lang": author.language if author is not None else "en",
        "due_at": iso(activity.due_at),
        "created_by": user_ref(author) if author is not None else None,
        "created_at": iso(activity.created_at),
        "media": [media_shape(m) for m in media],
    }


async def shape_activities(
    session: AsyncSession, principal: Principal, activities: Sequence[Activity]
) -> list[dict[str, Any]]:
    """Activities for one reader: staff see how many items await review, a pupil their own latest."""
    if not activities:
        return []
    ids = [a.id for a in activities]
    authors = await _users(session, {a.created_by for a in activities if a.created_by is not None})
    media = await _media(session, ActivityMedia.activity_id, ActivityMedia.media_id, ids)
    shapes = {
        a.id: activity_shape(a, authors.get(a.created_by or 0), media.get(a.id, [])) for a in activities
    }
    if principal.is_staff:
        for shape in shapes.values():
            shape["counts"] = dict.fromkeys(STATUSES, 0)
        rows = await session.execute(
            select(Submission.activity_id, Submission.status, func.count())
            .where(Submission.activity_id.in_(ids))
            .group_by(Submission.activity_id, Submission.status)
        )
        for activity_id, status, count in rows:
            assert activity_id is not None  # matched by `in_(ids)` above
            shapes[activity_id]["counts"][status] = count
    elif principal.role == "student":
        pupil = await own_student(session, principal.id)
        for shape in shapes.values():
            shape["my_submission"] = None
        if pupil is not None:
            mine = await session.execute(
                select(Submission.activity_id, Submission.id, Submission.status)
                .where(Submission.student_id == pupil.id, Submission.activity_id.in_(ids))
                .order_by(Submission.id)
            )
            for activity_id, submission_id, status in mine:
                assert activity_id is not None  # matched by `in_(ids)` above
                shapes[activity_id]["my_submission"] = {"id": submission_id, "status": status}
    return [shapes[i] for i in ids]


async def list_activities(
    session: AsyncSession,
    school_class: SchoolClass,
    before: int | None,
    limit: int,
    reader_id: int | None = None,
) -> list[Activity]:
    """A class's activities, newest first (one waiting for its recordings: its author's alone)."""
    query = select(Activity).where(
        Activity.class_id == school_class.id,
        or_(Activity.awaiting_media.is_(False), Activity.created_by == reader_id),
    )
    if before is not None:
        query = query.where(Activity.id < before)
    rows = await session.scalars(query.order_by(Activity.id.desc()).limit(limit))
    return list(rows.all())


async def get_activity(session: AsyncSession, principal: Principal, activity_id: int) -> Activity:
    """An activity of a class the reader belongs to (pupil, guardian, staff), else 404."""
    found = await session.get(Activity, activity_id)
    if found is None or found.school_id != principal.school_id:
        raise not_found(N_("That activity"))
    if found.awaiting_media and found.created_by != principal.id:
        raise not_found(N_("That activity"))
    try:
        await get_class(session, principal, found.class_id)
    except ApiError:
        raise not_found(N_("That activity")) from None
    return found


async def _emit_activity(
    session: AsyncSession, event_type: str, shape: dict[str, Any], channel: str | None = None
) -> None:
    """Tell the class (or ``channel``), with the cached translations so each reader gets their language."""
    translations = await activity_translations(session, shape["title"], shape["instructions"], shape["lang"])
    emit(
        session,
        channel or class_channel(shape["class_id"]),
        event_type,
        {"activity": {**shape, "translations": translations}},
    )


async def create_activity(
    session: AsyncSession,
    principal: Principal,
    school_class: SchoolClass,
    *,
    title: str,
    instructions: str,
    due_at: datetime | None,
    media_ids: Sequence[int],
    now: datetime,
) -> dict[str, Any]:
    """Set a home-learning task for a class, with the caller's uploads attached, and announce it."""
    media = await claim_media(session, principal, list(media_ids))
    activity = Activity(
        school_id=principal.school_id,
        class_id=school_class.id,
        title=title,
        instructions=instructions,
        due_at=due_at.astimezone(UTC) if due_at is not None else None,
        created_by=principal.id,
        awaiting_media=any_processing(media),
        created_at=now,
    )
    session.add(activity)
    await session.flush()
    session.add_all(ActivityMedia(activity_id=activity.id, media_id=m.id) for m in media)
    audit.record(session, principal.school_id, principal.id, "activity.created", "activity", activity.id)
    shape = activity_shape(activity, principal.user, media)
    # With recordings still processing, the class hears of it when they are ready.
    channel = user_channel(principal.id) if activity.awaiting_media else None
    await _emit_activity(session, "activity.created", shape, channel)
    return shape


async def announce_ready_activity(session: AsyncSession, services: object, activity_id: int) -> None:
    """Announce an activity whose recordings are all ready now."""
    activity = await session.get(Activity, activity_id, populate_existing=True)
    if activity is None:
        return
    author = await session.get(User, activity.created_by) if activity.created_by else None
    media = await _media(session, ActivityMedia.activity_id, ActivityMedia.media_id, [activity.id])
    shape = activity_shape(activity, author, media.get(activity.id, []))
    await _emit_activity(session, "activity.created", shape)


async def announce_ready_submission(session: AsyncSession, services: object, submission_id: int) -> None:
    """Hand in a pupil's work to the staff once its recordings are all ready."""
    item = await session.get(Submission, submission_id, populate_existing=True)
    if item is None or item.status != "pending":
        return
    pupil = await session.get(Student, item.student_id)
    if pupil is None:
        return
    [shape] = await shape_items(session, [item])
    emit(session, class_staff_channel(pupil.class_id), "portfolio.submitted", {"item": shape})


async def update_activity(
    session: AsyncSession, principal: Principal, activity: Activity, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change an activity's title, instructions or due time, and tell the class."""
    for field in ("title", "instructions"):
        if field in changes:
            setattr(activity, field, changes[field])
    if "due_at" in changes:
        activity.due_at = changes["due_at"].astimezone(UTC) if changes["due_at"] is not None else None
    await session.flush()
    audit.record(
        session,
        principal.school_id,
        principal.id,
        "activity.updated",
        "activity",
        activity.id,
        fields=sorted(changes),
    )
    authors = await _users(session, {activity.created_by} if activity.created_by else set())
    media = await _media(session, ActivityMedia.activity_id, ActivityMedia.media_id, [activity.id])
    shape = activity_shape(activity, authors.get(activity.created_by or 0), media.get(activity.id, []))
    await _emit_activity(session, "activity.updated", shape)
    return shape


async def delete_activity(session: AsyncSession, principal: Principal, activity: Activity) -> list[str]:
    """Remove an activity; work already handed in stays in the pupils' portfolios.

    Returns the storage keys of attachments nothing else links, to delete after commit.
    """
    audit.record(session, principal.school_id, principal.id, "activity.deleted", "activity", activity.id)
    class_id, activity_id = activity.class_id, activity.id
    attached = list(
        (
            await session.scalars(
                select(ActivityMedia.media_id).where(ActivityMedia.activity_id == activity_id)
            )
        ).all()
    )
    await session.execute(delete(ActivityMedia).where(ActivityMedia.activity_id == activity_id))
    await session.execute(
        update(Submission).where(Submission.activity_id == activity_id).values(activity_id=None)
    )
    await session.execute(delete(Activity).where(Activity.id == activity_id))
    emit(session, class_channel(class_id), "activity.deleted", {"activity_id": activity_id})
    return await drop_unlinked(session, attached)


# -- portfolio items ---------------------------------------------------------------------------


async def shape_items(session: AsyncSession, items: Sequence[Submission]) -> list[dict[str, Any]]:
    """Portfolio items as their readers see them, in a fixed number of queries."""
    if not items:
        return []
    activity_ids = {i.activity_id for i in items if i.activity_id is not None}
    activities: dict[int, tuple[str, datetime | None]] = {}
    if activity_ids:
        rows = await session.execute(
            select(Activity.id, Activity.title, Activity.due_at).where(Activity.id.in_(activity_ids))
        )
        activities = {row[0]: (row[1], row[2]) for row in rows}
    pupils = await session.execute(
        select(Student.id, Student.class_id).where(Student.id.in_({i.student_id for i in items}))
    )
    class_of: dict[int, int] = {student_id: class_id for student_id, class_id in pupils}
    names = await names_for_classes(session, set(class_of.values()))
    deciders = await _users(session, {i.decided_by for i in items if i.decided_by is not None})
    media = await _media(
        session, SubmissionMedia.submission_id, SubmissionMedia.media_id, [i.id for i in items]
    )
    shaped = []
    for item in items:
        activity = activities.get(item.activity_id or 0)
        shaped.append(
            {
                "id": item.id,
                "activity": (
                    {"id": item.activity_id, "title": activity[0], "due_at": iso(activity[1])}
                    if activity is not None
                    else None
                ),
                "student": {"id": item.student_id, "name": names.get(item.student_id, "")},
                "class_id": class_of.get(item.student_id),
                "text": item.text,
                "media": [media_shape(m) for m in media.get(item.id, [])],
                "status": item.status,
                "comment": item.comment,
                # The comment's language: its author's (what translation starts from).
                "comment_lang": deciders[item.decided_by].language if item.decided_by in deciders else "en",
                "late": is_late(item.created_at, activity[1] if activity else None),
                "created_at": iso(item.created_at),
                "decided_at": iso(item.decided_at),
                "decided_by": user_ref(deciders[item.decided_by]) if item.decided_by in deciders else None,
            }
        )
    return shaped


async def submit(
    session: AsyncSession,
    principal: Principal,
    activity_id: int,
    *,
    text: str,
    media_ids: Sequence[int],
    now: datetime,
) -> dict[str, Any]:
    """A pupil hands in work (words, files of their own) for an activity of their class; it awaits review."""
    pupil = await own_student(session, principal.id) if principal.role == "student" else None
    if pupil is None:
        raise forbidden(N_("Only pupils hand in work."))
    activity = await session.get(Activity, activity_id)
    if activity is None or activity.school_id != principal.school_id or activity.class_id != pupil.class_id:
        raise not_found(N_("That activity"))
    if not text and not media_ids:
        raise validation_error(N_("Write something or add a file to hand in."), fields={"text": "empty"})
    media = await claim_media(session, principal, list(media_ids))
    item = Submission(
        school_id=principal.school_id,
        activity_id=activity.id,
        student_id=pupil.id,
        text=text,
        status="pending",
        awaiting_media=any_processing(media),
        created_at=now,
    )
    session.add(item)
    await session.flush()
    session.add_all(SubmissionMedia(submission_id=item.id, media_id=m.id) for m in media)
    await session.flush()
    [shape] = await shape_items(session, [item])
    # A recording still processing: staff see (and hear of) the work once it is ready.
    channel = user_channel(principal.id) if item.awaiting_media else class_staff_channel(pupil.class_id)
    emit(session, channel, "portfolio.submitted", {"item": shape})
    return shape


async def decide(
    session: AsyncSession,
    principal: Principal,
    submission_id: int,
    decision: str,
    *,
    comment: str,
    now: datetime,
) -> dict[str, Any]:
    """A teacher approves (guardians then see it) or returns (back to the pupil) a pending item.

    Deciding the same way twice changes nothing; deciding an item already decided the other way is 409.
    """
    if not principal.is_staff:
        raise forbidden(N_("Only staff approve or return work."))
    item = await session.get(Submission, submission_id)
    if item is None or item.school_id != principal.school_id or item.awaiting_media:
        raise not_found(N_("That work"))
    target = next_status(item.status, decision)
    if target is None:
        return (await shape_items(session, [item]))[0]
    changed = await session.execute(
        update(Submission)
        .where(Submission.id == item.id, Submission.status == "pending")
        .values(status=target, comment=comment, decided_by=principal.id, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(item)
    # Nothing changed when another member of staff decided it at the same moment:
    # the same decision is then already done, the other one is 409.
    if rowcount(changed) == 0 and next_status(item.status, decision) is None:
        return (await shape_items(session, [item]))[0]
    audit.record(session, principal.school_id, principal.id, f"portfolio.{target}", "submission", item.id)
    [shape] = await shape_items(session, [item])
    pupil = await session.get(Student, item.student_id)
    assert pupil is not None
    staff_channel = class_staff_channel(pupil.class_id)
    if target == "approved":
        emit(session, student_channel(pupil.id), "portfolio.approved", {"item": shape})
        emit(session, staff_channel, "portfolio.approved", {"item": shape})
    else:
        emit(session, user_channel(pupil.user_id), "portfolio.returned", {"item": shape})
        emit(session, staff_channel, "portfolio.returned", {"item": shape})
    return shape


async def relation_to(session: AsyncSession, principal: Principal, student_id: int) -> str | None:
    """The reader's relation to the pupil ("staff", "pupil", "guardian"), or None."""
    if principal.is_staff:
        return "staff"
    if principal.role == "student":
        pupil = await own_student(session, principal.id)
        return "pupil" if pupil is not None and pupil.id == student_id else None
    if principal.role == "parent":
        return "guardian" if await is_guardian_of(session, principal.id, student_id) else None
    return None


async def get_item(session: AsyncSession, principal: Principal, submission_id: int) -> dict[str, Any]:
    """One portfolio item, for those allowed to see it (see the module docstring), else 404."""
    item = await session.get(Submission, submission_id)
    if item is None or item.school_id != principal.school_id:
        raise not_found(N_("That work"))
    relation = await relation_to(session, principal, item.student_id)
    if not may_see_item(relation, item.status) or (item.awaiting_media and relation != "pupil"):
        raise not_found(N_("That work"))
    return (await shape_items(session, [item]))[0]


def _page_query(
    query: Select[Submission], statuses: Sequence[str], before: int | None, limit: int
) -> Select[Submission]:
    query = query.where(Submission.status.in_(statuses))
    if before is not None:
        query = query.where(Submission.id < before)
    return query.order_by(Submission.id.desc()).limit(limit)


async def portfolio_of(
    session: AsyncSession,
    principal: Principal,
    pupil: Student,
    *,
    status: str | None,
    before: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """A pupil's portfolio for a reader already allowed to see the pupil: guardians see approved items."""
    statuses = visible_statuses(relation_of(principal), status)
    if not statuses:
        return [], None
    query = select(Submission).where(Submission.student_id == pupil.id)
    if relation_of(principal) != "pupil":  # work waiting for its recordings is the pupil's alone
        query = query.where(Submission.awaiting_media.is_(False))
    query = _page_query(query, statuses, before, limit)
    return await _page(session, list((await session.scalars(query)).all()), limit)


async def own_portfolio(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    before: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """A pupil's own items, every status."""
    pupil = await own_student(session, principal.id) if principal.role == "student" else None
    if pupil is None:
        raise forbidden(N_("This list is for pupils."))
    return await portfolio_of(session, principal, pupil, status=status, before=before, limit=limit)


async def class_items(
    session: AsyncSession,
    school_class: SchoolClass,
    *,
    status: str | None,
    activity_id: int | None,
    before: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """Work handed in by a class's pupils, newest first, for staff."""
    query = select(Submission).join(Student, Student.id == Submission.student_id)
    query = query.where(Student.class_id == school_class.id, Submission.awaiting_media.is_(False))
    if activity_id is not None:
        query = query.where(Submission.activity_id == activity_id)
    query = _page_query(query, (status,) if status else STATUSES, before, limit)
    return await _page(session, list((await session.scalars(query)).all()), limit)


async def _page(
    session: AsyncSession, rows: list[Submission], limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    next_before = rows[-1].id if len(rows) == limit else None
    return await shape_items(session, rows), next_before


async def _media(
    session: AsyncSession, owner: Any, media_id: Any, owner_ids: Sequence[int]
) -> dict[int, list[Media]]:
    """Files linked to each owner (activity or submission) through a link table, in upload order."""
    if not owner_ids:
        return {}
    rows = await session.execute(
        select(owner, Media).join(Media, Media.id == media_id).where(owner.in_(owner_ids)).order_by(Media.id)
    )
    found: dict[int, list[Media]] = {}
    for owner_id, file in rows:
        found.setdefault(owner_id, []).append(file)
    return found


async def _users(session: AsyncSession, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    rows = await session.scalars(select(User).where(User.id.in_(ids)))
    return {u.id: u for u in rows}
