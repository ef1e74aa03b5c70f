"""``python -m server``: create-school and demo in a subprocess on a temporary data folder,
then the printed logins used against the API, as a person following the output would."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.cli import main as cli
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]  # the checkout: `python -m server` runs its code


def run_cli(
    data_dir: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEROOM_")}
    env.update(HOMEROOM_DATA_DIR=str(data_dir), **(extra_env or {}))
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@asynccontextmanager
async def api_on(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app, in this process, on the database the command line wrote."""
    app = create_app(make_settings(data_dir, f"sqlite+aiosqlite:///{data_dir / 'homeroom.db'}"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.250.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_create_school_makes_an_admin_who_can_sign_in(tmp_path: Path) -> None:
    done = run_cli(
        tmp_path,
        "create-school",
        "--name",
        "Hillside Primary",
        "--admin-email",
        "Head@Hillside.example",
        "--admin-password",
        "hillside-head-pw",
        "--timezone",
        "Europe/Dublin",
    )
    assert done.returncode == 0, done.stderr
    assert "admin head@hillside.example" in done.stdout
    assert "hillside-head-pw" not in done.stdout + done.stderr
    async with api_on(tmp_path) as api:
        login = await api.post(
            "/api/auth/login", json={"email": "head@hillside.example", "password": "hillside-head-pw"}
        )
        assert login.status_code == 200, login.text
        assert login.json()["user"]["role"] == "admin"
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        school = (await api.get("/api/school", headers=headers)).json()
    assert school["name"] == "Hillside Primary" and school["timezone"] == "Europe/Dublin"
    assert len(school["skills"]) >= 5 and school["policy_version"] == 1

    again = run_cli(tmp_path, "create-school", "--name", "Twice", "--admin-email", "head@hillside.example",
                    "--admin-password", "hillside-head-pw")  # fmt: skip
    assert again.returncode == 1 and "already exists" in again.stderr
    weak = run_cli(tmp_path, "create-school", "--name", "Weak", "--admin-email", "w@x.example",
                   "--admin-password", "short")  # fmt: skip
    assert weak.returncode == 1 and "Passwords need" in weak.stderr
    assert "Traceback" not in again.stderr + weak.stderr


def test_production_refuses_to_start_without_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOMEROOM_ENV", "production")
    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HOMEROOM_SECRET_KEY", raising=False)
    assert cli.main(["migrate"]) == 2
    assert "HOMEROOM_SECRET_KEY is required" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no database made, no key written


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A data folder holding a freshly seeded demo school, and what ``demo --no-serve`` printed."""
    data_dir = tmp_path_factory.mktemp("demo")
    done = run_cli(data_dir, "demo", "--no-serve", "--port", "8123")
    assert done.returncode == 0, done.stderr
    return data_dir, done.stdout


async def test_demo_prints_logins_that_sign_in(demo_dir: tuple[Path, str]) -> None:
    data_dir, out = demo_dir
    assert "http://127.0.0.1:8123/" in out
    password = re.search(r"password: (\S+)", out).group(1)  # type: ignore[union-attr]
    emails = re.findall(r"(\S+@\S+\.example)$", out, flags=re.MULTILINE)
    pupils = re.findall(r"class code (\S+), pupil code (\S+)", out)
    assert len(emails) >= 5 and pupils
    roles = set()
    async with api_on(data_dir) as api:
        for email in emails:
            login = await api.post("/api/auth/login", json={"email": email, "password": password})
            assert login.status_code == 200, (email, login.text)
            roles.add(login.json()["user"]["role"])
        for class_code, pupil_code in pupils:
            login = await api.post(
                "/api/auth/student", json={"class_code": class_code, "student_code": pupil_code}
            )
            assert login.status_code == 200, login.text
            roles.add(login.json()["user"]["role"])
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        assert (await api.get("/api/me", headers=headers)).json()["student"]["name"]
        await _check_the_demo_school(api, password)
    assert roles == {"admin", "teacher", "office", "parent", "student"}


def test_demo_never_seeds_into_a_database_that_holds_a_school(
    demo_dir: tuple[Path, str], tmp_path: Path
) -> None:
    shutil.copy(demo_dir[0] / "homeroom.db", tmp_path / "homeroom.db")  # a school, but no demo listing
    refused = run_cli(tmp_path, "demo", "--no-serve", "--keep")
    assert refused.returncode == 1 and "already holds a school" in refused.stderr


async def _check_the_demo_school(api: httpx.AsyncClient, password: str) -> None:
    """Reception to Year 6 of about 25, all three staff roles, shared first names, consent and care flags."""
    login = await api.post("/api/auth/login", json={"email": "head@riverside.example", "password": password})
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    classes = (await api.get("/api/classes", headers=headers)).json()["items"]
    assert [c["name"] for c in classes] == ["Reception", *(f"Year {n}" for n in range(1, 7))]
    pupils = []
    for school_class in classes:
        items = (await api.get(f"/api/classes/{school_class['id']}/students", headers=headers)).json()[
            "items"
        ]
        assert 20 <= len(items) <= 30
        pupils += items
    staff = (await api.get("/api/staff", headers=headers)).json()["items"]
    assert {s["role"] for s in staff} == {"admin", "teacher", "office"}
    assert any(p["name"].endswith(".") for p in pupils)  # classmates sharing a first name
    assert any(not p["photo_consent"] for p in pupils)
    assert sum(p["la_care"] for p in pupils) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.live
def test_demo_serves_on_the_printed_url(demo_dir: tuple[Path, str]) -> None:
    """What ``make run`` ends with: a server on the printed URL where the printed logins work."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEROOM_")}
    env["HOMEROOM_DATA_DIR"] = str(demo_dir[0])
    server = subprocess.Popen(
        [sys.executable, "-m", "server", "demo", "--keep", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        printed = ""
        for line in server.stdout:
            printed += line
            if line.startswith("===") and "ready:" in printed:
                break
        url = re.search(r"ready: (http://\S+)", printed).group(1)  # type: ignore[union-attr]
        assert url == f"http://127.0.0.1:{port}/"
        email = re.search(r"(\S+@families\.example)$", printed, flags=re.MULTILINE).group(1)  # type: ignore[union-attr]
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "the demo server stopped"
            assert time.monotonic() < deadline, "the demo server never answered"
            time.sleep(0.1)
        login = httpx.post(url + "api/auth/login", json={"email": email, "password": "homeroom-demo"})
        assert login.status_code == 200
        me = httpx.get(url + "api/me", headers={"Authorization": f"Bearer {login.json()['token']}"})
        assert me.json()["role"] == "parent" and me.json()["children"]
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
