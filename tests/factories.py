"""Factories for domain objects: schools, classes, pupils, staff and parents, signed in.

They write straight to the database (no HTTP) with one pre-computed password
hash, so a test builds a whole school in milliseconds. Every school is a
separate tenant, so tests sharing a database never see each other's data.
"""

from __future__ import annotations

import io
import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from argon2 import PasswordHasher
from sqlalchemy import select

from server.auth.tokens import csrf_token, digest, new_code
from server.db.models import (
    Activity,
    Invite,
    OutboxEvent,
    School,
    SchoolClass,
    Skill,
    Student,
    User,
)
from server.school import seed
from server.services import Services
from server.timeutil import utcnow

PASSWORD = "correct-horse-battery"
PASSWORD_HASH = PasswordHasher().hash(PASSWORD)
_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}-{secrets.token_hex(3)}"


@dataclass
class Actor:
    """A signed-in user: their row, a bearer token and the CSRF token for cookie use."""

    user: User
    token: str
    csrf: str
    student: Student | None = None

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """One school with an admin, a teacher, an office account, classes, pupils and parents."""

    services: Services
    school: School
    admin: Actor
    teacher: Actor
    office: Actor
    classes: list[SchoolClass] = field(default_factory=list)
    skills: list[Skill] = field(default_factory=list)

    async def add_class(self, name: str = "Year 4 Oak") -> SchoolClass:
        async with self.services.transaction() as session:
            found = await seed.add_class(session, self.school, name, staff=[self.teacher.user])
        self.classes.append(found)
        return found

    async def add_student(
        self,
        school_class: SchoolClass,
        first_name: str = "Amir",
        last_name: str = "Khan",
        *,
        photo_consent: bool = True,
        la_care: bool = False,
    ) -> Actor:
        async with self.services.transaction() as session:
            [pupil] = await seed.add_pupils(
                session, school_class, [(first_name, last_name)], photo_consent=photo_consent, la_care=la_care
            )
            user = await session.get(User, pupil.user_id)
            assert user is not None
        actor = await self.sign_in(user)
        actor.student = pupil
        return actor

    async def add_user(self, role: str, name: str | None = None, *, language: str = "en") -> Actor:
        async with self.services.transaction() as session:
            user = await seed.add_user(
                session,
                self.school,
                role,
                name or unique(role.title()),
                email=f"{unique(role)}@example.test",
                password_hash=PASSWORD_HASH,
                language=language,
            )
        return await self.sign_in(user)

    async def add_parent(self, *children: Actor, language: str = "en", name: str | None = None) -> Actor:
        parent = await self.add_user("parent", name, language=language)
        async with self.services.transaction() as session:
            pupils = [child.student for child in children if child.student is not None]
            assert len(pupils) == len(children)
            seed.link_guardians(session, [(parent.user, pupil) for pupil in pupils])
        return parent

    async def add_invite(self, pupil: Actor, *, days: float = 14, used: bool = False) -> str:
        """A one-use invite code for ``pupil`` (stored hashed, as the server does); returns the code."""
        assert pupil.student is not None
        code = new_code(10)
        now = utcnow()
        async with self.services.transaction() as session:
            session.add(
                Invite(
                    school_id=self.school.id,
                    student_id=pupil.student.id,
                    code_hash=digest(code),
                    created_by=self.admin.id,
                    expires_at=now + timedelta(days=days),
                    used_at=now if used else None,
                    created_at=now,
                )
            )
        return code

    async def set_policy(self, version: int, text: str | None = None) -> None:
        """Publish a new version of the school's code of conduct (straight to the database)."""
        async with self.services.transaction() as session:
            school = await session.get(School, self.school.id)
            assert school is not None
            school.policy_version = version
            if text is not None:
                school.policy_text = text
        self.school.policy_version = version

    async def add_family(
        self, first_name: str = "Sam", *, language: str = "en", school_class: SchoolClass | None = None
    ) -> tuple[Actor, Actor]:
        """A pupil (in the first class unless given) and one guardian of theirs: ``(pupil, parent)``."""
        if school_class is None:
            school_class = self.classes[0] if self.classes else await self.add_class()
        pupil = await self.add_student(school_class, first_name, "Jones")
        parent = await self.add_parent(pupil, language=language, name=f"{first_name}'s parent")
        return pupil, parent

    async def update_school(self, **fields: Any) -> None:
        """Change school settings straight in the database (working_hours, office_phone, …)."""
        async with self.services.transaction() as session:
            found = await session.get(School, self.school.id)
            assert found is not None
            for name, value in fields.items():
                setattr(found, name, value)
                setattr(self.school, name, value)

    async def sign_in(self, user: User) -> Actor:
        async with self.services.transaction() as session:
            [token] = seed.sign_in(session, [user])
        return Actor(user=user, token=token, csrf=csrf_token(self.services.settings.secret_key, token))


async def make_world(services: Services, *, classes: int = 1) -> World:
    """A fresh school (its own tenant) with staff, ``classes`` classes and the default skills."""
    async with services.transaction() as session:
        school = await seed.add_school(session, unique("School "))
        skills = await seed.add_skills(session, school, [("Kindness", "heart", 1), ("Teamwork", "team", 2)])
    placeholder = Actor(user=None, token="", csrf="")  # type: ignore[arg-type]
    world = World(services, school, placeholder, placeholder, placeholder, skills=skills)
    world.admin = await world.add_user("admin", "Mrs Adebayo")
    world.teacher = await world.add_user("teacher", "Mrs Patel")
    world.office = await world.add_user("office", "Mrs Doyle")
    for index in range(classes):
        await world.add_class(f"Class {index + 1}")
    return world


