"""Signing in and out: staff and parents by password, pupils by codes; cookie, bearer and CSRF."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from server.app import create_app
from server.auth import accounts, passwords
from server.auth.tokens import digest
from server.db.models import Session, User
from server.errors import ApiError
from server.services import Services
from server.timeutil import utcnow
from tests.conftest import Clock, make_settings
from tests.factories import PASSWORD, World, error_of


async def login(api: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await api.post("/api/auth/login", json={"email": email, "password": password})


async def test_staff_login_returns_token_and_sets_cookie(api: httpx.AsyncClient, world: World) -> None:
    response = await login(api, world.teacher.user.email or "")
    assert response.status_code == 200
    body = response.json()
    assert body["token"] and body["csrf_token"]
    assert body["user"]["role"] == "teacher"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    me = await api.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["id"] == world.teacher.id


async def test_wrong_password_is_401_in_error_shape(api: httpx.AsyncClient, world: World) -> None:
    response = await login(api, world.teacher.user.email or "", "not-the-password")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


async def test_cookie_requests_need_csrf_header(api: httpx.AsyncClient, world: World) -> None:
    body = (await login(api, world.teacher.user.email or "")).json()
    without = await api.patch("/api/me", json={"name": "Mrs P"})
    assert without.status_code == 403
    assert without.json()["error"]["details"]["reason"] == "csrf"
    with_header = await api.patch(
        "/api/me", json={"name": "Mrs P"}, headers={"X-CSRF-Token": body["csrf_token"]}
    )
    assert with_header.status_code == 200
    assert with_header.json()["name"] == "Mrs P"


async def test_logout_revokes_the_token(api: httpx.AsyncClient, world: World) -> None:
    headers = world.teacher.headers
    assert (await api.post("/api/auth/logout", headers=headers)).status_code == 200
    response = await api.get("/api/me", headers=headers)
    assert response.status_code == 401


async def test_pupil_signs_in_with_class_and_pupil_codes(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0], "Maya", "Ali")
    assert pupil.student is not None
    response = await api.post(
        "/api/auth/student",
        json={"class_code": world.classes[0].class_code.lower(), "student_code": pupil.student.student_code},
    )
    assert response.status_code == 200
    assert response.json()["user"]["student"]["name"] == "Maya"
    wrong = await api.post(
        "/api/auth/student", json={"class_code": world.classes[0].class_code, "student_code": "ZZZZZZ"}
    )
    assert wrong.status_code == 401


async def test_pupils_cannot_use_password_login(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    response = await login(api, pupil.user.email or "nobody@example.test")
    assert response.status_code == 401


async def test_session_tokens_are_stored_only_as_hashes(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    token = (await login(api, world.office.user.email or "")).json()["token"]
    async with services.read() as session:
        rows = (await session.scalars(select(Session).where(Session.user_id == world.office.id))).all()
    assert digest(token) in {row.token_hash for row in rows}
    assert all(token not in row.token_hash for row in rows)


async def test_unknown_email_costs_one_password_check_like_a_wrong_password(
    world: World, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing-equal: "no such account" and "wrong password" both spend one argon2 verification."""
    calls: list[str] = []
    real = passwords._verify

    def counted(hash_: str, password: str, genuine: bool) -> bool:
        calls.append(hash_)
        return real(hash_, password, genuine)

    monkeypatch.setattr(passwords, "_verify", counted)
    async with services.read() as session:
        for email in ("nobody@example.test", world.teacher.user.email or ""):
            with pytest.raises(ApiError) as refused:
                await accounts.check_login(session, email, "wrong-password")
            assert refused.value.status == 401 and refused.value.message == accounts.WRONG_LOGIN
    assert len(calls) == 2
    assert calls[0].startswith("$argon2id$") and calls[1] == world.teacher.user.password_hash


async def test_cookie_is_httponly_lax_and_not_readable_by_scripts(
    api: httpx.AsyncClient, world: World
) -> None:
    response = await login(api, world.teacher.user.email or "")
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith("session=")
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "secure" not in attributes  # development serves plain http://localhost
    assert response.headers["cache-control"] == "no-store"


async def test_production_cookies_are_secure(tmp_path: Path, world: World) -> None:
    settings = make_settings(tmp_path, world.services.settings.database_url, env="production")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.99.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            response = await login(client, world.teacher.user.email or "")
    assert response.status_code == 200
    assert "secure" in response.headers["set-cookie"].lower()


async def test_cookie_sessions_check_csrf_on_every_unsafe_method(
    api: httpx.AsyncClient, world: World
) -> None:
    body = (await login(api, world.admin.user.email or "")).json()
    assert (await api.get("/api/school")).status_code == 200  # safe methods need no header
    for headers in ({}, {"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": body["csrf_token"][:-1]}):
        response = await api.patch("/api/school", json={"office_phone": "1"}, headers=headers)
        assert error_of(response, 403, "forbidden")["details"] == {"reason": "csrf"}
    refused = await api.post("/api/classes", json={"name": "Sneaky"}, headers={"X-CSRF-Token": "é".encode()})
    error_of(refused, 403, "forbidden")
    ok = await api.patch(
        "/api/school", json={"office_phone": "1"}, headers={"X-CSRF-Token": body["csrf_token"]}
    )
    assert ok.status_code == 200
    me = await api.get("/api/me")
    assert me.json()["csrf_token"] == body["csrf_token"]  # a reloaded page can find it again


