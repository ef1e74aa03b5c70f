"""Signing in and out: staff and parents by password, pupils by codes; cookie, bearer and CSRF."""

from __future__ import annotations

import httpx

from tests.factories import PASSWORD, World


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
