"""``/api/translation/coverage``, ``/packages`` and ``/fetch`` (admin), on SQLite and PostgreSQL.

The app runs argos (no package at first) then Apertium, with its package index
pointed at a local mirror serving tiny en↔pl packages. Each test makes its own
school, so the counts are its own; packages installed by one test stay for the next
(the order below is the order a school would go in).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.db.migrate import upgrade
from server.translation.apertium import ApertiumEngine
from server.translation.argos import installed_packages, packages_dir
from server.translation.fetch_job import write_status
from tests.conftest import BACKENDS, Clock, make_settings
from tests.factories import World, error_of, make_world
from tests.services import create_pg_database, drop_pg_database, postgres_admin_url
from tests.translation.fixtures import ARGOS_LANG, load_builder, needs_argos
from tests.translation.mirror import Mirror, serving

pytestmark = needs_argos
MAX_PACKAGE = 2 * 1024 * 1024
SPANISH = ApertiumEngine.installed() and Path("/usr/share/apertium/modes/eng-spa.mode").exists()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirror]:
    """A local index offering en→pl and pl→en."""
    builder = load_builder()
    folder = tmp_path_factory.mktemp("pl-mirror")
    with serving(folder / "served") as served:
        for source, target, seed in (("en", "pl", 3), ("pl", "en", 5)):
            served.add(
                source, target, builder.build(folder / f"{source}_{target}.argosmodel", source, target, seed)
            )
        yield served


@pytest.fixture(scope="module", params=BACKENDS)
async def coverage_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mirror: Mirror
) -> AsyncIterator[Starlette]:
    backend: str = request.param
    tmp = tmp_path_factory.mktemp(f"coverage-{backend}")
    admin_url = postgres_admin_url()
    if backend == "postgresql":
        if admin_url is None:
            pytest.skip("HOMEROOM_TEST_DATABASE_URL=none: PostgreSQL tests disabled")
        url = await create_pg_database(admin_url)
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'homeroom.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = make_settings(tmp, url).with_(
        translation_engines=("argos", "apertium"),
        argos_index_url=mirror.index_url,
        max_package_bytes=MAX_PACKAGE,
    )
    application = create_app(settings, clock=Clock())
    async with application.router.lifespan_context(application):
        yield application
    if backend == "postgresql" and admin_url is not None:
        await drop_pg_database(admin_url, url)


@pytest.fixture
async def client(coverage_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=coverage_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def world(coverage_app: Starlette) -> World:
    return await make_world(coverage_app.state.services)


async def families(world: World, languages: list[str]) -> None:
    for n, language in enumerate(languages):
        pupil = await world.add_student(world.classes[0], f"Child{n}", "Family")
        await world.add_parent(pupil, language=language)


async def coverage_of(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    reply = await client.get("/api/translation/coverage", headers=world.admin.headers)
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def row(body: dict[str, Any], code: str) -> dict[str, Any]:
    (found,) = [item for item in body["languages"] if item["code"] == code]
    return found  # type: ignore[no-any-return]


async def test_coverage_counts_the_readers_of_each_language_and_what_reaches_them(
    client: httpx.AsyncClient, world: World, coverage_app: Starlette
) -> None:
    await families(world, [ARGOS_LANG, ARGOS_LANG, "es", "pl", "pl", "en"])
    await world.add_user("teacher", language="pl")
    suspended = await world.add_user("parent", language="pl")
    async with coverage_app.state.services.transaction() as session:
        from server.db.models import User

        user = await session.get(User, suspended.id)
        user.suspended_at = user.created_at
    other = await make_world(coverage_app.state.services)
    await families(other, [ARGOS_LANG, "pl"])  # another school's families are not counted

    body = await coverage_of(client, world)
    assert body["school_language"] == "en" and body["engines"][0] == "argos"
    codes = [item["code"] for item in body["languages"]]
    assert codes[-1] == "en", "the school's own language comes last"
    assert (row(body, ARGOS_LANG)["families"], row(body, ARGOS_LANG)["staff"]) == (2, 0)
    assert (row(body, "pl")["families"], row(body, "pl")["staff"]) == (2, 1)
    assert row(body, "es")["families"] == 1
    assert row(body, "en")["staff"] == 3 and row(body, "en")["families"] == 1
    assert row(body, "en")["pupils"] >= 6
    assert row(body, ARGOS_LANG)["name"] == "Urdu" and row(body, ARGOS_LANG)["native_name"] == "اردو"
    for code in (ARGOS_LANG, "pl"):
        for direction in ("posts", "messages"):
            assert row(body, code)[direction]["status"] == "unavailable"
            assert row(body, code)[direction]["engine"] is None
    assert row(body, "en")["posts"]["status"] == "not_needed"
    if SPANISH:
        spanish = row(body, "es")
        assert spanish["posts"] == {
            "status": "translated",
            "engine": "apertium",
            "kind": "rule-based",
            "note": spanish["posts"]["note"],
        }
        assert "Rule-based" in spanish["posts"]["note"]


async def test_only_admins_see_coverage_or_change_packages(client: httpx.AsyncClient, world: World) -> None:
    parent = await world.add_user("parent")
    for who in (world.teacher, world.office, parent):
        error_of(await client.get("/api/translation/coverage", headers=who.headers), 403)
        error_of(await client.get("/api/translation/fetch", headers=who.headers), 403)
        error_of(
            await client.post("/api/translation/fetch", json={"languages": ["pl"]}, headers=who.headers), 403
        )
        sent = await client.post(
            "/api/translation/packages", files={"file": ("x.argosmodel", b"PK")}, headers=who.headers
        )
        error_of(sent, 403)
    error_of(await client.get("/api/translation/coverage"), 401)


async def test_an_uploaded_package_makes_its_language_translated(
    client: httpx.AsyncClient, world: World, tiny_packages: dict, coverage_app: Starlette
) -> None:
    await families(world, [ARGOS_LANG])
    for pair, direction in (((("en", ARGOS_LANG)), "posts"), (((ARGOS_LANG, "en")), "messages")):
        with tiny_packages[pair].open("rb") as file:
            sent = await client.post(
                "/api/translation/packages",
                files={"file": (tiny_packages[pair].name, file, "application/zip")},
                headers=world.admin.headers,
            )
        assert sent.status_code == 201, sent.text
        assert sent.json()["package"] == {"source": pair[0], "target": pair[1], "version": "0.1"}
        found = row(await coverage_of(client, world), ARGOS_LANG)[direction]
        assert found["status"] == "translated" and found["engine"] == "argos" and found["kind"] == "neural"
    body = await coverage_of(client, world)
    assert {(p["source"], p["target"]) for p in body["packages"]} >= {("en", ARGOS_LANG), (ARGOS_LANG, "en")}
    if SPANISH:  # Urdu→Spanish now goes through English: argos, then Apertium
        registry = coverage_app.state.services.translation.registry
        assert registry.engine_for(ARGOS_LANG, "es") == "argos+apertium"


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("notes.argosmodel", b"hello, not a zip", "not an argos package"),
        ("cut.argosmodel", None, "not an argos package"),
    ],
)
async def test_a_bad_upload_is_refused_with_422_and_nothing_is_installed(
    client: httpx.AsyncClient,
    world: World,
    tiny_packages: dict,
    coverage_app: Starlette,
    name: str,
    data: bytes | None,
    problem: str,
) -> None:
    data_dir = coverage_app.state.services.settings.data_dir
    before = (
        sorted(p.name for p in packages_dir(data_dir).iterdir()) if packages_dir(data_dir).exists() else []
    )
    if data is None:
        whole = tiny_packages[("en", ARGOS_LANG)].read_bytes()
        data = whole[: len(whole) // 2]
    sent = await client.post(
        "/api/translation/packages", files={"file": (name, data)}, headers=world.admin.headers
    )
    error = error_of(sent, 422, "validation_error")
    assert problem in error["message"] and error["details"] == {"fields": {"file": "invalid_package"}}
    after = (
        sorted(p.name for p in packages_dir(data_dir).iterdir()) if packages_dir(data_dir).exists() else []
    )
    assert after == before
    downloads = data_dir / "translation" / "downloads"
    assert not downloads.exists() or list(downloads.iterdir()) == []


async def test_an_upload_without_a_file_or_too_large_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    error_of(
        await client.post("/api/translation/packages", data={"x": "1"}, headers=world.admin.headers), 422
    )
    too_big = b"PK" + b"\0" * (MAX_PACKAGE + 128 * 1024)
    sent = await client.post(
        "/api/translation/packages", files={"file": ("big.argosmodel", too_big)}, headers=world.admin.headers
    )
    error_of(sent, 413, "too_large")


async def wait_for_fetch(client: httpx.AsyncClient, world: World, seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = (await client.get("/api/translation/fetch", headers=world.admin.headers)).json()
        if status["status"] != "running":
            return status  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError("the fetch did not finish")


async def test_an_admin_fetch_downloads_the_language_and_reports_progress(
    client: httpx.AsyncClient, world: World, coverage_app: Starlette
) -> None:
    await families(world, ["pl"])
    assert row(await coverage_of(client, world), "pl")["posts"]["status"] == "unavailable"
    started = await client.post(
        "/api/translation/fetch", json={"languages": ["pl"]}, headers=world.admin.headers
    )
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "running" and started.json()["languages"] == ["pl"]
    status = await wait_for_fetch(client, world)
    assert status["status"] == "done", status
    assert [(s["source"], s["target"], s["state"]) for s in status["steps"]] == [
        ("en", "pl", "installed"),
        ("pl", "en", "installed"),
    ]
    body = await coverage_of(client, world)
    assert row(body, "pl")["posts"]["engine"] == "argos" and row(body, "pl")["messages"]["engine"] == "argos"
    data_dir = coverage_app.state.services.settings.data_dir
    assert {("en", "pl"), ("pl", "en")} <= {p.pair for p in installed_packages(data_dir)}


async def test_a_second_fetch_while_one_runs_is_refused_and_bad_languages_are_422(
    client: httpx.AsyncClient, world: World, coverage_app: Starlette
) -> None:
    data_dir = coverage_app.state.services.settings.data_dir
    write_status(data_dir, {"status": "running", "languages": ["bn"], "steps": []})  # another process's job
    try:
        busy = await client.post(
            "/api/translation/fetch", json={"languages": ["pl"]}, headers=world.admin.headers
        )
        error_of(busy, 409, "busy")
    finally:
        write_status(data_dir, {"status": "done", "languages": ["bn"], "steps": []})
    for languages in (["../etc"], [], ["en"], "pl"):
        sent = await client.post(
            "/api/translation/fetch", json={"languages": languages}, headers=world.admin.headers
        )
        error_of(sent, 422, "validation_error")
