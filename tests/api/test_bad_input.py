"""Bad input, sent to every HTTP endpoint the app serves, gets a 4xx in the API.md shape and changes nothing.

The endpoints come from ``server.app.api_routes()``, so a route added later is walked
too: every one gets unknown, huge and malformed path ids, an oversize body, requests
without or with a broken token, and (unsafe methods) non-JSON and non-object bodies.
The endpoints in ``SPECS`` also get every field broken in turn: wrong JSON types,
missing fields, overlong text, NUL characters, out-of-range numbers, unknown ids of
rows, and SQL/HTML metacharacters where a field has a format. After each refused
request the row counts of every table are compared, and after each endpoint the rows
of the school are compared too: a refused request writes nothing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from starlette.applications import Starlette

from server.api import auth, meta, onboarding
from server.api import school as school_api
from server.db.models import Base, GuardianRequest
from server.middleware import BodyLimit
from server.services import Services
from tests.factories import Actor, World, api_endpoints, error_of, fill, make_world

ENDPOINTS = api_endpoints()
UNKNOWN_ID = 2**40
HUGE_ID = 2**70
SQL = "' OR '1'='1'; DROP TABLE users; --"
HTML = '<script>alert("x")</script>'
NUL = "a\x00b"

WRONG_FOR_TEXT: list[Any] = [123, 1.5, True, [], {"a": 1}, None]
WRONG_FOR_INT: list[Any] = ["1", 1.5, True, [], {}, None, 0, -1, 2**63, HUGE_ID]
WRONG_FOR_BOOL: list[Any] = ["true", 1, 0, [], {}, None]


@dataclass
class F:
    """A body field: a valid value and the values that must be refused."""

    valid: Any
    bad: list[Any]
    required: bool = True


def text_field(valid: str, max_length: int, *extra_bad: Any, required: bool = True) -> F:
    overlong = "x" * (max_length + 1)
    return F(valid, [*WRONG_FOR_TEXT, "", "   ", overlong, NUL, *extra_bad], required)


def email_field(required: bool = True) -> F:
    return F("someone@example.test", [*WRONG_FOR_TEXT, "", "not-an-email", "a b@c.d", SQL, NUL], required)


def language_field(required: bool = True) -> F:
    return F("es", [*WRONG_FOR_TEXT, "", "xx", "x" * 17, HTML, SQL, NUL], required)


def password_field(required: bool = True) -> F:
    return F("a-long-enough-password", [*WRONG_FOR_TEXT, "short", "x" * 257, NUL], required)


def id_field(required: bool = True) -> F:
    return F(None, [*WRONG_FOR_INT, UNKNOWN_ID], required)  # the valid id is filled in per world


def bool_field() -> F:
    return F(True, WRONG_FOR_BOOL, required=False)


@dataclass
class Spec:
    """How to reach one endpoint well, so that each broken part is what gets refused."""

    actor: str = "admin"  # admin | teacher | parent | none
    body: dict[str, F] | None = None  # None: the endpoint reads no body
    path: str | None = None  # which row's id fills the path: class | student | staff | request
    partial: bool = False  # PATCH: each broken field is sent alone
    query: list[str] = field(default_factory=list)  # bad query strings


CODE = F("ABCDE-FGHJK", [*WRONG_FOR_TEXT, "", "abc", "x" * 33, SQL, HTML, NUL, "ZZZZZ-ZZZZZ"])
HOURS = F(
    {"mon": ["09:00", "15:30"]},
    [
        "9 to 5",
        [],
        {"mon": ["17:00", "08:00"]},
        {"mon": ["8am", "5pm"]},
        {"mon": "all day"},
        {"funday": None},
        {"mon": ["08:00"]},
        {"mon": [8, 17]},
        {HTML: None},
        None,
    ],
    required=False,
)
DAYS = F(
    ["2026-12-24"],
    ["2026-12-24", ["2026-02-30"], [SQL], [20261224], [None], ["2026-12-24"] * 401, None],
    required=False,
)
STAFF_IDS = F([], ["1", [0], [HUGE_ID], ["1"], [1.5], [UNKNOWN_ID], [1] * 201], required=False)
ROLE = F("teacher", [*WRONG_FOR_TEXT, "", "superuser", "parent", "student", SQL, HTML])

SPECS: dict[tuple[str, str], Spec] = {
    ("GET", "/healthz"): Spec(actor="none"),
    ("GET", "/readyz"): Spec(actor="none"),
    ("GET", "/metrics"): Spec(actor="none"),
    ("GET", "/api/openapi.json"): Spec(actor="none"),
    ("GET", "/api/docs"): Spec(actor="none"),
    ("GET", "/i18n/catalogs.json"): Spec(actor="none"),
    ("GET", "/i18n/{name}"): Spec(actor="none"),
    ("GET", "/fonts/{name}"): Spec(actor="none"),
    ("GET", "/api/docs/{name}"): Spec(actor="none"),
    ("GET", "/api/languages"): Spec(),
    ("GET", "/api/auth/reset"): Spec(actor="none"),  # whether reset by email is offered: public
    ("POST", "/api/auth/login"): Spec(
        actor="none",
        body={
            "email": F("nobody@example.test", [*WRONG_FOR_TEXT, "", "ab", "x" * 255, NUL, SQL]),
            "password": F("whatever-it-is", [*WRONG_FOR_TEXT, "", "x" * 257, NUL, SQL]),
        },
    ),
    ("POST", "/api/auth/student"): Spec(
        actor="none",
        body={
            "class_code": F("NOCLASS", [*WRONG_FOR_TEXT, "", "x" * 33, NUL, SQL, HTML]),
            "student_code": F("NOPUPIL", [*WRONG_FOR_TEXT, "", "x" * 33, NUL, SQL, HTML]),
        },
    ),
    ("POST", "/api/auth/logout"): Spec(),
    ("GET", "/api/me"): Spec(),
    ("PATCH", "/api/me"): Spec(
        actor="teacher",
        partial=True,
        body={
            "name": text_field("Mrs P", 200, required=False),
            "language": language_field(required=False),
            "password": password_field(required=False),
            "current_password": F("wrong-current-password", [123, [], NUL], required=False),
        },
    ),
    ("POST", "/api/invites"): Spec(actor="teacher", body={"student_id": id_field()}),
    ("POST", "/api/join"): Spec(
        actor="none",
        body={
            "code": CODE,
            "name": text_field("Pat Parent", 200),
            "email": email_field(),
            "password": password_field(),
            "language": language_field(),
            "accept_policy_version": F(1, [*WRONG_FOR_INT, 2**31, 999]),
        },
    ),
    ("POST", "/api/me/children"): Spec(actor="parent", body={"code": CODE}),
    ("GET", "/api/guardian-requests"): Spec(
        query=[
            "status=bogus",
            f"status={SQL}",
            "status=%00",
            "limit=0",
            "limit=101",
            "limit=x",
            f"before={HUGE_ID}",
        ]
    ),
    ("POST", "/api/guardian-requests/{id:int}/approve"): Spec(path="request"),
    ("POST", "/api/guardian-requests/{id:int}/reject"): Spec(path="request"),
    ("GET", "/api/policy"): Spec(),
    ("POST", "/api/policy/accept"): Spec(actor="parent", body={"version": F(1, [*WRONG_FOR_INT, 2**31, 7])}),
    ("GET", "/api/school"): Spec(),
    ("PATCH", "/api/school"): Spec(
        partial=True,
        body={
            "name": text_field("Riverside", 200, required=False),
            "timezone": F(
                "Europe/Paris",
                [*WRONG_FOR_TEXT, "", "Mars/Olympus", "../../etc/passwd", "Europe", SQL, NUL, "x" * 65],
                required=False,
            ),
            "language": language_field(required=False),
            "working_hours": HOURS,
            "closure_days": DAYS,
            "allow_negative_points": bool_field(),
            "office_phone": F("01632 960000", [123, [], "x" * 65, NUL], required=False),
            "office_email": F("office@example.test", [123, [], "nope", SQL, NUL], required=False),
            "policy_text": F("Be kind.", [123, [], None, "x" * 100_001, NUL], required=False),
            "policy_version": F(2, ["2", 0, -1, 1.5, True, None, HUGE_ID], required=False),
        },
    ),
    ("GET", "/api/classes"): Spec(),
    ("POST", "/api/classes"): Spec(body={"name": text_field("Year 3 Ash", 100, HTML * 5)}),
    ("GET", "/api/classes/{id:int}"): Spec(path="class"),
    ("PATCH", "/api/classes/{id:int}"): Spec(
        path="class",
        body={"name": text_field("Year 3 Elm", 100, required=False), "archived": bool_field()},
        partial=True,
    ),
    ("DELETE", "/api/classes/{id:int}"): Spec(path="class"),
    ("GET", "/api/classes/{id:int}/students"): Spec(path="class"),
    ("POST", "/api/classes/{id:int}/students"): Spec(
        path="class",
        body={
            "first_name": text_field("Ada", 100),
            "last_name": text_field("Lovelace", 100),
            "photo_consent": bool_field(),
            "la_care": bool_field(),
        },
    ),
    ("GET", "/api/students/{id:int}"): Spec(path="student"),
    ("PATCH", "/api/students/{id:int}"): Spec(
        path="student",
        partial=True,
        body={
            "first_name": text_field("Ada", 100, required=False),
            "last_name": text_field("Byron", 100, required=False),
            "photo_consent": bool_field(),
            "la_care": bool_field(),
            "class_id": id_field(required=False),
            "left_at": F(
                "2026-07-20T12:00:00+00:00",
                [123, "yesterday", "2026-07-20", "2026-07-20T12:00:00", "2026-13-45T99:00:00+00:00", SQL, []],
                required=False,
            ),
        },
    ),
    ("DELETE", "/api/students/{id:int}"): Spec(path="student"),
    ("POST", "/api/students/{id:int}/code"): Spec(path="student"),
    ("GET", "/api/staff"): Spec(),
    ("POST", "/api/staff"): Spec(
        body={
            "name": text_field("Mr New", 200),
            "email": email_field(),
            "role": ROLE,
            "password": password_field(),
            "class_ids": STAFF_IDS,
            "language": language_field(required=False),
        }
    ),
    ("PATCH", "/api/staff/{id:int}"): Spec(
        path="staff",
        partial=True,
        body={
            "name": text_field("Mr Renamed", 200, required=False),
            "email": email_field(required=False),
            "role": F("office", [*ROLE.bad], required=False),
            "password": password_field(required=False),
            "class_ids": STAFF_IDS,
            "language": language_field(required=False),
        },
    ),
    ("GET", "/api/skills"): Spec(),
}

NOT_JSON: list[bytes] = [b"{", b"not json", b"\xff\xfe\x00", b'{"a": 1,}', b"{'a': 1}", b"[" * 5000, b"NaN"]
NOT_AN_OBJECT: list[bytes] = [b"[]", b'[{"name": "x"}]', b'"text"', b"123", b"null", b"true"]
BAD_PATH_IDS: list[str] = ["0", str(UNKNOWN_ID), str(HUGE_ID), "-1", "abc", "1.5", "1e3", "%00", "' OR 1=1"]

_addresses = itertools.count(1)


@dataclass
class Place:
    """A school with one of everything the endpoints act on, and the clients to reach it."""

    app: Starlette
    world: World
    actors: dict[str, Actor | None]
    ids: dict[str, int]
    foreign_ids: dict[str, int]

    def client(self) -> httpx.AsyncClient:
        """A client from a fresh address, so rate limits never stand in for validation."""
        n = next(_addresses)
        transport = httpx.ASGITransport(app=self.app, client=(f"172.16.{n // 256 % 256}.{n % 256}", 4000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture(scope="module")
async def place(app: Starlette) -> AsyncIterator[Place]:
    """One per backend, shared by the endpoint walks (each takes its own before-and-after)."""
    services: Services = app.state.services
    world = await make_world(services)
    pupil = await world.add_student(world.classes[0], "Maya", "Ali")
    parent = await world.add_parent(pupil)
    colleague = await world.add_user("teacher", "Mr Spare")
    async with services.transaction() as session:
        request = GuardianRequest(
            school_id=world.school.id, student_id=pupil.student.id, name="Third", email="third@example.test"
        )  # type: ignore[union-attr]
        session.add(request)
    elsewhere = await make_world(services)
    far_pupil = await elsewhere.add_student(elsewhere.classes[0])
    assert pupil.student is not None and far_pupil.student is not None
    yield Place(
        app=app,
        world=world,
        actors={"admin": world.admin, "teacher": world.teacher, "parent": parent, "none": None},
        ids={
            "class": world.classes[0].id,
            "student": pupil.student.id,
            "staff": colleague.id,
            "request": request.id,
        },
        foreign_ids={
            "class": elsewhere.classes[0].id,
            "student": far_pupil.student.id,
            "staff": elsewhere.teacher.id,
            "request": request.id,  # another school's admin asks for it below
        },
    )


def _headers(actor: Actor | None) -> dict[str, str]:
    return actor.headers if actor is not None else {}


async def _counts(services: Services) -> dict[str, int]:
    """Rows per table (tables that background jobs write are left out)."""
    tables = [
        t.name
        for t in Base.metadata.sorted_tables
        if t.name not in {"job_leases", "translations", "outbox_events"}
    ]
    query = " UNION ALL ".join(f"SELECT '{name}', COUNT(*) FROM {name}" for name in tables)
    async with services.read() as session:
        return {name: count for name, count in (await session.execute(text(query))).all()}


async def _school_rows(services: Services, school_id: int) -> str:
    """A digest of every row of the tables that carry the school's id."""
    digest = hashlib.sha256()
    async with services.read() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "schools":
                query = select(table).where(table.c.id == school_id)
            elif "school_id" in table.c:
                query = (
                    select(table).where(table.c.school_id == school_id).order_by(*table.primary_key.columns)
                )
            else:
                continue  # link tables: their row counts are compared after every request
            for row in (await session.execute(query)).all():
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