def error_of(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert ``response`` is an API.md error (status, shape, code) and return its ``error`` object."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    assert "Traceback" not in response.text
    if code is not None:
        assert error["code"] == code, error
    return error  # type: ignore[no-any-return]


def api_endpoints() -> list[tuple[str, str]]:
    """Every (method, path template) the app serves over HTTP, from ``server.app.api_routes()``."""
    from starlette.routing import Route

    from server.app import api_routes

    found: list[tuple[str, str]] = []
    for route in api_routes():
        if isinstance(route, Route):
            found += [(method, route.path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return found


def fill(template: str, value: int) -> str:
    """A concrete path from a template, every ``{name:int}`` set to ``value``."""
    return re.sub(r"\{[^}]+\}", str(value), template)


async def outbox(services: Services, channel: str, type_: str | None = None) -> list[dict[str, Any]]:
    """Events emitted on ``channel`` (optionally of one type), oldest first, as ``{type, data}``."""
    async with services.read() as session:
        query = select(OutboxEvent).where(OutboxEvent.channel == channel)
        if type_ is not None:
            query = query.where(OutboxEvent.type == type_)
        rows = (await session.scalars(query.order_by(OutboxEvent.id))).all()
    return [{"type": row.type, "data": row.data} for row in rows]


# -- stories, media and points helpers ----------------------------------------------------------


def image_bytes(
    fmt: str = "JPEG",
    size: tuple[int, int] = (64, 48),
    *,
    gps: bool = False,
    orientation: int | None = None,
    colour: tuple[int, int, int] = (200, 120, 40),
) -> bytes:
    """A small real image; ``gps=True`` adds EXIF with a camera and GPS position (as phones do)."""
    from PIL import Image

    picture = Image.new("RGB", size, colour)
    exif = Image.Exif()
    if gps or orientation is not None:
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x0110] = "Phone 12"  # Model
        if orientation is not None:
            exif[0x0112] = orientation
        if gps:
            exif[0x8825] = {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    out = io.BytesIO()
    extra = {"exif": exif.tobytes()} if len(exif) else {}
    picture.save(out, fmt, **extra)
    return out.getvalue()


def pdf_bytes(
    body: str = "School trip letter", *, catalog: str = "", page: str = "", extra: tuple[str, ...] = ()
) -> bytes:
    """A small well-formed PDF (one page, cross-reference table and trailer).

    ``catalog`` and ``page`` are written into the document catalog and the page dictionary
    as they are (escaped names included); ``extra`` objects are numbered from 5 on.
    """
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R %s>>" % (catalog + " " if catalog else "").encode(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R %s>>"
        % (page + " " if page else "").encode(),
    ]
    stream = f"BT /F1 12 Tf 20 100 Td ({body}) Tj ET".encode()
    objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects += [obj.encode() for obj in extra]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


async def upload(
    api: httpx.AsyncClient, actor: Actor, data: bytes | None = None, name: str = "photo.jpg"
) -> httpx.Response:
    """``POST /api/media`` as ``actor`` (a small JPEG unless ``data`` is given)."""
    content = image_bytes() if data is None else data
    return await api.post(
        "/api/media", files={"file": (name, content, "application/octet-stream")}, headers=actor.headers
    )


async def upload_id(api: httpx.AsyncClient, actor: Actor, data: bytes | None = None) -> int:
    """Upload and return the new file's id (fails the test when the upload is refused)."""
    response = await upload(api, actor, data)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def events_on(services: Services, channel: str, type_: str | None = None) -> list[dict[str, Any]]:
    """Live events written for ``channel`` (oldest first), as ``{"type", "data"}``."""
    from sqlalchemy import select

    from server.db.models import OutboxEvent

    async with services.read() as session:
        query = select(OutboxEvent).where(OutboxEvent.channel == channel).order_by(OutboxEvent.id)
        if type_ is not None:
            query = query.where(OutboxEvent.type == type_)
        rows = (await session.scalars(query)).all()
    return [{"type": row.type, "data": row.data} for row in rows]


def principal_of(actor: Actor) -> Any:
    """The ``Principal`` an actor's requests resolve to, for calling domain functions directly."""
    from server.auth.principal import Principal

    return Principal(user=actor.user, session_id=0, token=actor.token, via="bearer", policy_version=1)


# -- portfolio helpers ---------------------------------------------------------------------------


async def add_activity(
    world: World,
    school_class: SchoolClass,
    title: str = "Draw your favourite animal",
    *,
    due_at: datetime | None = None,
) -> Activity:
    """A home-learning activity set by the world's teacher, written straight to the database."""
    async with world.services.transaction() as session:
        activity = Activity(
            school_id=world.school.id,
            class_id=school_class.id,
            title=title,
            instructions="Use colours!",
            due_at=due_at,
            created_by=world.teacher.id,
        )
        session.add(activity)
        await session.flush()
    return activity
