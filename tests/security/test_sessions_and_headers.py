"""Finding 15: sessions end after a week unused, the production cookie is ``__Host-session``,
and every response carries HSTS (production), Permissions-Policy and COOP.

In development the cookie keeps the name ``session`` without ``Secure``: a development
server is plain ``http://`` (often a laptop's LAN address for a phone), where browsers
drop ``Secure`` cookies and refuse ``__Host-`` ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from server.app import create_app
from server.db.models import Session
from server.services import Services
from server.settings import load_settings
from tests.conftest import Clock, make_settings
from tests.factories import PASSWORD, World, error_of
from tests.security.conftest import ClientAt, client_for


def _login(world: World) -> dict[str, str | None]:
    return {"email": world.teacher.user.email, "password": PASSWORD}


@asynccontextmanager
async def production(tmp_path: Path, world: World) -> AsyncIterator[httpx.AsyncClient]:
    """A production server on the test database, and an https client for it."""
    settings = make_settings(tmp_path, world.services.settings.database_url, env="production")
    app = create_app(settings)
    async with app.router.lifespan_context(app), client_for(app, base_url="https://testserver") as client:
        yield client


def _attributes(set_cookie: str) -> dict[str, str]:
    parts = [part.strip() for part in set_cookie.split(";")]
    return {part.split("=", 1)[0].lower(): part.partition("=")[2] for part in parts[1:]}


async def test_a_session_unused_for_a_week_ends_before_its_lifetime(
    world: World, services: Services, client_at: ClientAt, clock: Clock
) -> None:
    async with client_at() as client:
        token = (await client.post("/api/auth/login", json=_login(world))).json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        start = clock()
        clock.set(start + timedelta(days=services.settings.session_idle_days, minutes=1))
        assert services.settings.session_idle_days < services.settings.session_days
        error_of(await client.get("/api/me", headers=bearer), 401, "unauthenticated")


async def test_using_a_session_keeps_it_alive(
    world: World, services: Services, client_at: ClientAt, clock: Clock
) -> None:
    async with client_at() as client:
        token = (await client.post("/api/auth/login", json=_login(world))).json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        clock.set(clock())
        for _ in range(3):  # 18 days in all, never 7 idle
            clock.advance(days=6)
            assert (await client.get("/api/me", headers=bearer)).status_code == 200


async def test_activity_is_written_at_most_once_in_five_minutes(
    world: World, services: Services, client_at: ClientAt, clock: Clock
) -> None:
    async with client_at() as client:
        token = (await client.post("/api/auth/login", json=_login(world))).json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        start = clock()
        clock.set(start)

        async def last_seen() -> object:
            async with services.read() as session:
                rows = await session.scalars(
                    select(Session.last_seen_at).where(Session.user_id == world.teacher.id)
                )
                return max(rows.all())

        first = await last_seen()
        for minutes in (1, 2, 4):
            clock.set(start + timedelta(minutes=minutes))
            assert (await client.get("/api/me", headers=bearer)).status_code == 200
        assert await last_seen() == first  # no write for these
        clock.set(start + timedelta(minutes=6))
        assert (await client.get("/api/me", headers=bearer)).status_code == 200
        assert await last_seen() == start + timedelta(minutes=6)


def test_the_idle_timeout_is_a_setting(tmp_path: Path) -> None:
    assert load_settings({"HOMEROOM_DATA_DIR": str(tmp_path)}).session_idle_days == 7
    assert (
        load_settings(
            {"HOMEROOM_DATA_DIR": str(tmp_path), "HOMEROOM_SESSION_IDLE_DAYS": "2"}
        ).session_idle_days
        == 2
    )


async def test_the_production_session_cookie_is_host_prefixed(tmp_path: Path, world: World) -> None:
    async with production(tmp_path, world) as client:
        response = await client.post("/api/auth/login", json=_login(world))
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-session=")
        attributes = _attributes(cookie)
        assert {"secure", "httponly"} <= set(attributes) and "domain" not in attributes
        assert attributes["path"] == "/" and attributes["samesite"].lower() == "lax"
        # The browser sends it back and it signs the request in.
        me = await client.get("/api/me")
        assert me.status_code == 200 and me.json()["id"] == world.teacher.id
        # The development name means nothing in production: a cookie tossed by a neighbour is ignored.
        token = response.json()["token"]
        client.cookies.clear()
        error_of(await client.get("/api/me", headers={"cookie": f"session={token}"}), 401)
        signed_in = await client.get("/api/me", headers={"cookie": f"__Host-session={token}"})
        assert signed_in.status_code == 200
        out = await client.post(
            "/api/auth/logout",
            headers={"cookie": f"__Host-session={token}", "x-csrf-token": response.json()["csrf_token"]},
        )
        assert out.status_code == 200
        cleared = out.headers["set-cookie"]
        assert cleared.startswith("__Host-session=") and "secure" in _attributes(cleared)


async def test_development_keeps_a_cookie_plain_http_can_store(world: World, client_at: ClientAt) -> None:
    async with client_at() as client:
        response = await client.post("/api/auth/login", json=_login(world))
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("session=") and "secure" not in _attributes(cookie)
        assert (await client.get("/api/me")).status_code == 200


async def test_every_response_carries_permissions_policy_and_coop(world: World, client_at: ClientAt) -> None:
    async with client_at() as client:
        replies = [
            await client.get("/healthz"),
            await client.get("/api/no-such-thing"),
            await client.post(
                "/api/auth/login", json=_login(world), headers={"origin": "https://evil.example"}
            ),
            await client.post("/api/auth/login", json=_login(world)),
        ]
    for reply in replies:
        policy = reply.headers["permissions-policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()"):
            assert feature in policy
        assert reply.headers["cross-origin-opener-policy"] == "same-origin"
        assert "strict-transport-security" not in reply.headers  # development: plain http


async def test_production_responses_carry_hsts(tmp_path: Path, world: World) -> None:
    async with production(tmp_path, world) as client:
        for reply in (await client.get("/healthz"), await client.get("/api/no-such-thing")):
            hsts = reply.headers["strict-transport-security"]
            assert "max-age=31536000" in hsts
            assert reply.headers["cross-origin-opener-policy"] == "same-origin"