@dataclass
class Attempt:
    """One bad request and what it must get."""

    label: str
    method: str
    path: str
    headers: dict[str, Any]
    content: bytes | None = None
    statuses: tuple[int, ...] = (400, 401, 403, 404, 409, 413, 415, 422)
    strict: bool = True  # False: an unknown endpoint that may ignore its body; 2xx then proves nothing


def _body(spec: Spec, place: Place, replace: dict[str, Any] | None = None, drop: str | None = None) -> bytes:
    assert spec.body is not None
    fields = {}
    for name, f in spec.body.items():
        if spec.partial and replace is not None and name not in replace:
            continue
        value = f.valid if f.valid is not None else place.ids["class" if name == "class_id" else "student"]
        fields[name] = value
    fields.update(replace or {})
    if drop is not None:
        fields.pop(drop)
    return json.dumps(fields).encode()  # the standard library: orjson refuses integers past 64 bits


def _body_limit(app: Starlette, path: str) -> int:
    """The body limit the app's BodyLimit middleware holds ``path`` to (uploads get a larger one)."""
    for middleware in app.user_middleware:
        if middleware.cls is BodyLimit:
            options = middleware.kwargs
            for prefix, size in options.get("large", ()):
                if path == prefix:
                    return int(size)
            return int(options["uploads"] if path.startswith(options["upload_paths"]) else options["default"])
    raise AssertionError("no BodyLimit middleware")


