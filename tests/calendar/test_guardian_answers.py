"""A family reads back its own answers (``GET /api/events/{id}/responses/mine``), from any phone."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.calendar.test_events_api import create
from tests.calendar.test_responses_api import answer
from tests.conftest import Clock
from tests.factories import World

BEFORE = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


async def test_a_guardian_reads_only_their_own_childrens_answers(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    clock.set(BEFORE)
    maya, maya_parent = await world.add_family("Maya")
    ben, ben_parent = await world.add_family("Ben")
    event = await create(api, world)
    assert (await answer(api, event, maya, maya_parent, "yes", "Packed lunch.")).status_code == 200
    assert (await answer(api, event, ben, ben_parent, "no")).status_code == 200

    mine = await api.get(f"/api/events/{event['id']}/responses/mine", headers=maya_parent.headers)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["respond_by"] == event["respond_by"]
    assert [(i["student"]["id"], i["answer"], i["note"]) for i in body["items"]] == [
        (maya.student.id, "yes", "Packed lunch.")  # type: ignore[union-attr]
    ]


async def test_staff_use_the_full_list_not_this_one(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    clock.set(BEFORE)
    event = await create(api, world)
    reply = await api.get(f"/api/events/{event['id']}/responses/mine", headers=world.teacher.headers)
    assert reply.status_code == 403
