"""``python -m server translation fetch LANG…`` against a local argos index served over HTTP.

The index and the tiny packages are served from 127.0.0.1 (:mod:`tests.translation.mirror`),
the fetch runs through the real command line in a child process, and a running
server in this process then translates through the new pair without a restart.
"""

from __future__ import annotations

import asyncio
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.db.migrate import upgrade
from server.translation.argos import installed_packages, packages_dir, translation_dir
from server.translation.fetch import FetchError, choose, parse_index, wanted_pairs
from tests.conftest import Clock, make_settings
from tests.factories import make_world
from tests.translation.fixtures import ARGOS_LANG, needs_argos
from tests.translation.mirror import serving, sha256_of
from tests.translation.test_cli import run

INDEX = "https://mirror.example/argos/index.json"


# -- the index, pure ---------------------------------------------------------------------------------


def test_the_index_resolves_relative_links_and_keeps_only_http_translation_packages() -> None:
    raw = json.dumps(
        [
            {"from_code": "en", "to_code": "ur", "package_version": "1.9", "links": ["en_ur.argosmodel"]},
            {
                "from_code": "ur",
                "to_code": "en",
                "package_version": "1.9",
                "links": ["https://cdn.example/u.zip"],
            },
            {"from_code": "en", "to_code": "pl", "links": ["file:///etc/passwd"]},
            {"type": "sbd", "from_code": "en", "to_code": "en", "links": ["sbd.argosmodel"]},
            {"from_code": "en", "links": ["x.argosmodel"]},
            "not an entry",
        ]
    ).encode()
    entries = parse_index(raw, INDEX)
    assert [(e.pair, e.links) for e in entries] == [
        (("en", "ur"), ("https://mirror.example/argos/en_ur.argosmodel",)),
        (("ur", "en"), ("https://cdn.example/u.zip",)),
    ]


@pytest.mark.parametrize("raw", [b"<html>captive portal</html>", b'{"packages": []}'])
def test_something_that_is_not_an_index_is_refused(raw: bytes) -> None:
    with pytest.raises(FetchError, match="not an argos package index"):
        parse_index(raw, INDEX)


def test_the_newest_version_of_a_pair_is_chosen() -> None:
    entries = parse_index(
        json.dumps(
            [
                {"from_code": "en", "to_code": "pl", "package_version": v, "links": [f"{v}.zip"]}
                for v in ("1.9", "1.10", "1.2")
            ]
        ).encode(),
        INDEX,
    )
    chosen = choose(entries, ("en", "pl"))
    assert chosen is not None and chosen.version == "1.10"
    assert choose(entries, ("pl", "en")) is None


def test_each_language_means_both_directions_with_english() -> None:
    assert wanted_pairs(["ur", "en", "pl", "ur"]) == [("en", "ur"), ("ur", "en"), ("en", "pl"), ("pl", "en")]


# -- through the command line ------------------------------------------------------------------------


def nothing_installed(data: Path) -> None:
    """No package, no staging folder, no leftover download."""
    packages = packages_dir(data)
    assert not packages.exists() or list(packages.iterdir()) == []
    downloads = translation_dir(data) / "downloads"
    assert not downloads.exists() or list(downloads.iterdir()) == []


@needs_argos
def test_fetch_installs_both_directions_and_lists_them(tmp_path: Path, tiny_packages: dict) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    with serving(tmp_path / "mirror") as mirror:
        mirror.add("en", ARGOS_LANG, tiny_packages[("en", ARGOS_LANG)])
        mirror.add(
            ARGOS_LANG,
            "en",
            tiny_packages[(ARGOS_LANG, "en")],
            checksum=sha256_of(tiny_packages[(ARGOS_LANG, "en")]),
        )
        result = run(
            ["translation", "fetch", ARGOS_LANG], data, home, HOMEROOM_ARGOS_INDEX_URL=mirror.index_url
        )
        assert result.returncode == 0, result.stderr
        assert f"en→{ARGOS_LANG}: installed" in result.stdout
        assert f"{ARGOS_LANG}→en: installed" in result.stdout
        again = run(
            ["translation", "fetch", ARGOS_LANG], data, home, HOMEROOM_ARGOS_INDEX_URL=mirror.index_url
        )
    assert again.returncode == 0, again.stderr
    assert f"en→{ARGOS_LANG}: up to date" in again.stdout
    assert [p.pair for p in installed_packages(data)] == [("en", ARGOS_LANG), (ARGOS_LANG, "en")]
    assert list((translation_dir(data) / "downloads").iterdir()) == []
    listing = run(["translation", "list"], data, home, HOMEROOM_TRANSLATION_ENGINES="argos")
    assert f"en    {ARGOS_LANG}    argos" in listing.stdout
    assert f"{ARGOS_LANG}    en    argos" in listing.stdout
    assert list(home.iterdir()) == []