def _attempts(method: str, template: str, place: Place) -> Iterator[Attempt]:
    spec = SPECS.get((method, template))
    known = spec is not None
    spec = spec or Spec()
    actor = place.actors[spec.actor]
    json_header = {"content-type": "application/json"}
    headers = {**_headers(actor), **json_header}
    own_id = place.ids[spec.path] if spec.path else place.ids["student"]
    path = fill(template, own_id)
    body = _body(spec, place) if spec.body is not None else b"{}"

    if "{" in template:
        for bad in BAD_PATH_IDS:
            yield Attempt(
                f"path id {bad!r}", method, fill(template, 0).replace("/0", f"/{bad}", 1), headers, body
            )
        if spec.path is not None and spec.path != "request":  # endpoints without a spec: ids above
            foreign = fill(template, place.foreign_ids[spec.path])
            yield Attempt("another school's id", method, foreign, headers, body, statuses=(403, 404))
    if method != "GET":
        limit = _body_limit(place.app, path)
        oversize = b'{"name": "' + b"x" * (limit + 10) + b'"}'
        yield Attempt("oversize body", method, path, {**headers, **json_header}, oversize, statuses=(413,))
    # An endpoint without a spec may check its body before the caller: any refusal will do there.
    any_refusal = Attempt.statuses
    if spec.actor != "none" or not known:
        yield Attempt("no token", method, path, {}, body, statuses=(401,) if known else any_refusal)
        broken = {"Authorization": "Bearer " + "x" * 5000}
        yield Attempt("broken token", method, path, broken, body, statuses=(401,) if known else any_refusal)
    if actor is not None and method != "GET":
        cookie = {"cookie": f"session={actor.token}", "x-csrf-token": "é".encode()}
        statuses = (403,) if known else any_refusal
        yield Attempt("cookie with a bad CSRF token", method, path, cookie, body, statuses=statuses)
    if spec.body is not None or (not known and method != "GET"):
        # Without a spec, whose ids the path takes is unknown: aim at no row at all.
        target = path if known else fill(template, UNKNOWN_ID)
        for raw in [*NOT_JSON, *NOT_AN_OBJECT]:
            yield Attempt(f"body {raw[:20]!r}", method, target, {**headers, **json_header}, raw, strict=known)
    if spec.body is not None:
        # A page on another site may send text/plain without asking first: JSON only (415).
        plain = {**_headers(actor), "content-type": "text/plain"}
        yield Attempt("body as text/plain", method, path, plain, _body(spec, place), statuses=(401, 403, 415))
    for query in spec.query:
        yield Attempt(f"query {query!r}", method, f"{path}?{query}", headers)
    if spec.body is None:
        return
    for name, f in spec.body.items():
        if f.required and not spec.partial:
            yield Attempt(f"missing {name}", method, path, headers, _body(spec, place, drop=name))
        for bad in f.bad:
            yield Attempt(f"{name}={str(bad)[:40]!r}", method, path, headers, _body(spec, place, {name: bad}))


