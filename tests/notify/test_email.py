"""Email against a real SMTP server in-process: password reset, invites, the daily digest, unsubscribe."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from server.notify.digest import send_digests
from server.notify.invites import send_invite_email
from tests.conftest import Clock
from tests.factories import PASSWORD, World, error_of, unique
from tests.notify.smtp_server import SmtpServer, html_part, text_part

TUESDAY_MORNING = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
TUESDAY_EVENING = datetime(2026, 3, 10, 18, 5, tzinfo=UTC)


async def test_password_reset_end_to_end(api: httpx.AsyncClient, world: World, smtp: SmtpServer) -> None:
    _, parent = await world.add_family("Mia")
    address = parent.user.email
    assert address is not None
    assert (await api.get("/api/auth/reset")).json() == {"available": True}
    reply = await api.post("/api/auth/reset", json={"email": "nobody-" + address})
    assert reply.status_code == 202
    reply = await api.post("/api/auth/reset", json={"email": address.upper()})
    assert reply.status_code == 202

    [email] = await smtp.inbox.wait_for(address)
    assert smtp.inbox.to("nobody-" + address) == []
    assert email.get_content_type() == "multipart/alternative"
    body = text_part(email)
    page = html_part(email)
    assert "<p>" in page and "<img" not in page and "<a " not in page  # no tracking, no remote content
    link = re.search(r"http://testserver/#/reset\?token=(\S+)", body)
    assert link is not None
    token = link.group(1)

    new_password = "a-brand-new-password-42"
    reply = await api.post("/api/auth/reset/confirm", json={"token": token, "password": new_password})
    assert reply.status_code == 200, reply.text
    error_of(await api.get("/api/me", headers=parent.headers), 401)  # the old session ended
    error_of(await api.post("/api/auth/login", json={"email": address, "password": PASSWORD}), 401)
    signed_in = await api.post("/api/auth/login", json={"email": address, "password": new_password})
    assert signed_in.status_code == 200
    reused = await api.post(
        "/api/auth/reset/confirm", json={"token": token, "password": "another-password-43"}
    )
    error_of(reused, 422, "validation_error")


async def test_a_reset_token_expires_after_an_hour(
    api: httpx.AsyncClient, world: World, smtp: SmtpServer, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    _, parent = await world.add_family("Jo")
    assert parent.user.email is not None
    assert (await api.post("/api/auth/reset", json={"email": parent.user.email})).status_code == 202
    [email] = await smtp.inbox.wait_for(parent.user.email)
    match = re.search(r"token=(\S+)", text_part(email))
    assert match is not None
    clock.advance(minutes=61)
    late = await api.post(
        "/api/auth/reset/confirm", json={"token": match.group(1), "password": "too-late-password"}
    )
    error_of(late, 422, "validation_error")


async def test_an_invite_email_in_the_recipients_language(world: World, smtp: SmtpServer) -> None:
    address = f"{unique('abuela')}@example.test"
    sent = await send_invite_email(
        world.services,
        to=address,
        language="es",
        school_name="Oak Primary",
        pupil_name="Lucía",
        code="ABCD2345",
        expires_at=datetime(2026, 3, 24, 9, 0, tzinfo=UTC),
    )
    assert sent
    [email] = await smtp.inbox.wait_for(address)
    assert email["Content-Language"] == "es"
    body = text_part(email)
    assert "ABCD2345" in body and "http://testserver/#/join?code=ABCD2345" in body
    assert "marzo" in body  # the expiry date in Spanish


async def test_staff_email_an_invite_code_from_the_api_in_the_language_they_choose(
    api: httpx.AsyncClient, world: World, smtp: SmtpServer
) -> None:
    maya, _ = await world.add_family("Maya")
    assert maya.student is not None
    address = f"{unique('tia')}@example.test"
    reply = await api.post(
        "/api/invites",
        json={"student_id": maya.student.id, "email": address, "language": "es"},
        headers=world.teacher.headers,
    )
    assert reply.status_code == 201, reply.text
    made = reply.json()
    assert made["emailed"] is True
    [email] = await smtp.inbox.wait_for(address)
    assert email["Content-Language"] == "es"
    body = text_part(email)
    assert made["code"] in body and f"http://testserver/#/join?code={made['code']}" in body
    # A code without an email is only shown, and a bad address is refused with nothing made.
    shown = await api.post(
        "/api/invites", json={"student_id": maya.student.id}, headers=world.teacher.headers
    )
    assert "emailed" not in shown.json()
    listed = await api.get(f"/api/students/{maya.student.id}/invites", headers=world.teacher.headers)
    before = len(listed.json()["items"])
    bad = await api.post(
        "/api/invites",
        json={"student_id": maya.student.id, "email": "not an address"},
        headers=world.teacher.headers,
    )
    error_of(bad, 422, "validation_error")
    listed = await api.get(f"/api/students/{maya.student.id}/invites", headers=world.teacher.headers)
    assert len(listed.json()["items"]) == before
    assert smtp.inbox.to(address) == [email]


async def test_daily_digest_holds_the_readers_childrens_posts_and_points_only(
    api: httpx.AsyncClient, world: World, smtp: SmtpServer, clock: Clock
) -> None:
    clock.set(datetime(2026, 3, 9, 12, 0, tzinfo=UTC))  # yesterday's post is not today's news
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Monday news"},
        headers=world.teacher.headers,
    )
    clock.set(TUESDAY_MORNING)
    other_class = await world.add_class("Year 6 Elm")
    maya, parent = await world.add_family("Maya")
    leo, _ = await world.add_family("Leo", school_class=other_class)
    assert parent.user.email is not None and maya.student is not None and leo.student is not None
    reply = await api.put("/api/me/notifications", json={"email": "daily"}, headers=parent.headers)
    assert reply.json()["email"] == "daily"
    for where, text in (
        (world.classes[0].id, "Our class planted beans"),
        (other_class.id, "Elm class went swimming"),
    ):
        await api.post(f"/api/classes/{where}/posts", json={"text": text}, headers=world.teacher.headers)
    await api.post("/api/school/posts", json={"text": "Book fair on Friday"}, headers=world.admin.headers)
    for pupil in (maya, maya, leo):
        assert pupil.student is not None
        await api.post(
            "/api/points",
            json={"student_ids": [pupil.student.id], "skill_id": world.skills[0].id},
            headers=world.teacher.headers,
        )
    await send_digests(world.services)  # 10:00: not yet
    assert smtp.inbox.to(parent.user.email) == []
    clock.set(TUESDAY_EVENING)
    await send_digests(world.services)
    await send_digests(world.services)  # once a day
    [digest] = await smtp.inbox.wait_for(parent.user.email)
    body = text_part(digest)
    assert "Our class planted beans" in body and "Book fair on Friday" in body
    assert "Elm" not in body and "Monday news" not in body
    assert "Maya received 2 awards today." in body and "Leo" not in body
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(smtp.inbox.to(parent.user.email)) == 1


async def test_one_click_unsubscribe_works_without_signing_in(
    api: httpx.AsyncClient, world: World, smtp: SmtpServer, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    _, parent = await world.add_family("Ola")
    assert parent.user.email is not None
    await api.put("/api/me/notifications", json={"email": "daily"}, headers=parent.headers)
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": "Hello"}, headers=world.teacher.headers
    )
    clock.set(TUESDAY_EVENING)
    await send_digests(world.services)
    [digest] = await smtp.inbox.wait_for(parent.user.email)
    header = digest["List-Unsubscribe"]
    url = urlsplit(header.strip("<>"))
    target = f"{url.path}?{url.query}"
    forged = target.replace(f"u={parent.id}", f"u={world.teacher.id}")
    refused = await api.post(
        forged,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert refused.status_code == 404
    assert (await api.get(target)).status_code == 200  # opening the link changes nothing
    assert (await api.get("/api/me/notifications", headers=parent.headers)).json()["email"] == "daily"
    reply = await api.post(
        target,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status_code == 200
    assert (await api.get("/api/me/notifications", headers=parent.headers)).json()["email"] == "off"


async def test_an_instant_email_for_a_reader_who_chose_it(
    api: httpx.AsyncClient, world: World, smtp: SmtpServer, clock: Clock
) -> None:
    clock.set(TUESDAY_MORNING)
    _, parent = await world.add_family("Eva")
    _, quiet = await world.add_family("Finn")
    assert parent.user.email is not None and quiet.user.email is not None
    await api.put("/api/me/notifications", json={"email": "instant"}, headers=parent.headers)
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Harvest festival on Friday"},
        headers=world.teacher.headers,
    )
    await world.services.push.run_until_idle()
    [email] = await smtp.inbox.wait_for(parent.user.email)
    assert email["Subject"] == "New post in Class 1"
    assert "Harvest festival on Friday" in text_part(email)
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert smtp.inbox.to(quiet.user.email) == []
    await world.services.push.run_until_idle()
    assert len(smtp.inbox.to(parent.user.email)) == 1