@needs_argos
def test_a_corrupt_download_is_refused_and_nothing_is_installed(tmp_path: Path, tiny_packages: dict) -> None:
    good = tiny_packages[("en", ARGOS_LANG)].read_bytes()
    with serving(tmp_path / "mirror") as mirror:
        mirror.add("en", ARGOS_LANG, good[: len(good) // 2])  # cut short: not a zip any more
        result = run(
            ["translation", "fetch", ARGOS_LANG],
            tmp_path / "data",
            tmp_path,
            HOMEROOM_ARGOS_INDEX_URL=mirror.index_url,
        )
    assert result.returncode == 1
    assert "not an argos package" in result.stdout
    assert f"not installed: en→{ARGOS_LANG}, {ARGOS_LANG}→en" in result.stderr
    assert "Traceback" not in result.stderr
    nothing_installed(tmp_path / "data")


@needs_argos
def test_a_package_for_the_wrong_pair_is_refused_and_nothing_is_installed(
    tmp_path: Path, tiny_packages: dict
) -> None:
    with serving(tmp_path / "mirror") as mirror:
        mirror.add(
            "en", ARGOS_LANG, tiny_packages[(ARGOS_LANG, "en")]
        )  # the index says en→ur; the file is ur→en
        result = run(
            ["translation", "fetch", ARGOS_LANG],
            tmp_path / "data",
            tmp_path,
            HOMEROOM_ARGOS_INDEX_URL=mirror.index_url,
        )
    assert result.returncode == 1
    assert f"a package for {ARGOS_LANG}→en, not en→{ARGOS_LANG}" in result.stdout
    nothing_installed(tmp_path / "data")


@needs_argos
def test_a_download_whose_checksum_differs_from_the_index_is_refused(
    tmp_path: Path, tiny_packages: dict
) -> None:
    with serving(tmp_path / "mirror") as mirror:
        mirror.add("en", ARGOS_LANG, tiny_packages[("en", ARGOS_LANG)], checksum="0" * 64)
        result = run(
            ["translation", "fetch", ARGOS_LANG],
            tmp_path / "data",
            tmp_path,
            HOMEROOM_ARGOS_INDEX_URL=mirror.index_url,
        )
    assert result.returncode == 1
    assert "checksum does not match" in result.stdout
    nothing_installed(tmp_path / "data")


@needs_argos
def test_a_damaged_model_inside_a_good_zip_is_refused(tmp_path: Path, tiny_packages: dict) -> None:
    broken = tmp_path / "broken.argosmodel"
    with zipfile.ZipFile(tiny_packages[("en", ARGOS_LANG)]) as source, zipfile.ZipFile(broken, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            out.writestr(item, data[:64] if item.filename.endswith("model.bin") else data)
    with serving(tmp_path / "mirror") as mirror:
        mirror.add("en", ARGOS_LANG, broken)
        result = run(
            ["translation", "fetch", ARGOS_LANG],
            tmp_path / "data",
            tmp_path,
            HOMEROOM_ARGOS_INDEX_URL=mirror.index_url,
        )
    assert result.returncode == 1
    assert "does not load" in result.stdout
    nothing_installed(tmp_path / "data")


@needs_argos
def test_an_unreachable_index_says_how_to_install_offline(tmp_path: Path) -> None:
    with serving(tmp_path / "mirror") as mirror:
        url = mirror.index_url
    result = run(["translation", "fetch", "pl"], tmp_path / "data", tmp_path, HOMEROOM_ARGOS_INDEX_URL=url)
    assert result.returncode == 1
    assert "cannot reach the argos package index" in result.stderr
    assert "translation install" in result.stderr and "Traceback" not in result.stderr
    nothing_installed(tmp_path / "data")


def test_fetch_refuses_what_is_not_a_language_code(tmp_path: Path) -> None:
    result = run(["translation", "fetch", "../../etc"], tmp_path / "data", tmp_path)
    assert result.returncode == 2
    assert "not a language code" in result.stderr or "extra is not installed" in result.stderr


def test_the_index_url_must_be_http(tmp_path: Path) -> None:
    result = run(
        ["translation", "fetch", "pl"], tmp_path / "data", tmp_path, HOMEROOM_ARGOS_INDEX_URL="file:///tmp/x"
    )
    assert result.returncode == 2
    assert "HOMEROOM_ARGOS_INDEX_URL" in result.stderr


# -- a running server picks the new pair up ----------------------------------------------------------


@pytest.fixture
async def argos_app(tmp_path: Path) -> AsyncIterator[Starlette]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'homeroom.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = make_settings(tmp_path / "data", url).with_(translation_engines=("argos",))
    application = create_app(settings, clock=Clock())
    async with application.router.lifespan_context(application):
        yield application


@needs_argos
async def test_a_running_server_translates_through_a_freshly_fetched_pair(
    argos_app: Starlette, tmp_path: Path, tiny_packages: dict
) -> None:
    services = argos_app.state.services
    registry = services.translation.registry
    world = await make_world(services)
    pupil = await world.add_student(world.classes[0], "Amir", "Khan")
    parent = await world.add_parent(pupil, language=ARGOS_LANG)
    assert not registry.can_translate("en", ARGOS_LANG)
    with serving(tmp_path / "mirror") as mirror:
        mirror.add("en", ARGOS_LANG, tiny_packages[("en", ARGOS_LANG)])
        mirror.add(ARGOS_LANG, "en", tiny_packages[(ARGOS_LANG, "en")])
        result = await asyncio.to_thread(
            run,
            ["translation", "fetch", ARGOS_LANG],
            services.settings.data_dir,
            tmp_path,
            HOMEROOM_ARGOS_INDEX_URL=mirror.index_url,
        )
    assert result.returncode == 0, result.stderr
    assert registry.can_translate("en", ARGOS_LANG) and registry.can_translate(ARGOS_LANG, "en")
    transport = httpx.ASGITransport(app=argos_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        created = await client.post(
            f"/api/classes/{world.classes[0].id}/posts",
            json={"text": "Tomorrow is PE day. Please bring trainers."},
            headers=world.teacher.headers,
        )
        assert created.status_code == 201, created.text
        assert await services.translation.pipeline.idle(20)
        seen = await client.get(f"/api/posts/{created.json()['id']}", headers=parent.headers)
    assert seen.json()["translation"] == {"status": "ready", "engine": "argos"}
    assert seen.json()["lang"] == ARGOS_LANG


# -- packages bundled in an image -------------------------------------------------------------------


@needs_argos
async def test_bundled_packages_are_served_and_a_fetch_leaves_them_be(
    tmp_path: Path, tiny_packages: dict
) -> None:
    from server.translation.argos import ArgosEngine, install_package

    image = tmp_path / "image"
    install_package(tiny_packages[("en", ARGOS_LANG)], image)
    bundled = packages_dir(image)
    engine = ArgosEngine(tmp_path / "data", warm=False, bundled=[bundled])
    await engine.start()
    try:
        assert ("en", ARGOS_LANG) in engine.pairs()
        assert (await engine.translate(["Tomorrow is PE day."], "en", ARGOS_LANG))[0]
        install_package(
            tiny_packages[("en", ARGOS_LANG)], tmp_path / "data"
        )  # same version: the volume's wins
        assert engine.packages()[("en", ARGOS_LANG)].path.parent == packages_dir(tmp_path / "data")
    finally:
        await engine.close()
    with serving(tmp_path / "mirror") as mirror:
        mirror.add("en", ARGOS_LANG, tiny_packages[("en", ARGOS_LANG)])
        result = run(
            ["translation", "fetch", ARGOS_LANG],
            tmp_path / "fresh",
            tmp_path,
            HOMEROOM_ARGOS_INDEX_URL=mirror.index_url,
            HOMEROOM_ARGOS_BUNDLED_DIR=str(bundled),
        )
    assert f"en→{ARGOS_LANG}: up to date" in result.stdout, result.stdout + result.stderr
    assert f"note: the index has no {ARGOS_LANG}→en package" in result.stdout
    assert result.returncode == 0
    nothing_installed(tmp_path / "fresh")


# -- the admin's fetch job --------------------------------------------------------------------------


@needs_argos
async def test_a_fetch_job_whose_index_cannot_be_reached_ends_failed_with_advice(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from server.translation.fetch_job import FetchPart, read_status

    with serving(tmp_path / "mirror") as mirror:
        closed = mirror.index_url
    settings = make_settings(tmp_path, "sqlite+aiosqlite:///unused.db").with_(argos_index_url=closed)
    part = FetchPart()
    await part.start(SimpleNamespace(settings=settings, translation_fetch=None, translation=None))  # type: ignore[arg-type]
    first = part.begin(["pl"], actor_id=7)
    assert first["status"] == "running" and read_status(tmp_path)["status"] == "running"
    assert part.task is not None
    await part.task
    status = read_status(tmp_path)
    assert status["status"] == "failed" and "cannot reach the argos package index" in status["message"]
    assert status["by"] == 7 and status["finished_at"]
    await part.stop()
    nothing_installed(tmp_path)


def test_a_running_status_nobody_updates_reads_as_interrupted(tmp_path: Path) -> None:
    import time

    from server.translation.fetch_job import STALE_SECONDS, read_status, write_status

    assert read_status(tmp_path) == {"status": "idle", "steps": []}
    write_status(tmp_path, {"status": "running", "languages": ["pl"], "steps": []})
    assert read_status(tmp_path)["status"] == "running"
    later = read_status(tmp_path, now=time.time() + STALE_SECONDS + 1)
    assert later["status"] == "interrupted" and "Start it again" in later["message"]
