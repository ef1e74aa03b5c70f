"""School events live across two server processes sharing PostgreSQL and Redis (issue #18)."""

from __future__ import annotations

import httpx
import pytest

from server.events import validate_event
from tests.live.client import LiveClient
from tests.live.conftest import Site

pytestmark = pytest.mark.live

TRIP = {
    "title": "Trip to the farm",
    "details": "Bring a packed lunch.",
    "starts_at": "2027-06-10T09:00:00+01:00",
    "ends_at": "2027-06-10T15:00:00+01:00",
    "rsvp": "consent",
}


async def test_an_events_creation_edit_and_cancellation_reach_the_class_families_on_the_other_process(
    redis_site: Site,
) -> None:
    a, b = redis_site.servers
    world = await redis_site.world()
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil, language="es")
    channel = f"class:{world.classes[0].id}"
    async with (
        LiveClient.connect(b.ws_url, parent.token) as family,
        httpx.AsyncClient(base_url=a.http_url, timeout=10) as http,
    ):
        assert (await family.subscribe(channel))["op"] == "subbed"
        created = await http.post(
            f"/api/classes/{world.classes[0].id}/events", json=TRIP, headers=world.teacher.headers
        )
        assert created.status_code == 201, created.text
        path = f"/api/events/{created.json()['id']}"
        edited = await http.patch(path, json={"location": "Dale Farm"}, headers=world.teacher.headers)
        assert edited.status_code == 200, edited.text
        cancelled = await http.delete(path, headers=world.teacher.headers)
        assert cancelled.status_code == 200, cancelled.text
        frames = await family.events(channel, 3, deadline=15)
    assert [f["type"] for f in frames] == ["event.created", "event.updated", "event.cancelled"]
    for frame in frames:
        validate_event(frame["type"], frame["data"])
        assert frame["data"]["event"]["id"] == created.json()["id"]
        # Rendered for this reader: the original is kept, the translation state is theirs.
        assert frame["data"]["event"]["original"]["title"] == "Trip to the farm"
        assert "translations" not in frame["data"]["event"]
    assert frames[1]["data"]["event"]["location"] == "Dale Farm"
    assert frames[2]["data"]["event"]["cancelled"] is True


async def test_a_consent_answer_reaches_the_class_staff_and_a_removed_or_leavers_guardian_is_refused(
    redis_site: Site,
) -> None:
    a, b = redis_site.servers
    world = await redis_site.world()
    maya = await world.add_student(world.classes[0], "Maya", "Jones")
    parent = await world.add_parent(maya)
    removed = await world.add_parent(maya)
    leo = await world.add_student(world.classes[0], "Leo", "Smith")
    leo_parent = await world.add_parent(leo)
    staff_channel = f"class:{world.classes[0].id}:staff"
    async with (
        LiveClient.connect(b.ws_url, world.teacher.token) as teacher,
        httpx.AsyncClient(base_url=a.http_url, timeout=10) as http,
    ):
        assert (await teacher.subscribe(staff_channel))["op"] == "subbed"
        event = (
            await http.post(
                f"/api/classes/{world.classes[0].id}/events", json=TRIP, headers=world.teacher.headers
            )
        ).json()
        answer_path = f"/api/events/{event['id']}/responses"
        given = await http.put(
            f"{answer_path}/{maya.student.id}",  # type: ignore[union-attr]
            json={"answer": "yes", "note": "Packed lunch sorted"},
            headers=parent.headers,
        )
        assert given.status_code == 200, given.text
        (frame,) = await teacher.events(staff_channel, 1, deadline=15)
        assert frame["type"] == "event.answered"
        validate_event(frame["type"], frame["data"])
        assert frame["data"]["response"]["student"]["id"] == maya.student.id  # type: ignore[union-attr]
        assert frame["data"]["response"]["answer"] == "yes"

        unlinked = await http.delete(
            f"/api/students/{maya.student.id}/guardians/{removed.id}",  # type: ignore[union-attr]
            headers=world.admin.headers,
        )
        assert unlinked.status_code in (200, 204), unlinked.text
        refused = await http.put(
            f"{answer_path}/{maya.student.id}",
            json={"answer": "no"},
            headers=removed.headers,  # type: ignore[union-attr]
        )
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
        left = await http.patch(
            f"/api/students/{leo.student.id}",  # type: ignore[union-attr]
            json={"left_at": "2026-01-01T00:00:00+00:00"},
            headers=world.admin.headers,
        )
        assert left.status_code == 200, left.text
        refused = await http.put(
            f"{answer_path}/{leo.student.id}",
            json={"answer": "no"},
            headers=leo_parent.headers,  # type: ignore[union-attr]
        )
        assert refused.status_code == 404
        listed = await http.get(answer_path, headers=world.teacher.headers)
    assert listed.json()["counts"] == {"yes": 1, "no": 0, "unanswered": 0}  # the leaver is out of the list
