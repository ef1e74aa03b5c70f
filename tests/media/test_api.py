"""``POST /api/media`` and ``GET /api/media/{id}``: checked by content, made safe, served privately (P16)."""

from __future__ import annotations

import io

import httpx
import pikepdf
from PIL import Image
from sqlalchemy import func, select

from server.db.models import Media
from server.services import Services
from tests.factories import World, image_bytes, pdf_bytes, upload, upload_id


async def _media_count(services: Services, school_id: int) -> int:
    async with services.read() as session:
        return int(await session.scalar(select(func.count()).where(Media.school_id == school_id)) or 0)


async def test_p16_uploaded_jpeg_with_gps_exif_comes_back_without_it(
    api: httpx.AsyncClient, world: World
) -> None:
    original = image_bytes(gps=True)
    assert b"PhoneMaker" in original
    reply = await upload(api, world.teacher, original)
    assert reply.status_code == 201
    body = reply.json()
    assert body["kind"] == "image" and body["url"].startswith(f"/api/media/{body['id']}?k=")
    served = await api.get(body["url"], headers=world.teacher.headers)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    picture = Image.open(io.BytesIO(served.content))
    assert len(picture.getexif()) == 0
    assert b"PhoneMaker" not in served.content and b"GPS" not in served.content


async def test_p16_renamed_exe_uploaded_as_jpg_is_refused(api: httpx.AsyncClient, world: World) -> None:
    exe = (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 500 + b"This program cannot be run"
    )
    reply = await upload(api, world.teacher, exe, name="holiday.jpg")
    assert reply.status_code == 422
    assert reply.json()["error"]["code"] == "validation_error"
    assert await _media_count(world.services, world.school.id) == 0


async def test_content_decides_the_type_not_the_name(api: httpx.AsyncClient, world: World) -> None:
    reply = await upload(api, world.teacher, image_bytes("PNG"), name="drawing.jpg")
    assert reply.status_code == 201
    served = await api.get(reply.json()["url"], headers=world.teacher.headers)
    assert served.headers["content-type"] == "image/png"


async def test_p16_a_file_needs_its_key_as_well_as_its_id(api: httpx.AsyncClient, world: World) -> None:
    body = (await upload(api, world.teacher)).json()
    headers = world.teacher.headers
    assert (await api.get(f"/api/media/{body['id']}", headers=headers)).status_code == 404
    assert (await api.get(f"/api/media/{body['id']}?k=guess", headers=headers)).status_code == 404
    assert (await api.get(body["url"])).status_code == 401
    served = await api.get(body["url"], headers=headers)
    assert served.status_code == 200
    assert served.headers["cache-control"].startswith("private")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["cross-origin-resource-policy"] == "same-origin"
    again = await api.get(body["url"], headers={**headers, "If-None-Match": served.headers["etag"]})
    assert again.status_code == 304


async def test_p16_an_unattached_upload_is_seen_by_its_uploader_only(
    api: httpx.AsyncClient, world: World
) -> None:
    url = (await upload(api, world.teacher)).json()["url"]
    pupil = await world.add_student(world.classes[0])
    parent = await world.add_parent(pupil)
    for other in (world.admin, world.office, parent, pupil):
        assert (await api.get(url, headers=other.headers)).status_code == 404


async def test_p16_parent_cannot_fetch_a_photo_from_a_class_their_child_is_not_in(
    api: httpx.AsyncClient, world: World
) -> None:
    other_class = await world.add_class("Year 6")
    mine = await world.add_student(world.classes[0], "Maya")
    parent = await world.add_parent(mine)
    media_id = await upload_id(api, world.teacher)
    post = await api.post(
        f"/api/classes/{other_class.id}/posts",
        json={"text": "Science week", "media_ids": [media_id]},
        headers=world.teacher.headers,
    )
    assert post.status_code == 201
    media = post.json()["media"][0]
    assert (await api.get(media["url"], headers=parent.headers)).status_code == 404
    assert (await api.get(media["display_url"], headers=parent.headers)).status_code == 404
    own_post = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Our trip", "media_ids": [await upload_id(api, world.teacher)]},
        headers=world.teacher.headers,
    )
    assert (await api.get(own_post.json()["media"][0]["url"], headers=parent.headers)).status_code == 200


async def test_large_photos_are_served_downscaled_for_display(api: httpx.AsyncClient, world: World) -> None:
    body = (await upload(api, world.teacher, image_bytes(size=(2400, 1800)))).json()
    assert (body["width"], body["height"]) == (2400, 1800)
    display = await api.get(body["display_url"], headers=world.teacher.headers)
    assert display.status_code == 200
    assert Image.open(io.BytesIO(display.content)).size == (1280, 960)
    small = (await upload(api, world.teacher)).json()
    assert (await api.get(small["display_url"], headers=world.teacher.headers)).status_code == 200
    assert (await api.get(small["url"] + "&size=huge", headers=world.teacher.headers)).status_code == 400


async def test_pdfs_are_downloaded_as_attachments(api: httpx.AsyncClient, world: World) -> None:
    body = (await upload(api, world.teacher, pdf_bytes(), name="Trip letter.pdf")).json()
    assert body["kind"] == "pdf" and body["name"] == "Trip letter.pdf"
    served = await api.get(body["url"], headers=world.teacher.headers)
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("attachment")
    with pikepdf.open(io.BytesIO(served.content)) as document:  # written again from the parsed file
        assert b"School trip letter" in document.pages[0].Contents.read_bytes()


async def test_damaged_or_scripted_pdfs_are_refused(api: httpx.AsyncClient, world: World) -> None:
    for data in (pdf_bytes()[:-30], pdf_bytes(catalog="/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")):
        reply = await upload(api, world.teacher, data, name="letter.pdf")
        assert reply.status_code == 422
    assert await _media_count(world.services, world.school.id) == 0


async def test_uploads_over_ten_mib_are_refused_with_413(api: httpx.AsyncClient, world: World) -> None:
    limit = world.services.settings.max_upload_bytes
    just_over = b"\xff\xd8\xff" + b"\x00" * (limit - 2)
    reply = await upload(api, world.teacher, just_over)
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "too_large"
    far_over = b"\xff\xd8\xff" + b"\x00" * (limit + 200_000)
    assert (await upload(api, world.teacher, far_over)).status_code == 413
    assert await _media_count(world.services, world.school.id) == 0


async def test_uploads_need_a_file_field(api: httpx.AsyncClient, world: World) -> None:
    empty = await api.post("/api/media", files={"other": ("x.jpg", b"123")}, headers=world.teacher.headers)
    assert empty.status_code == 422
    nothing = await upload(api, world.teacher, b"", name="empty.jpg")
    assert nothing.status_code == 422
    json_body = await api.post("/api/media", json={"file": "x"}, headers=world.teacher.headers)
    assert json_body.status_code == 422


async def test_simultaneous_photo_uploads_all_succeed(api: httpx.AsyncClient, world: World) -> None:
    import asyncio

    photos = [image_bytes(size=(1800, 1200), colour=(i * 40, 90, 160)) for i in range(5)]
    replies = await asyncio.gather(*(upload(api, world.teacher, photo) for photo in photos))
    assert [r.status_code for r in replies] == [201] * 5
    assert len({r.json()["id"] for r in replies}) == 5
