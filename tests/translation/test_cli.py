"""``python -m server translation list|install`` and ``worker``, run as a school would run them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.translation.fixtures import ARGOS_LANG, ROOT, needs_argos


def run(args: list[str], data_dir: Path, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HOMEROOM_", "XDG_", "ARGOS_"))}
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        env={**clean, "HOME": str(home), "HOMEROOM_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@needs_argos
def test_install_then_list_uses_the_data_folder_and_never_the_home_folder(
    tmp_path: Path, tiny_packages: dict
) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    result = run(["translation", "install", str(tiny_packages[("en", ARGOS_LANG)])], data, home)
    assert result.returncode == 0, result.stderr
    assert f"installed en→{ARGOS_LANG} version 0.1" in result.stdout
    assert (data / "translation" / "packages").is_dir()
    listing = run(["translation", "list"], data, home, HOMEROOM_TRANSLATION_ENGINES="argos")
    assert listing.returncode == 0, listing.stderr
    assert f"en    {ARGOS_LANG}    argos" in listing.stdout and "package 0.1" in listing.stdout
    assert list(home.iterdir()) == []  # argostranslate created nothing in the user's home


def test_installing_something_that_is_not_a_package_fails_clearly(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    result = run(["translation", "install", str(bogus)], tmp_path / "data", tmp_path)
    assert result.returncode != 0
    assert "not an argos package" in result.stderr or "extra is not installed" in result.stderr
    assert "Traceback" not in result.stderr


def test_list_with_no_engines_says_how_to_get_some(tmp_path: Path) -> None:
    result = run(["translation", "list"], tmp_path / "data", tmp_path, HOMEROOM_TRANSLATION_ENGINES="none")
    assert result.returncode == 0
    assert "No language pairs available" in result.stdout


def test_the_worker_needs_a_redis_broker(tmp_path: Path) -> None:
    result = run(["worker"], tmp_path / "data", tmp_path, HOMEROOM_BROKER_URL="memory://")
    assert result.returncode == 2
    assert "redis://" in result.stderr


@needs_argos
def test_a_fresh_process_installs_lists_and_translates_with_the_network_blocked(
    tmp_path: Path, tiny_packages: dict
) -> None:
    """From the first argostranslate import on, no socket connects and no name is looked up."""
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        attempts = []
        def audit(event, args):
            if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname"):
                attempts.append(event)
                raise OSError("network blocked: " + event)
        sys.addaudithook(audit)
        from pathlib import Path
        from server.translation.argos import ArgosEngine, install_package
        data = Path({str(tmp_path / "data")!r})
        install_package(Path({str(tiny_packages[("en", ARGOS_LANG)])!r}), data)
        async def main():
            engine = ArgosEngine(data)
            await engine.start()
            await engine._warm_task
            print(await engine.translate(["Tomorrow is PE day. Bring a hat."], "en", {ARGOS_LANG!r}))
            await engine.close()
        asyncio.run(main())
        assert "argostranslate.settings" in sys.modules
        print("ATTEMPTS", attempts)
        """
    )
    home = tmp_path / "home"
    home.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ARGOS_"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "ATTEMPTS []" in result.stdout
    assert list(home.iterdir()) == []


@pytest.mark.parametrize("command", [["translation"], ["translation", "install"]])
def test_incomplete_commands_are_usage_errors(tmp_path: Path, command: list[str]) -> None:
    result = run(command, tmp_path / "data", tmp_path)
    assert result.returncode == 2
    assert "usage" in result.stderr.lower()
