"""A family with something of every kind the server holds about a pupil and their guardian."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.db.models import (
    Conversation,
    GuardianRequest,
    Media,
    Message,
    Submission,
    SubmissionMedia,
    Translation,
)
from server.language.stored import content_hash
from server.services import Services
from tests.factories import Actor, World, upload


@dataclass
class Family:
    """A pupil, their parent and the words and files that belong to them alone."""

    pupil: Actor
    parent: Actor
    first: str
    last: str
    words: list[str] = field(default_factory=list)
    media_keys: list[str] = field(default_factory=list)
    post_id: int = 0


async def _photo(api: httpx.AsyncClient, actor: Actor, name: str) -> int:
    response = await upload(api, actor, name=name)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def build_family(api: httpx.AsyncClient, services: Services, world: World) -> Family:
    """Awards, a portfolio item with a photo, a tagged post, a like, messages and translations."""
    tag = secrets.token_hex(4)
    first, last = f"Zephyrine{tag}", f"Quillvane{tag}"
    school_class = world.classes[0]
    pupil = await world.add_student(school_class, first, last)
    assert pupil.student is not None
    parent = await world.add_parent(pupil, name=f"Ottoline{tag} Brackenbury{tag}", language="fr")
    await world.add_invite(pupil)
    family = Family(pupil, parent, first, last)
    sid = pupil.student.id

    award_note = f"Kind to everyone, {first}! {tag}"
    response = await api.post(
        "/api/points",
        json={"skill_id": world.skills[0].id, "student_ids": [sid], "note": award_note},
        headers=world.teacher.headers,
    )
    assert response.status_code in (200, 201), response.text

    photo_name = f"{first.lower()}-rocket-{tag}.jpg"
    portfolio_media = await _photo(api, world.teacher, photo_name)
    post_media = await _photo(api, world.teacher, f"class-trip-{tag}.jpg")
    post_text = f"Our trip to the seaside {tag}"
    response = await api.post(
        f"/api/classes/{school_class.id}/posts",
        json={"text": post_text, "media_ids": [post_media], "student_ids": [sid]},
        headers=world.teacher.headers,
    )
    assert response.status_code == 201, response.text
    family.post_id = int(response.json()["id"])
    response = await api.put(f"/api/posts/{family.post_id}/like", headers=parent.headers)
    assert response.status_code in (200, 201, 204), response.text

    response = await api.post(
        f"/api/classes/{school_class.id}/activities",
        json={"title": f"Draw a planet {tag}"},
        headers=world.teacher.headers,
    )
    assert response.status_code == 201, response.text
    activity_id = int(response.json()["id"])
    pupil_photo_name = f"{first.lower()}-planet-{tag}.jpg"
    pupil_photo = await _photo(api, pupil, pupil_photo_name)
    handed_in_text = f"My planet, by {first} {tag}"
    response = await api.post(
        f"/api/activities/{activity_id}/submissions",
        json={"text": handed_in_text, "media_ids": [pupil_photo]},
        headers=pupil.headers,
    )
    assert response.status_code == 201, response.text
    response = await api.post(
        f"/api/submissions/{response.json()['id']}/approve",
        json={"comment": f"Wonderful rings, {first}! {tag}"},
        headers=world.teacher.headers,
    )
    assert response.status_code == 200, response.text

    submission_text = f"My rocket by {first} {last}"
    parent_text = f"Is {first} feeling better today? {tag}"
    teacher_text = f"Yes, {first} was happy all day. {tag}"
    async with services.transaction() as session:
        submission = Submission(
            school_id=world.school.id, student_id=sid, text=submission_text, status="approved"
        )
        session.add(submission)
        conversation = Conversation(
            school_id=world.school.id, student_id=sid, guardian_id=parent.id, staff_id=world.teacher.id
        )
        session.add(conversation)
        await session.flush()
        session.add(SubmissionMedia(submission_id=submission.id, media_id=portfolio_media))
        session.add(
            Message(conversation_id=conversation.id, sender_id=parent.id, text=parent_text, lang="en")
        )
        session.add(Message(conversation_id=conversation.id, sender_id=world.teacher.id, text=teacher_text))
        for source, text in (
            (submission_text, f"Ma fusée par {first} {last}"),
            (parent_text, f"{first} va mieux ?"),
        ):
            session.add(
                Translation(
                    content_hash=content_hash(source), source="en", target="fr", text=text, engine="test"
                )
            )
        session.add(
            GuardianRequest(
                school_id=world.school.id,
                student_id=sid,
                name=f"Third{tag} Quillvane{tag}",
                email=f"third-{tag}@example.test",
            )
        )
        pupil_row = await session.get(type(pupil.student), sid)
        assert pupil_row is not None
        pupil_row.avatar = {"body": f"monster-{tag}"}
        keys = (
            await session.scalars(select(Media.key).where(Media.id.in_([portfolio_media, pupil_photo])))
        ).all()
    family.media_keys = list(keys)
    family.words = [first, last, photo_name, pupil_photo_name, award_note, submission_text, handed_in_text]
    family.words += [parent_text, teacher_text]
    family.words += family.media_keys
    return family


@pytest.fixture
async def family(api: httpx.AsyncClient, services: Services, world: World) -> Family:
    return await build_family(api, services, world)


def walk_json(value: Any) -> list[tuple[str, Any]]:
    """Every ``(key, value)`` pair inside a JSON value."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((str(key), item))
            found.extend(walk_json(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(walk_json(item))
    return found
