"""Who may see a file, wherever it is attached (posts, messages, activities, submissions), and claiming."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from server.db.models import (
    Activity,
    ActivityMedia,
    Conversation,
    Media,
    Message,
    MessageMedia,
    Report,
    Submission,
    SubmissionMedia,
)
from server.errors import ApiError
from server.media import can_view_media, claim_media
from tests.factories import Actor, World, principal_of, upload_id


async def _sees(world: World, actor: Actor, media_id: int) -> bool:
    async with world.services.read() as session:
        media = await session.get(Media, media_id)
        assert media is not None
        return await can_view_media(session, principal_of(actor), media)


async def test_p16_message_files_are_for_the_two_members_and_admins_once_reported(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    other_parent = await world.add_parent(pupil)
    other_teacher = await world.add_user("teacher")
    media_id = await upload_id(api, parent)
    async with world.services.transaction() as session:
        conversation = Conversation(
            school_id=world.school.id,
            student_id=pupil.student.id,
            guardian_id=parent.id,
            staff_id=world.teacher.id,
        )
        session.add(conversation)
        await session.flush()
        message = Message(conversation_id=conversation.id, sender_id=parent.id, text="note from the doctor")
        session.add(message)
        await session.flush()
        session.add(MessageMedia(message_id=message.id, media_id=media_id))
    assert await _sees(world, parent, media_id)
    assert await _sees(world, world.teacher, media_id)
    for outsider in (other_parent, other_teacher, world.admin, pupil):
        assert not await _sees(world, outsider, media_id)
    async with world.services.transaction() as session:
        session.add(
            Report(school_id=world.school.id, message_id=message.id, reporter_id=world.teacher.id, reason="x")
        )
    assert await _sees(world, world.admin, media_id)
    assert not await _sees(world, other_teacher, media_id)


async def test_activity_files_are_for_the_class(api: httpx.AsyncClient, world: World) -> None:
    other_class = await world.add_class("Year 2")
    pupil = await world.add_student(world.classes[0])
    outsider = await world.add_student(other_class)
    parent, outsider_parent = await world.add_parent(pupil), await world.add_parent(outsider)
    media_id = await upload_id(api, world.teacher)
    async with world.services.transaction() as session:
        activity = Activity(school_id=world.school.id, class_id=world.classes[0].id, title="Spellings")
        session.add(activity)
        await session.flush()
        session.add(ActivityMedia(activity_id=activity.id, media_id=media_id))
    for member in (pupil, parent, world.office):
        assert await _sees(world, member, media_id)
    for other in (outsider, outsider_parent):
        assert not await _sees(world, other, media_id)


async def test_submission_files_reach_guardians_only_once_approved(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil = await world.add_student(world.classes[0])
    classmate = await world.add_student(world.classes[0], "Leo")
    parent = await world.add_parent(pupil)
    media_id = await upload_id(api, pupil)
    async with world.services.transaction() as session:
        submission = Submission(school_id=world.school.id, student_id=pupil.student.id, text="My volcano")
        session.add(submission)
        await session.flush()
        session.add(SubmissionMedia(submission_id=submission.id, media_id=media_id))
    assert await _sees(world, pupil, media_id)
    assert await _sees(world, world.teacher, media_id)
    assert not await _sees(world, parent, media_id)
    assert not await _sees(world, classmate, media_id)
    async with world.services.transaction() as session:
        found = await session.scalar(select(Submission).where(Submission.id == submission.id))
        found.status = "approved"
    assert await _sees(world, parent, media_id)
    assert not await _sees(world, classmate, media_id)


async def test_claim_keeps_order_drops_repeats_and_names_foreign_ids(
    api: httpx.AsyncClient, world: World
) -> None:
    mine = [await upload_id(api, world.teacher) for _ in range(3)]
    theirs = await upload_id(api, world.admin)
    async with world.services.read() as session:
        claimed = await claim_media(
            session, principal_of(world.teacher), [mine[2], mine[0], mine[2], mine[1]]
        )
        assert [m.id for m in claimed] == [mine[2], mine[0], mine[1]]
        with pytest.raises(ApiError) as refused:
            await claim_media(session, principal_of(world.teacher), [mine[0], theirs, 2**40])
        assert refused.value.status == 422
        assert refused.value.details["media_ids"] == [theirs, 2**40]
        with pytest.raises(ApiError) as too_many:
            await claim_media(session, principal_of(world.teacher), list(range(1, 12)))
        assert too_many.value.code == "validation_error"


async def test_files_of_another_school_are_invisible(api: httpx.AsyncClient, world: World) -> None:
    from tests.factories import make_world

    elsewhere = await make_world(world.services)
    media_id = await upload_id(api, world.teacher)
    assert not await _sees(elsewhere, elsewhere.admin, media_id)
