"""Class and school posts (P2, P12, P13): shape, who may post and read, edits, deletions, events, audit."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from server.db.models import AuditEntry, Post
from server.events import validate_event
from tests.factories import World, events_on, upload_id

POST_KEYS = {
    "id",
    "scope",
    "class_id",
    "author",
    "text",
    "lang",
    "original",
    "translation",
    "media",
    "students",
    "like_count",
    "liked",
    "created_at",
    "edited_at",
}


async def _post_count(world: World) -> int:
    async with world.services.read() as session:
        return int(await session.scalar(select(func.count()).where(Post.school_id == world.school.id)) or 0)


async def _audit(world: World, action: str) -> list[AuditEntry]:
    async with world.services.read() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.school_id == world.school.id, AuditEntry.action == action)
        )
        return list(rows.all())


async def test_p2_class_post_has_the_api_shape_for_its_families(api: httpx.AsyncClient, world: World) -> None:
    amir = await world.add_student(world.classes[0], "Amir", "Khan")
    await world.add_student(world.classes[0], "Amir", "Smith")
    parent = await world.add_parent(amir)
    media_id = await upload_id(api, world.teacher)
    created = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "  Tomorrow is PE day.\r\n", "media_ids": [media_id], "student_ids": [amir.student.id]},
        headers=world.teacher.headers,
    )
    assert created.status_code == 201, created.text
    post = created.json()
    assert set(post) == POST_KEYS
    assert post["scope"] == "class" and post["class_id"] == world.classes[0].id
    assert post["author"] == {"id": world.teacher.id, "name": "Mrs Patel"}
    assert post["text"] == "Tomorrow is PE day." and post["lang"] == "en"
    assert post["original"] == {"text": "Tomorrow is PE day.", "lang": "en"}
    assert post["students"] == [{"id": amir.student.id, "name": "Amir K."}]
    assert post["media"][0]["id"] == media_id and post["media"][0]["kind"] == "image"
    assert post["like_count"] == 0 and post["liked"] is False and post["edited_at"] is None
    read = await api.get(f"/api/posts/{post['id']}", headers=parent.headers)
    assert read.status_code == 200
    assert read.json()["translation"] == {"status": "not_needed"}
    assert read.json()["media"] == post["media"]


async def test_reader_in_another_language_gets_the_original_with_a_status(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil, language="es")
    created = await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": "Hello"}, headers=world.teacher.headers
    )
    read = (await api.get(f"/api/posts/{created.json()['id']}", headers=parent.headers)).json()
    assert read["text"] == "Hello" and read["lang"] == "en"
    assert read["original"] == {"text": "Hello", "lang": "en"}
    assert read["translation"]["status"] in {"unavailable", "pending", "ready"}


async def test_p2_school_post_reaches_every_member(api: httpx.AsyncClient, world: World) -> None:
    other = await world.add_class("Year 6")
    pupil = await world.add_student(other)
    parent = await world.add_parent(pupil)
    created = await api.post(
        "/api/school/posts", json={"text": "Sports day results!"}, headers=world.office.headers
    )
    assert created.status_code == 201
    post = created.json()
    assert post["scope"] == "school" and post["class_id"] is None
    for reader in (parent, pupil, world.teacher, world.admin):
        assert (await api.get(f"/api/posts/{post['id']}", headers=reader.headers)).status_code == 200
    listed = await api.get("/api/school/posts", headers=parent.headers)
    assert [p["id"] for p in listed.json()["items"]] == [post["id"]]
    events = await events_on(world.services, f"school:{world.school.id}", "post.created")
    assert [e["data"]["post"]["id"] for e in events] == [post["id"]]


async def test_p13_a_class_post_is_invisible_outside_its_class(api: httpx.AsyncClient, world: World) -> None:
    other = await world.add_class("Year 6")
    outsider = await world.add_student(other)
    outsider_parent = await world.add_parent(outsider)
    created = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Class 1 only"},
        headers=world.teacher.headers,
    )
    post_id = created.json()["id"]
    for reader in (outsider, outsider_parent):
        assert (await api.get(f"/api/posts/{post_id}", headers=reader.headers)).status_code == 404
        assert (
            await api.get(f"/api/classes/{world.classes[0].id}/posts", headers=reader.headers)
        ).status_code == 404
        assert (await api.put(f"/api/posts/{post_id}/like", headers=reader.headers)).status_code == 404
        feed = await api.get("/api/feed", headers=reader.headers)
        assert post_id not in [p["id"] for p in feed.json()["items"]]


async def test_p2_only_staff_post(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    for actor in (pupil, parent):
        class_post = await api.post(
            f"/api/classes/{world.classes[0].id}/posts", json={"text": "hi"}, headers=actor.headers
        )
        school_post = await api.post("/api/school/posts", json={"text": "hi"}, headers=actor.headers)
        assert class_post.status_code == school_post.status_code == 403
    assert await _post_count(world) == 0


async def test_p12_photo_tagging_a_pupil_without_consent_is_refused_naming_them(
    api: httpx.AsyncClient, world: World
) -> None:
    consenting = await world.add_student(world.classes[0], "Maya", "Ali")
    no_consent = await world.add_student(world.classes[0], "Amir", "Khan", photo_consent=False)
    await world.add_student(world.classes[0], "Amir", "Begum")
    in_care = await world.add_student(world.classes[0], "Leo", "Jones", la_care=True)
    media_id = await upload_id(api, world.teacher)
    tagged = [consenting.student.id, no_consent.student.id, in_care.student.id]
    refused = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Art gallery", "media_ids": [media_id], "student_ids": tagged},
        headers=world.teacher.headers,
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "consent_required"
    assert error["details"]["students"] == [
        {"id": no_consent.student.id, "name": "Amir K."},
        {"id": in_care.student.id, "name": "Leo"},
    ]
    assert "Amir K." in error["message"] and "Leo" in error["message"]
    assert await _post_count(world) == 0
    assert await events_on(world.services, f"class:{world.classes[0].id}") == []
    text_only = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Well done everyone", "student_ids": tagged},
        headers=world.teacher.headers,
    )
    assert text_only.status_code == 201


async def test_p12_an_edit_that_adds_a_photo_or_a_tag_is_checked_too(
    api: httpx.AsyncClient, world: World
) -> None:
    no_consent = await world.add_student(world.classes[0], "Amir", photo_consent=False)
    url = f"/api/classes/{world.classes[0].id}/posts"
    tagged = await api.post(
        url, json={"text": "Stars", "student_ids": [no_consent.student.id]}, headers=world.teacher.headers
    )
    add_photo = await api.patch(
        f"/api/posts/{tagged.json()['id']}",
        json={"media_ids": [await upload_id(api, world.teacher)]},
        headers=world.teacher.headers,
    )
    assert add_photo.status_code == 422 and add_photo.json()["error"]["code"] == "consent_required"
    photo = await api.post(
        url,
        json={"text": "Trip", "media_ids": [await upload_id(api, world.teacher)]},
        headers=world.teacher.headers,
    )
    add_tag = await api.patch(
        f"/api/posts/{photo.json()['id']}",
        json={"student_ids": [no_consent.student.id]},
        headers=world.teacher.headers,
    )
    assert add_tag.status_code == 422 and add_tag.json()["error"]["code"] == "consent_required"
    unchanged = await api.get(f"/api/posts/{photo.json()['id']}", headers=world.teacher.headers)
    assert unchanged.json()["students"] == [] and unchanged.json()["edited_at"] is None


async def test_p12_withdrawn_consent_hides_photos_already_posted_until_it_is_given_again(
    api: httpx.AsyncClient, world: World
) -> None:
    maya = await world.add_student(world.classes[0], "Maya")
    parent = await world.add_parent(maya)
    media_id = await upload_id(api, world.teacher)
    posted = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Sports day", "media_ids": [media_id], "student_ids": [maya.student.id]},
        headers=world.teacher.headers,
    )
    assert posted.status_code == 201
    post_id, media_url = posted.json()["id"], posted.json()["media"][0]["url"]
    assert (await api.get(media_url, headers=parent.headers)).status_code == 200
    channel = f"class:{world.classes[0].id}"
    before = len(await events_on(world.services, channel))

    async def set_consent(given: bool) -> None:
        changed = await api.patch(
            f"/api/students/{maya.student.id}", json={"photo_consent": given}, headers=world.admin.headers
        )
        assert changed.status_code == 200, changed.text

    await set_consent(False)
    for reader in (parent, world.teacher, world.admin):
        seen = (await api.get(f"/api/posts/{post_id}", headers=reader.headers)).json()
        assert seen["media"] == [] and seen["students"] == [{"id": maya.student.id, "name": "Maya"}]
        # staff learn why; families are not told (it could reveal that a child came into care)
        assert seen.get("media_withheld") == (None if reader is parent else 1)
    (feed_post,) = [p for p in (await api.get("/api/feed", headers=parent.headers)).json()["items"]]
    assert feed_post["media"] == []
    assert (await api.get(media_url, headers=parent.headers)).status_code == 404
    assert (await api.get(media_url, headers=world.admin.headers)).status_code == 404
    assert (await api.get(media_url, headers=world.teacher.headers)).status_code == 404  # who took it too
    updated = (await events_on(world.services, channel))[before:]
    assert [(e["type"], e["data"]["post"]["id"], e["data"]["post"]["media"]) for e in updated] == [
        ("post.updated", post_id, [])
    ]

    await set_consent(True)
    again = (await api.get(f"/api/posts/{post_id}", headers=parent.headers)).json()
    assert [m["id"] for m in again["media"]] == [media_id] and "media_withheld" not in again
    assert (await api.get(media_url, headers=parent.headers)).status_code == 200
    await set_consent(True)  # no change, no event
    assert len(await events_on(world.services, channel)) == before + 2


async def test_tags_must_be_pupils_of_the_class(api: httpx.AsyncClient, world: World) -> None:
    other = await world.add_class("Year 6")
    elsewhere = await world.add_student(other)
    refused = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Hi", "student_ids": [elsewhere.student.id, 2**40]},
        headers=world.teacher.headers,
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["student_ids"] == [elsewhere.student.id, 2**40]


async def test_bad_post_bodies_are_clear_4xx_that_change_nothing(
    api: httpx.AsyncClient, world: World
) -> None:
    url = f"/api/classes/{world.classes[0].id}/posts"
    others_upload = await upload_id(api, world.admin)
    bodies = [
        ({"text": ""}, 422),
        ({"text": "   "}, 422),
        ({"text": "nul \x00 inside"}, 422),
        ({"text": "x" * 5001}, 422),
        ({"text": "ok", "media_ids": [others_upload]}, 422),
        ({"text": "ok", "media_ids": "1"}, 422),
        ({"text": 5}, 422),
    ]
    for body, status in bodies:
        reply = await api.post(url, json=body, headers=world.teacher.headers)
        assert reply.status_code == status, body
        assert set(reply.json()["error"]) == {"code", "message", "details"}
    json_type = {**world.teacher.headers, "content-type": "application/json"}
    garbled = await api.post(url, content=b"{not json", headers=json_type)
    assert garbled.status_code == 400
    assert (
        await api.post("/api/classes/999999999/posts", json={"text": "x"}, headers=world.teacher.headers)
    ).status_code == 404
    assert await _post_count(world) == 0


async def test_author_or_admin_edit_and_delete_with_events_and_audit(
    api: httpx.AsyncClient, world: World
) -> None:
    other_teacher = await world.add_user("teacher")
    class_id = world.classes[0].id
    photo = await upload_id(api, world.teacher)
    created = (
        await api.post(
            f"/api/classes/{class_id}/posts",
            json={"text": "Draft", "media_ids": [photo]},
            headers=world.teacher.headers,
        )
    ).json()
    url = f"/api/posts/{created['id']}"
    assert (await api.patch(url, json={"text": "Hijack"}, headers=other_teacher.headers)).status_code == 403
    assert (await api.delete(url, headers=other_teacher.headers)).status_code == 403
    edited = await api.patch(
        url, json={"text": "Final words", "media_ids": []}, headers=world.teacher.headers
    )
    assert edited.status_code == 200
    assert edited.json()["text"] == "Final words" and edited.json()["edited_at"] is not None
    assert edited.json()["media"] == []
    assert (await api.get(created["media"][0]["url"], headers=world.teacher.headers)).status_code == 404
    by_admin = await api.patch(url, json={"text": "Tidied by the head"}, headers=world.admin.headers)
    assert by_admin.status_code == 200
    assert (await api.delete(url, headers=world.admin.headers)).status_code == 200
    assert (await api.get(url, headers=world.teacher.headers)).status_code == 404
    events = await events_on(world.services, f"class:{class_id}")
    assert [e["type"] for e in events] == ["post.created", "post.updated", "post.updated", "post.deleted"]
    for event in events:
        validate_event(event["type"], event["data"])
    created_event = events[0]["data"]["post"]
    assert created_event["translations"] == {} and "liked" not in created_event
    assert created_event["original"] == {"text": "Draft", "lang": "en"}
    assert events[-1]["data"] == {"post_id": created["id"]}
    assert len(await _audit(world, "post.created")) == 1
    assert len(await _audit(world, "post.edited")) == 2
    deleted = await _audit(world, "post.deleted")
    assert deleted[0].actor_id == world.admin.id and deleted[0].details["author_id"] == world.teacher.id


async def test_an_edit_that_changes_nothing_is_not_announced(api: httpx.AsyncClient, world: World) -> None:
    created = await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": "Same"}, headers=world.teacher.headers
    )
    again = await api.patch(
        f"/api/posts/{created.json()['id']}", json={"text": "Same"}, headers=world.teacher.headers
    )
    assert again.status_code == 200 and again.json()["edited_at"] is None
    assert len(await events_on(world.services, f"class:{world.classes[0].id}")) == 1


async def test_editing_the_text_keeps_tags_of_a_pupil_who_has_since_left(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil = await world.add_student(world.classes[0], "Leo")
    created = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Leo's last day", "student_ids": [pupil.student.id]},
        headers=world.teacher.headers,
    )
    await api.patch(
        f"/api/students/{pupil.student.id}",
        json={"left_at": "2026-07-20T12:00:00+00:00"},
        headers=world.admin.headers,
    )
    edited = await api.patch(
        f"/api/posts/{created.json()['id']}",
        json={"text": "Leo's last day: good luck!"},
        headers=world.teacher.headers,
    )
    assert edited.status_code == 200
    assert edited.json()["students"] == [{"id": pupil.student.id, "name": "Leo"}]


async def test_another_schools_staff_cannot_reach_a_post(api: httpx.AsyncClient, world: World) -> None:
    from tests.factories import make_world

    elsewhere = await make_world(world.services)
    post_id = (
        await api.post("/api/school/posts", json={"text": "Ours"}, headers=world.admin.headers)
    ).json()["id"]
    intruder = elsewhere.admin.headers
    assert (await api.get(f"/api/posts/{post_id}", headers=intruder)).status_code == 404
    assert (await api.put(f"/api/posts/{post_id}/like", headers=intruder)).status_code == 404
    assert (await api.get(f"/api/posts/{post_id}/likes", headers=intruder)).status_code == 404
    assert (await api.patch(f"/api/posts/{post_id}", json={"text": "x"}, headers=intruder)).status_code == 404
    assert (await api.delete(f"/api/posts/{post_id}", headers=intruder)).status_code == 404
    assert (await api.get("/api/school/posts", headers=intruder)).json()["items"] == []


async def test_p18_an_edit_forgets_the_translations_of_the_words_it_replaced(
    api: httpx.AsyncClient, world: World
) -> None:
    import secrets

    from server.db.models import Translation
    from server.language.stored import content_hash

    old_text = f"Trip on Friday {secrets.token_hex(3)}"
    created = await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": old_text}, headers=world.teacher.headers
    )
    async with world.services.transaction() as session:
        session.add(
            Translation(
                content_hash=content_hash(old_text), source="en", target="es", text="Excursión", engine="t"
            )
        )
    edited = await api.patch(
        f"/api/posts/{created.json()['id']}",
        json={"text": "Trip moved to Monday"},
        headers=world.teacher.headers,
    )
    assert edited.status_code == 200
    async with world.services.read() as session:
        left = await session.scalar(
            select(func.count()).where(Translation.content_hash == content_hash(old_text))
        )
    assert left == 0
