"""The translation tests' fixtures (a root conftest plugin): tiny argos packages, translating apps.

The tiny packages are built once per run by ``tools/build_tiny_argos.py`` (offline,
a fraction of a second each): ``en→ur`` and ``ur→en`` give argos a pair and a pivot.
Their output is noise; the tests check plumbing, never quality. Urdu (``ur``) plays
the language only argos serves; Spanish (``es``) the one Apertium serves.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.db.migrate import upgrade
from server.services import Services
from server.translation.apertium import ApertiumEngine
from server.translation.argos import argos_available, install_package
from server.translation.pipeline import Pipeline
from tests.conftest import BACKENDS, Clock, make_settings
from tests.services import create_pg_database, drop_pg_database, postgres_admin_url

ROOT = Path(__file__).resolve().parents[2]
ARGOS_LANG = "ur"

needs_argos = pytest.mark.skipif(not argos_available(), reason="the 'translate' extra is not installed")
needs_apertium = pytest.mark.skipif(
    not ApertiumEngine.installed() or not Path("/usr/share/apertium/modes/eng-spa.mode").exists(),
    reason="apertium and apertium-eng-spa are not installed (tools/test-prereqs.sh installs them)",
)


def load_builder() -> ModuleType:
    """``tools/build_tiny_argos.py`` as a module."""
    spec = importlib.util.spec_from_file_location("build_tiny_argos", ROOT / "tools" / "build_tiny_argos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny_packages(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Tiny ``.argosmodel`` files for en→ur and ur→en."""
    if not argos_available():
        pytest.skip("the 'translate' extra is not installed")
    builder = load_builder()
    folder = tmp_path_factory.mktemp("argosmodels")
    return {
        ("en", ARGOS_LANG): builder.build(folder / "en_ur.argosmodel", "en", ARGOS_LANG, seed=7),
        (ARGOS_LANG, "en"): builder.build(folder / "ur_en.argosmodel", ARGOS_LANG, "en", seed=11),
    }


@pytest.fixture(scope="session")
def argos_data_dir(
    tmp_path_factory: pytest.TempPathFactory, tiny_packages: dict[tuple[str, str], Path]
) -> Path:
    """A server data folder with both tiny packages installed."""
    data_dir = tmp_path_factory.mktemp("argosdata")
    for path in tiny_packages.values():
        install_package(path, data_dir)
    return data_dir


class NetworkBlocked(AssertionError):
    """Raised by the audit hook when code under test tries to reach the network."""


_blocking = {"on": False, "attempts": []}


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _blocking["on"] and event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname"):
        _blocking["attempts"].append((event, args))  # type: ignore[attr-defined]
        raise NetworkBlocked(f"network access during translation: {event} {args!r}")


sys.addaudithook(_audit)


@pytest.fixture
def no_network() -> Iterator[list[tuple[str, tuple[object, ...]]]]:
    """Any socket connect or name lookup in this process raises while the test runs."""
    _blocking["attempts"] = []
    _blocking["on"] = True
    try:
        yield _blocking["attempts"]  # type: ignore[misc]
    finally:
        _blocking["on"] = False


def network_is_blocked_here() -> bool:
    """True when the audit hook is active (used to prove the hook itself works)."""
    try:
        socket.getaddrinfo("localhost", 80)
    except NetworkBlocked:
        return True
    return False


@pytest.fixture(scope="module", params=BACKENDS)
async def translating_app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    argos_data_dir: Path,
) -> AsyncIterator[Starlette]:
    """An app whose engines are argos (tiny packages) then Apertium, on one database backend."""
    backend: str = request.param
    tmp = tmp_path_factory.mktemp(f"translating-{backend}")
    admin_url = postgres_admin_url()
    if backend == "postgresql":
        if admin_url is None:
            pytest.skip("HOMEROOM_TEST_DATABASE_URL=none: PostgreSQL tests disabled")
        url = await create_pg_database(admin_url)
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'homeroom.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = make_settings(argos_data_dir, url).with_(translation_engines=("argos", "apertium"))
    application = create_app(settings, clock=Clock())
    async with application.router.lifespan_context(application):
        yield application
    if backend == "postgresql" and admin_url is not None:
        await drop_pg_database(admin_url, url)


@pytest.fixture
def tservices(translating_app: Starlette) -> Services:
    return translating_app.state.services  # type: ignore[no-any-return]


@pytest.fixture
def pipeline(tservices: Services) -> Pipeline:
    return tservices.translation.pipeline  # type: ignore[no-any-return]
