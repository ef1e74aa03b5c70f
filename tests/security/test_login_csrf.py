"""Finding 7: another site's page can neither sign a visitor in nor change anything.

JSON endpoints take JSON only (415 ``unsupported_media_type`` otherwise: ``text/plain``
and untyped bodies are what a page elsewhere may send without asking). Every unsafe
request from another site's page (``Origin`` not ours nor allowed, or
``Sec-Fetch-Site: cross-site`` without an ``Origin``) gets 403 ``forbidden``, whatever its
auth. Requests with neither header (scripts, apps) still work; uploads stay multipart.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from server.app import create_app
from tests.conftest import make_settings
from tests.factories import PASSWORD, World, error_of, image_bytes
from tests.school.test_p14_access import join_body
from tests.security.conftest import ClientAt, client_for

EVIL = "https://evil.example"


async def _sign_in_requests(world: World) -> list[tuple[str, bytes]]:
    """(path, valid JSON body) for the three ways of signing in."""
    pupil = await world.add_student(world.classes[0])
    assert pupil.student is not None
    code = await world.add_invite(pupil)
    return [
        ("/api/auth/login", orjson.dumps({"email": world.teacher.user.email, "password": PASSWORD})),
        (
            "/api/auth/student",
            orjson.dumps(
                {"class_code": world.classes[0].class_code, "student_code": pupil.student.student_code}
            ),
        ),
        ("/api/join", orjson.dumps(join_body(code))),
    ]


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain;charset=UTF-8", None])
async def test_signing_in_takes_json_only(
    world: World, client_at: ClientAt, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    async with client_at() as client:
        for path, body in await _sign_in_requests(world):
            response = await client.post(path, content=body, headers=headers)
            error_of(response, 415, "unsupported_media_type")
            assert "set-cookie" not in response.headers


async def test_signing_in_with_json_still_works(world: World, client_at: ClientAt) -> None:
    async with client_at() as client:
        for path, body in await _sign_in_requests(world):
            response = await client.post(
                path, content=body, headers={"content-type": "application/json; charset=utf-8"}
            )
            assert response.status_code in (200, 201), response.text


async def test_signing_in_from_another_sites_page_is_refused(world: World, client_at: ClientAt) -> None:
    async with client_at() as client:
        for path, body in await _sign_in_requests(world):
            for headers in ({"origin": EVIL}, {"origin": "null"}, {"sec-fetch-site": "cross-site"}):
                response = await client.post(
                    path, content=body, headers={"content-type": "application/json", **headers}
                )
                error = error_of(response, 403, "forbidden")
                assert error["details"] == {"reason": "cross_site"}
                assert "set-cookie" not in response.headers


async def test_every_unsafe_request_from_another_site_is_refused_whatever_its_auth(
    world: World, client_at: ClientAt
) -> None:
    admin = world.admin.headers
    attempts = [
        ("PATCH", "/api/school", {"office_phone": "0"}),
        ("POST", "/api/classes", {"name": "Sneaky"}),
        ("PUT", "/api/posts/1/like", None),
        ("DELETE", "/api/posts/1", None),
        ("POST", "/api/auth/logout", None),
    ]
    async with client_at() as client:
        for method, path, body in attempts:
            response = await client.request(method, path, json=body, headers={**admin, "origin": EVIL})
            error_of(response, 403, "forbidden")
        # Reading is not changing anything: safe methods pass (CORS keeps the reply from the page).
        assert (await client.get("/api/school", headers={**admin, "origin": EVIL})).status_code == 200
        assert (await client.get("/api/me", headers=admin)).status_code == 200  # still signed in


async def test_our_own_pages_and_clients_without_an_origin_still_work(
    world: World, client_at: ClientAt
) -> None:
    admin = world.admin.headers
    async with client_at() as client:
        for headers in (
            {"origin": "http://testserver", "sec-fetch-site": "same-origin"},
            {"sec-fetch-site": "same-origin"},
            {"sec-fetch-site": "none"},  # typed into the address bar, a bookmark
            {},  # a script or an app with a bearer token
        ):
            response = await client.patch(
                "/api/school", json={"office_phone": "1"}, headers={**admin, **headers}
            )
            assert response.status_code == 200, (headers, response.text)


async def test_uploads_stay_multipart(world: World, client_at: ClientAt) -> None:
    async with client_at() as client:
        response = await client.post(
            "/api/media",
            files={"file": ("photo.jpg", image_bytes(), "image/jpeg")},
            headers={**world.teacher.headers, "origin": "http://testserver"},
        )
        assert response.status_code == 201, response.text
        refused = await client.post(
            "/api/media",
            files={"file": ("photo.jpg", image_bytes(), "image/jpeg")},
            headers={**world.teacher.headers, "origin": EVIL},
        )
        error_of(refused, 403, "forbidden")


async def test_allowed_origins_may_send_unsafe_requests(tmp_path: Path, world: World) -> None:
    settings = make_settings(
        tmp_path, world.services.settings.database_url, allowed_origins=("https://app.school.example",)
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), client_for(app) as client:
        allowed = {"origin": "https://app.school.example", "sec-fetch-site": "cross-site"}
        body = {"email": world.teacher.user.email, "password": PASSWORD}
        assert (await client.post("/api/auth/login", json=body, headers=allowed)).status_code == 200
        refused = await client.post("/api/auth/login", json=body, headers={"origin": EVIL})
        error_of(refused, 403, "forbidden")


@pytest.mark.parametrize(
    ("method", "origin", "fetch_site", "allowed", "expected"),
    [
        ("POST", None, None, (), False),  # not a browser page
        ("POST", "http://school.example", "same-origin", (), False),
        ("POST", "http://SCHOOL.example:80", None, (), False),  # the same origin, spelled otherwise
        ("POST", "https://school.example", None, (), True),  # another scheme is another origin
        ("POST", "http://school.example:8080", None, (), True),
        ("POST", "https://evil.example", None, (), True),
        ("POST", "null", None, (), True),  # sandboxed frames, data: pages
        ("POST", "not a url", None, (), True),
        ("POST", None, "cross-site", (), True),
        ("POST", None, "same-site", (), False),
        ("POST", None, "none", (), False),
        ("POST", "https://app.example", "cross-site", ("https://app.example",), False),
        ("PUT", EVIL, None, (), True),
        ("PATCH", EVIL, None, (), True),
        ("DELETE", EVIL, None, (), True),
        ("GET", EVIL, "cross-site", (), False),
        ("HEAD", EVIL, "cross-site", (), False),
        ("OPTIONS", EVIL, "cross-site", (), False),
    ],
)
def test_cross_site_rule(
    method: str, origin: str | None, fetch_site: str | None, allowed: tuple[str, ...], expected: bool
) -> None:
    from server.middleware import cross_site  # imported here: the other tests run without it

    assert (
        cross_site(method, origin, fetch_site, host="school.example", scheme="http", allowed=allowed)
        is expected
    )
