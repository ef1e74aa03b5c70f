"""A real Homeroom server for the browser tests: its own data folder, a free port, a seeded school.

The school is made the way a real one is: ``python -m server create-school`` for the
head, then the public API for classes, staff, pupils and invites, and ``/api/join``
for the families. Nothing is written behind the server's back.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.routing import Match, Route, WebSocketRoute

from server.app import api_routes

PASSWORD = "correct-horse-battery-staple"
ADMIN_EMAIL = "head@riverside.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def served(path: str, scheme: str = "http") -> bool:
    """True when this build of the server has a route for ``path`` (HTTP or websocket)."""
    kind = "websocket" if scheme.startswith("ws") else "http"
    for route in api_routes():
        if kind == "http" and not isinstance(route, Route):
            continue
        if kind == "websocket" and not isinstance(route, WebSocketRoute):
            continue
        scope: dict[str, Any] = {"type": kind, "path": path, "method": "GET", "root_path": ""}
        match, _ = route.matches(scope)
        if match != Match.NONE:
            return True
    return False


@dataclass
class Person:
    """Someone in the seeded school: how to sign in and who they are."""

    name: str
    email: str = ""
    token: str = ""
    id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class School:
    """The seeded school the tests use."""

    admin: Person
    teacher: Person
    class_id: int
    class_code: str
    pupils: dict[str, dict[str, Any]]
    parents: dict[str, Person]
    skills: list[dict[str, Any]]
    other_class_id: int


class Server:
    """``python -m server serve`` in a subprocess, with helpers to call its API."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "HOMEROOM_DATA_DIR": str(data_dir),
            "HOMEROOM_SECRET_KEY": "browser-tests-secret-key-0123456789-abcdefghij",
            "HOMEROOM_ENV": "development",
            "HOMEROOM_BROKER_URL": "memory://",
            "HOMEROOM_LOGIN_ATTEMPTS_PER_MINUTE": "10000",
            "HOMEROOM_CODE_ATTEMPTS_PER_MINUTE": "10000",
            "HOMEROOM_TRANSLATION_ENGINES": "apertium",
            "HOMEROOM_LOG_JSON": "false",
        }
        self.env.pop("HOMEROOM_DATABASE_URL", None)
        self.client = httpx.Client(base_url=self.base, timeout=20)

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "server", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"python -m server {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self) -> None:
        self.cli(
            "create-school",
            "--name",
            "Riverside Primary School",
            "--admin-email",
            ADMIN_EMAIL,
            "--admin-password",
            PASSWORD,
            "--admin-name",
            "Mrs Adebayo",
        )
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            try:
                if self.client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not answer /healthz within 30 s")

    def stop(self) -> None:
        self.client.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    # -- API helpers ---------------------------------------------------------------------------

    def call(self, method: str, path: str, who: Person | None = None, **kwargs: Any) -> Any:
        headers = who.headers if who else {}
        reply = self.client.request(method, path, headers=headers, **kwargs)
        if reply.status_code >= 400:
            raise AssertionError(f"{method} {path} → {reply.status_code}: {reply.text}")
        return reply.json() if reply.content else None

    def login(self, email: str, password: str = PASSWORD) -> Person:
        reply = self.call("POST", "/api/auth/login", json={"email": email, "password": password})
        user = reply["user"]
        return Person(name=user["name"], email=email, token=reply["token"], id=user["id"])

    def policy_version(self) -> int:
        return int(self.call("GET", "/api/policy", self.login(ADMIN_EMAIL))["version"])

    def join(self, student_id: int, name: str, email: str, language: str, by: Person) -> Person:
        invite = self.call("POST", "/api/invites", by, json={"student_id": student_id})
        version = self.policy_version()
        reply = self.call(
            "POST",
            "/api/join",
            json={
                "code": invite["code"],
                "name": name,
                "email": email,
                "password": PASSWORD,
                "language": language,
                "accept_policy_version": version,
            },
        )
        return Person(name=name, email=email, token=reply["token"], id=reply["user"]["id"])

    def invite(self, student_id: int, by: Person) -> str:
        return str(self.call("POST", "/api/invites", by, json={"student_id": student_id})["code"])

    def seed(self) -> School:
        admin = self.login(ADMIN_EMAIL)
        oak = self.call("POST", "/api/classes", admin, json={"name": "Year 2 Oak"})
        ash = self.call("POST", "/api/classes", admin, json={"name": "Year 5 Ash"})
        teacher_row = self.call(
            "POST",
            "/api/staff",
            admin,
            json={
                "name": "Mrs Patel",
                "email": "patel@riverside.test",
                "role": "teacher",
                "password": PASSWORD,
                "class_ids": [oak["id"]],
            },
        )
        teacher = self.login("patel@riverside.test")
        teacher.id = teacher_row["id"]
        pupils: dict[str, dict[str, Any]] = {}
        roster = [
            ("Amir", "Khan", True),
            ("Olivia", "Smith", True),
            ("Zofia", "Nowak", False),
            ("Noah", "Brown", True),
            ("Aisha", "Ali", True),
            ("Leo", "Jones", True),
            ("Maya", "Evans", True),
            ("Yusuf", "Rahman", True),
        ]
        for first, last, consent in roster:
            pupils[first] = self.call(
                "POST",
                f"/api/classes/{oak['id']}/students",
                admin,
                json={"first_name": first, "last_name": last, "photo_consent": consent},
            )
        self.call(
            "POST",
            f"/api/classes/{ash['id']}/students",
            admin,
            json={"first_name": "Isla", "last_name": "Green", "photo_consent": True},
        )
        parents = {
            "en": self.join(pupils["Amir"]["id"], "Sarah Khan", "sarah@families.test", "en", teacher),
            "es": self.join(pupils["Olivia"]["id"], "Lucía Smith", "lucia@families.test", "es", teacher),
            "ar": self.join(pupils["Aisha"]["id"], "Layla Ali", "layla@families.test", "ar", teacher),
        }
        skills = self.call("GET", "/api/skills", admin)["items"]
        return School(
            admin=admin,
            teacher=teacher,
            class_id=oak["id"],
            class_code=oak["class_code"],
            pupils=pupils,
            parents=parents,
            skills=skills,
            other_class_id=ash["id"],
        )


_NOT_FOUND_URL = re.compile(r"^(?:https?|wss?)://[^/]+(?P<path>/[^?#]*)")


def unserved_resource(url: str) -> bool:
    """True for a URL of this server that no route of this build answers (a part still to land)."""
    found = _NOT_FOUND_URL.match(url or "")
    if not found:
        return False
    path = found.group("path")
    if path == "/ws":
        return not served("/ws", "ws")
    return path.startswith("/api/") and not served(path)