async def test_a_csrf_token_belongs_to_one_session(api: httpx.AsyncClient, world: World) -> None:
    first = (await login(api, world.admin.user.email or "")).json()
    api.cookies.clear()
    await login(api, world.admin.user.email or "")
    response = await api.patch(
        "/api/school", json={"office_phone": "2"}, headers={"X-CSRF-Token": first["csrf_token"]}
    )
    error_of(response, 403, "forbidden")


async def test_bearer_requests_need_no_csrf_header(api: httpx.AsyncClient, world: World) -> None:
    response = await api.patch("/api/school", json={"office_phone": "3"}, headers=world.admin.headers)
    assert response.status_code == 200


async def test_logout_ends_the_cookie_session_too(api: httpx.AsyncClient, world: World) -> None:
    body = (await login(api, world.teacher.user.email or "")).json()
    out = await api.post("/api/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 200
    assert 'session=""' in out.headers["set-cookie"] or "max-age=0" in out.headers["set-cookie"].lower()
    error_of(await api.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"}), 401)


async def test_expired_sessions_are_refused(api: httpx.AsyncClient, world: World, clock: Clock) -> None:
    token = (await login(api, world.teacher.user.email or "")).json()["token"]
    clock.set(utcnow() + timedelta(days=world.services.settings.session_days, seconds=1))
    error_of(await api.get("/api/me", headers={"Authorization": f"Bearer {token}"}), 401, "unauthenticated")


async def test_suspended_accounts_cannot_sign_in_or_use_sessions(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    parent = await world.add_parent()
    async with services.transaction() as session:
        (await session.get(User, parent.id)).suspended_at = utcnow()  # type: ignore[union-attr]
    error_of(await api.get("/api/me", headers=parent.headers), 403, "suspended")
    error_of(await login(api, parent.user.email or ""), 403, "suspended")
    error_of(await login(api, parent.user.email or "", "wrong-password"), 401)  # no hint without the password


async def test_changing_password_ends_other_sessions(
    api: httpx.AsyncClient, world: World, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_device = await world.sign_in(world.teacher.user)
    changed: list[int] = []

    async def note(user_id: int) -> None:
        changed.append(user_id)

    monkeypatch.setattr(services, "access_changed", note)
    wrong = await api.patch(
        "/api/me",
        json={"password": "a-new-password", "current_password": "nope"},
        headers=world.teacher.headers,
    )
    error_of(wrong, 403, "forbidden")
    short = await api.patch(
        "/api/me", json={"password": "short", "current_password": PASSWORD}, headers=world.teacher.headers
    )
    error_of(short, 422, "validation_error")
    done = await api.patch(
        "/api/me",
        json={"password": "a-new-password", "current_password": PASSWORD},
        headers=world.teacher.headers,
    )
    assert done.status_code == 200
    assert changed == [world.teacher.id]
    assert (await api.get("/api/me", headers=world.teacher.headers)).status_code == 200
    error_of(await api.get("/api/me", headers=other_device.headers), 401)
    assert (await login(api, world.teacher.user.email or "", "a-new-password")).status_code == 200


async def test_profile_language_must_be_one_the_server_offers(api: httpx.AsyncClient, world: World) -> None:
    error_of(await api.patch("/api/me", json={"language": "xx"}, headers=world.office.headers), 422)
    response = await api.patch("/api/me", json={"language": "uk"}, headers=world.office.headers)
    assert response.json()["language"] == "uk"
    languages = (await api.get("/api/languages", headers=world.office.headers)).json()["items"]
    assert languages[0]["code"] == "en"
    spanish = next(item for item in languages if item["code"] == "es")
    assert spanish["native_name"].lower() == "español" and spanish["name"] == "іспанська"


async def test_pupils_cannot_rename_themselves_or_set_a_password(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil = await world.add_student(world.classes[0])
    error_of(await api.patch("/api/me", json={"name": "Boss"}, headers=pupil.headers), 403)
    error_of(await api.patch("/api/me", json={"password": "a-long-password"}, headers=pupil.headers), 403)


async def test_pupils_who_left_cannot_sign_in(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    assert pupil.student is not None
    left = await api.patch(
        f"/api/students/{pupil.student.id}",
        json={"left_at": "2026-07-20T15:00:00+01:00"},
        headers=world.admin.headers,
    )
    assert left.status_code == 200
    error_of(await api.get("/api/me", headers=pupil.headers), 401)  # signed out everywhere
    codes = {"class_code": world.classes[0].class_code, "student_code": pupil.student.student_code}
    error_of(await api.post("/api/auth/student", json=codes), 401)


async def test_no_password_token_or_hash_reaches_the_logs(
    api: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the level logs.configure() runs the server at
    email = world.teacher.user.email or ""
    token = (await login(api, email)).json()["token"]
    await login(api, email, "a-wrong-password-123")
    await api.post(
        "/api/join",
        json={
            "code": "ABCDE-FGHJK",
            "name": "X",
            "email": "x@y.zz",
            "password": "pw-secret-999",
            "language": "en",
            "accept_policy_version": 1,
        },
    )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (PASSWORD, "a-wrong-password-123", "pw-secret-999", token, "$argon2", email, "ABCDE"):
        assert secret not in logged
