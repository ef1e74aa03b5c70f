"""Fixtures for messaging tests: a family and a teacher with a conversation, at a known time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from tests.conftest import Clock
from tests.factories import Actor, World

# A Wednesday mid-morning in London (GMT), inside the default working hours.
WEDNESDAY_MORNING = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)
# A Friday evening in London (GMT), outside them.
FRIDAY_EVENING = datetime(2026, 3, 6, 18, 30, tzinfo=UTC)
MONDAY_OPENING = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


@dataclass
class Chat:
    """A pupil, their parent and the class teacher, with the parent's conversation with the teacher."""

    world: World
    pupil: Actor
    parent: Actor
    teacher: Actor
    id: int

    def messages_url(self) -> str:
        return f"/api/conversations/{self.id}/messages"


async def open_chat(
    api: httpx.AsyncClient, world: World, first_name: str = "Sam", language: str = "en"
) -> Chat:
    """A new family in the world's first class and their conversation with the teacher."""
    pupil, parent = await world.add_family(first_name, language=language)
    assert pupil.student is not None
    reply = await api.post(
        "/api/conversations",
        json={"student_id": pupil.student.id, "staff_id": world.teacher.id},
        headers=parent.headers,
    )
    assert reply.status_code == 201, reply.text
    return Chat(world, pupil, parent, world.teacher, reply.json()["id"])


@pytest.fixture
async def chat(api: httpx.AsyncClient, world: World, clock: Clock) -> Chat:
    """A conversation, with the clock on a Wednesday morning (working time) unless a test moves it."""
    clock.set(WEDNESDAY_MORNING)
    return await open_chat(api, world)