def test_every_endpoint_of_the_foundation_has_a_spec() -> None:
    """New routes in these modules must say how to break their bodies."""
    ours = {
        (m, r.path)
        for module in (auth, onboarding, school_api, meta)
        for r in module.routes
        for m in r.methods
    }
    ours = {(m, p) for m, p in ours if m != "HEAD"}
    assert ours <= set(SPECS), sorted(ours - set(SPECS))
    assert set(SPECS) <= set(ENDPOINTS), sorted(set(SPECS) - set(ENDPOINTS))


@pytest.mark.parametrize(("method", "template"), ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
async def test_bad_input_is_refused_in_the_error_shape_and_changes_nothing(
    place: Place, method: str, template: str
) -> None:
    services: Services = place.app.state.services
    school_id = place.world.school.id
    before_rows = await _school_rows(services, school_id)
    problems: list[str] = []
    tried = 0
    accepted = False
    counts = await _counts(services)
    for attempt in _attempts(method, template, place):
        tried += 1
        async with place.client() as client:
            response = await client.request(
                attempt.method, attempt.path, content=attempt.content, headers=attempt.headers
            )
        where = f"{attempt.label}: {attempt.method} {attempt.path[:80]}"
        after = await _counts(services)
        if response.status_code >= 500:
            problems.append(f"{where} -> {response.status_code} {response.text[:200]}")
        elif response.status_code < 400:
            accepted = True
            if attempt.strict:
                problems.append(f"{where} -> {response.status_code} accepted {response.text[:200]}")
        else:
            try:
                error_of(response, response.status_code)
            except AssertionError as exc:
                problems.append(f"{where} -> not the error shape: {exc}")
            if response.status_code not in attempt.statuses:
                problems.append(f"{where} -> {response.status_code}, expected one of {attempt.statuses}")
            if after != counts:
                changed = sorted(name for name in after if after[name] != counts[name])
                problems.append(f"{where} -> refused, yet rows were added or removed in {changed}")
        counts = after
    if method != "GET" and (method, template) in SPECS:
        assert tried >= 3
    assert problems == [], "\n".join(problems)
    if not accepted:  # an endpoint without a spec may ignore a body it was never meant to have
        assert await _school_rows(services, school_id) == before_rows


async def test_another_schools_admin_cannot_decide_a_request(place: Place) -> None:
    services: Services = place.app.state.services
    elsewhere = await make_world(services)
    request_id = place.ids["request"]
    before = await _school_rows(services, place.world.school.id)
    async with place.client() as client:
        for action in ("approve", "reject"):
            response = await client.post(
                f"/api/guardian-requests/{request_id}/{action}", headers=elsewhere.admin.headers
            )
            error_of(response, 404, "not_found")
    assert await _school_rows(services, place.world.school.id) == before


async def test_a_streamed_oversize_body_is_refused(place: Place) -> None:
    """No Content-Length to go by: the limit is enforced while the body arrives."""
    services: Services = place.app.state.services
    chunk = b"x" * 65536
    chunks = services.settings.max_body_bytes // len(chunk) + 2

    async def body() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(chunks):
            yield chunk
        yield b'"}'

    counts = await _counts(services)
    async with place.client() as client:
        response = await client.post("/api/classes", content=body(), headers=place.world.admin.headers)
    error_of(response, 413, "too_large")
    assert await _counts(services) == counts


async def test_metacharacters_in_free_text_are_kept_as_plain_text(place: Place) -> None:
    name = f'{HTML} {SQL} & <b>bold</b> "quoted" \\ back'
    headers = place.world.admin.headers
    async with place.client() as client:
        created = await client.post("/api/classes", json={"name": name}, headers=headers)
        assert created.status_code == 201, created.text
        assert created.json()["name"] == name
        fetched = await client.get(f"/api/classes/{created.json()['id']}", headers=headers)
        assert fetched.json()["name"] == name  # stored and returned exactly, never escaped or executed
        assert fetched.headers["content-type"].startswith("application/json")
        pupil = await client.post(
            f"/api/classes/{created.json()['id']}/students",
            json={"first_name": HTML, "last_name": SQL},
            headers=headers,
        )
        assert pupil.json()["name"] == HTML and pupil.json()["last_name"] == SQL
        assert (await client.get("/api/staff", headers=headers)).status_code == 200  # tables all still there
