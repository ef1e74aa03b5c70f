"""Files in home learning: photos and PDFs handed in by pupils, attachments set by teachers (P6, P12, P16)."""

from __future__ import annotations

import httpx

from server.portfolio.avatars import DEFAULT_AVATAR
from tests.factories import World, add_activity, events_on, pdf_bytes, upload_id


async def test_p6_photo_handed_in_approved_then_family_only(api: httpx.AsyncClient, world: World) -> None:
    """A pupil hands in a photo; the teacher approves; the guardian is told and can fetch it; no one else."""
    oak, ash = world.classes[0], await world.add_class("Year 3 Ash")
    pupil = await world.add_student(oak, "Amir", "Khan")
    assert pupil.student is not None
    parent = await world.add_parent(pupil)
    other_parent = await world.add_parent(await world.add_student(ash, "Zofia", "Nowak"))
    activity = await add_activity(world, oak, "Draw a minibeast")

    photo = await upload_id(api, pupil)
    handed_in = await api.post(
        f"/api/activities/{activity.id}/submissions", json={"media_ids": [photo]}, headers=pupil.headers
    )
    assert handed_in.status_code == 201, handed_in.text
    item = handed_in.json()
    assert item["text"] == "" and [m["id"] for m in item["media"]] == [photo]
    media_url = item["media"][0]["url"]
    [submitted] = await events_on(world.services, f"class:{oak.id}:staff", "portfolio.submitted")
    assert submitted["data"]["item"] == item
    assert (await api.get(media_url, headers=world.teacher.headers)).status_code == 200
    assert (await api.get(media_url, headers=pupil.headers)).status_code == 200
    assert (await api.get(media_url, headers=parent.headers)).status_code == 404  # pending

    refused = await api.post(f"/api/submissions/{item['id']}/approve", json={}, headers=pupil.headers)
    assert refused.status_code == 403
    approved = await api.post(
        f"/api/submissions/{item['id']}/approve", json={}, headers=world.teacher.headers
    )
    assert approved.status_code == 200
    [event] = await events_on(world.services, f"student:{pupil.student.id}", "portfolio.approved")
    assert event["data"]["item"]["media"][0]["url"] == media_url

    fetched = await api.get(media_url, headers=parent.headers)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/jpeg" and fetched.content[:2] == b"\xff\xd8"
    assert fetched.headers["cache-control"].startswith("private")
    for outsider in (other_parent,):
        assert (await api.get(f"/api/submissions/{item['id']}", headers=outsider.headers)).status_code == 404
        assert (await api.get(media_url, headers=outsider.headers)).status_code == 404

    bad_avatar = await api.patch(
        "/api/me/avatar", json={"avatar": {**DEFAULT_AVATAR, "body": "dragon"}}, headers=pupil.headers
    )
    assert bad_avatar.status_code == 422
    assert bad_avatar.json()["error"]["details"]["fields"] == {"avatar.body": "unknown_part"}


async def test_p6_returned_work_files_stay_with_the_pupil(api: httpx.AsyncClient, world: World) -> None:
    oak = world.classes[0]
    pupil = await world.add_student(oak)
    parent = await world.add_parent(pupil)
    activity = await add_activity(world, oak)
    letter = await upload_id(api, pupil, pdf_bytes("My story"))
    item = (
        await api.post(
            f"/api/activities/{activity.id}/submissions",
            json={"text": "My story", "media_ids": [letter]},
            headers=pupil.headers,
        )
    ).json()
    assert item["media"][0]["kind"] == "pdf"
    await api.post(
        f"/api/submissions/{item['id']}/return",
        json={"comment": "Add an ending"},
        headers=world.teacher.headers,
    )
    url = item["media"][0]["url"]
    assert (await api.get(url, headers=pupil.headers)).status_code == 200
    assert (await api.get(url, headers=parent.headers)).status_code == 404


async def test_pupils_attach_only_their_own_uploads(api: httpx.AsyncClient, world: World) -> None:
    oak = world.classes[0]
    amir = await world.add_student(oak)
    maya = await world.add_student(oak, "Maya", "Ali")
    activity = await add_activity(world, oak)
    mayas_photo = await upload_id(api, maya)
    teachers_photo = await upload_id(api, world.teacher)
    for media_id in (mayas_photo, teachers_photo, 999999):
        response = await api.post(
            f"/api/activities/{activity.id}/submissions",
            json={"text": "Mine!", "media_ids": [media_id]},
            headers=amir.headers,
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"]["media_ids"] == [media_id]
    assert await events_on(world.services, f"class:{oak.id}:staff") == []


async def test_p12_portfolio_media_never_goes_on_a_story(api: httpx.AsyncClient, world: World) -> None:
    """Work samples are private to the family and staff: a teacher cannot post a pupil's file to the class."""
    oak = world.classes[0]
    pupil = await world.add_student(oak, photo_consent=True)
    activity = await add_activity(world, oak)
    photo = await upload_id(api, pupil)
    item = (
        await api.post(
            f"/api/activities/{activity.id}/submissions", json={"media_ids": [photo]}, headers=pupil.headers
        )
    ).json()
    await api.post(f"/api/submissions/{item['id']}/approve", json={}, headers=world.teacher.headers)
    post = await api.post(
        f"/api/classes/{oak.id}/posts",
        json={"text": "Look!", "media_ids": [photo]},
        headers=world.teacher.headers,
    )
    assert post.status_code == 422
    assert (await api.get(f"/api/classes/{oak.id}/posts", headers=world.teacher.headers)).json()[
        "items"
    ] == []


async def test_activity_attachments_reach_the_class_only(api: httpx.AsyncClient, world: World) -> None:
    oak, ash = world.classes[0], await world.add_class("Year 3 Ash")
    pupil = await world.add_student(oak)
    parent = await world.add_parent(pupil)
    other_parent = await world.add_parent(await world.add_student(ash, "Zofia", "Nowak"))
    sheet = await upload_id(api, world.teacher, pdf_bytes("Times tables"))
    created = await api.post(
        f"/api/classes/{oak.id}/activities",
        json={"title": "Times tables", "media_ids": [sheet]},
        headers=world.teacher.headers,
    )
    assert created.status_code == 201
    activity = created.json()
    assert [m["id"] for m in activity["media"]] == [sheet]
    url = activity["media"][0]["url"]
    for member in (pupil, parent):
        assert (await api.get(f"/api/activities/{activity['id']}", headers=member.headers)).json()[
            "media"
        ] == activity["media"]
        assert (await api.get(url, headers=member.headers)).status_code == 200
    assert (await api.get(url, headers=other_parent.headers)).status_code == 404
    deleted = await api.delete(f"/api/activities/{activity['id']}", headers=world.teacher.headers)
    assert deleted.status_code == 200
    assert (await api.get(url, headers=world.teacher.headers)).status_code == 404


async def test_bad_attachments_on_activities_are_refused(api: httpx.AsyncClient, world: World) -> None:
    oak = world.classes[0]
    pupil = await world.add_student(oak)
    pupils_photo = await upload_id(api, pupil)
    url = f"/api/classes/{oak.id}/activities"
    for media_ids in ([pupils_photo], [0], ["x"], list(range(1, 12))):
        response = await api.post(
            url, json={"title": "Hi", "media_ids": media_ids}, headers=world.teacher.headers
        )
        assert response.status_code == 422, media_ids
    assert (await api.get(url, headers=world.teacher.headers)).json()["items"] == []
