"""Property-based fuzzing of every operation of ``GET /api/openapi.json`` with Schemathesis and Hypothesis.

Each operation is fuzzed as an admin, a teacher, a parent and a pupil (bearer tokens
from the factories), against SQLite through the ASGI app in-process, in a fresh school
per test that already holds a post, a conversation, points, an activity, a submission
and an invite, so generated ids often hit real rows (path and body ids are drawn from
that school's ids half of the time). Both schema-valid and schema-breaking data are
sent. Every response must be:

- never a 5xx;
- an error (4xx) in the API.md shape ``{"error": {"code", "message", "details"}}``;
- a status, content type and body the document declares for that operation.

The default run is bounded and derandomized (a fixed seed): ``EXAMPLES`` examples per
operation, role and mode. ``HOMEROOM_FUZZ_EXAMPLES=N`` changes that number, and the
``fuzz_deep`` tests (``pytest -m fuzz_deep tests/api``, not collected otherwise) run
every operation with ``HOMEROOM_FUZZ_EXAMPLES`` (default 200) examples and random
seeds, then stateful sequences that follow the ids one reply gives to the next request.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from pydantic import BaseModel
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import __version__
from server.api.openapi import build_document, describe
from server.app import create_app
from server.auth.ratelimit import MemoryRateLimiter
from server.db.engine import Database
from server.db.migrate import upgrade
from server.services import Services
from server.settings import Settings
from tests.conftest import make_settings
from tests.factories import Actor, add_activity, make_world

ROLES = ("admin", "teacher", "parent", "pupil")
EXAMPLES = int(os.environ.get("HOMEROOM_FUZZ_EXAMPLES", "6"))
DEEP_EXAMPLES = int(os.environ.get("HOMEROOM_FUZZ_EXAMPLES", "200"))
SEQUENCES = int(os.environ.get("HOMEROOM_FUZZ_SEQUENCES", "5"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Operations that end the caller's session: fuzzed with a session of their own.
SESSION_ENDING = {("POST", "/api/auth/logout")}


def _document() -> dict[str, Any]:
    """The document as the app serves it, built at collection time (no database needed)."""
    unused = Path("/nonexistent/homeroom-fuzz")
    return build_document(create_app(make_settings(unused, "sqlite:///:memory:")).routes, __version__)


OPERATIONS = [(method.upper(), path) for path, item in _document()["paths"].items() for method in item]


@dataclass
class School:
    """One seeded school: a signed-in actor per role, and the ids of its rows."""

    actors: dict[str, Actor]
    ids: list[int] = field(default_factory=list)


@dataclass
class Fuzz:
    """The started app, its settings and the schema Schemathesis loaded from it."""

    app: Starlette
    settings: Settings
    schema: Any
    schools: dict[tuple[str, str], School] = field(default_factory=dict)
    strategies: dict[tuple[str, str, GenerationMode], Any] = field(default_factory=dict)

    def school_for(self, method: str, path: str) -> School:
        """The school an operation is fuzzed in, shared by the four roles (seeded on first use)."""
        if (method, path) not in self.schools:
            self.schools[method, path] = self.seed()
        return self.schools[method, path]

    def strategy(self, method: str, path: str, mode: GenerationMode) -> Any:
        """Schemathesis's case strategy for an operation (built once: building is the slow part)."""
        key = (method, path, mode)
        if key not in self.strategies:
            self.strategies[key] = self.schema[path][method].as_strategy(generation_mode=mode)
        return self.strategies[key]

    def client(self) -> asgi.ASGIClient:
        return asgi.get_client(self.app)

    def seed(self) -> School:
        """A fresh school: rows through the factories, then content through the API."""
        school = asyncio.run(_seed_rows(self.settings))
        with self.client() as client:
            _seed_content(client, school)
        return school


async def _seed_rows(settings: Settings) -> School:
    db = Database(settings.database_url)
    try:
        world = await make_world(Services(settings=settings, db=db, limiter=MemoryRateLimiter()), classes=2)
        pupil, parent = await world.add_family("Amir")
        other, _ = await world.add_family("Bea", school_class=world.classes[1])
        await world.add_parent(pupil, name="Amir's other parent")
        activity = await add_activity(world, world.classes[0])
    finally:
        await db.dispose()
    actors = {"admin": world.admin, "teacher": world.teacher, "parent": parent, "pupil": pupil}
    ids = [c.id for c in world.classes] + [s.id for s in world.skills] + [activity.id]
    ids += [a.id for a in (world.admin, world.teacher, world.office, parent, pupil, other)]
    ids += [a.student.id for a in (pupil, other) if a.student is not None]
    return School(actors, ids)


def _seed_content(client: asgi.ASGIClient, school: School) -> None:
    """A post, a conversation with a message, points, a submission and an invite, as the app makes them."""
    teacher, parent, pupil = (school.actors[r] for r in ("teacher", "parent", "pupil"))
    assert pupil.student is not None
    class_id, student_id = pupil.student.class_id, pupil.student.id

    def post(actor: Actor, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(path, json=body, headers=actor.headers)
        assert response.status_code in (200, 201), (path, response.status_code, response.text[:300])
        reply: dict[str, Any] = response.json()
        school.ids += [v for v in reply.values() if isinstance(v, int) and not isinstance(v, bool)]
        return reply

    post(teacher, f"/api/classes/{class_id}/posts", {"text": "PE tomorrow", "student_ids": [student_id]})
    conversation = post(parent, "/api/conversations", {"student_id": student_id, "staff_id": teacher.id})
    post(parent, f"/api/conversations/{conversation['id']}/messages", {"text": "Thank you!"})
    skill = school.ids[2]
    awarded = post(teacher, "/api/points", {"student_ids": [student_id], "skill_id": skill})
    school.ids += [award["id"] for award in awarded["awards"]]
    activity = client.get(f"/api/classes/{class_id}/activities", headers=pupil.headers).json()["items"][0]
    post(pupil, f"/api/activities/{activity['id']}/submissions", {"text": "My drawing"})
    post(teacher, "/api/invites", {"student_id": student_id})
    school.ids = sorted(set(school.ids))


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    """The app on a fresh SQLite database, started in Schemathesis's ASGI event loop."""
    tmp = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite+aiosqlite:///{tmp / 'fuzz.db'}"
    upgrade(url)
    settings = make_settings(tmp, url, login_attempts_per_minute=10_000, code_attempts_per_minute=10_000)
    app = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    try:
        yield Fuzz(app, settings, schema)
    finally:
        asgi.shutdown_lifespans()


def _swap_ids(value: Any, data: st.DataObject, ids: list[int], key: str = "") -> Any:
    """Ids in a body, half of the time replaced by ids of the school's rows."""
    if isinstance(value, dict):
        return {k: _swap_ids(v, data, ids, k) for k, v in value.items()}
    if key.endswith("_ids") and isinstance(value, list) and data.draw(st.booleans()):
        return data.draw(st.lists(st.sampled_from(ids), max_size=3))
    if key.endswith("_id") and type(value) is int and data.draw(st.booleans()):
        return data.draw(st.sampled_from(ids))
    return value


def check_reply(case: Any, response: Any, checks: list[Any]) -> None:
    """The document's checks (no 5xx, declared status, content type and schema) and the error shape."""
    case.validate_response(response, checks=checks)
    _error_shape(response)


def _error_shape(response: Any) -> None:
    """A 4xx or 5xx is the API.md error document, nothing else."""
    if response.status_code < 400:
        return
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)


def fuzz_operation(fuzz: Fuzz, method: str, path: str, examples: int, *, derandomize: bool = True) -> None:
    """Fuzz one operation with both generation modes, each case sent as every role in turn."""
    school = fuzz.school_for(method, path)
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategy = fuzz.strategy(method, path, mode)
        _fuzz_mode(fuzz, school, (method, path) in SESSION_ENDING, strategy, mode, examples, derandomize)


def _fuzz_mode(
    fuzz: Fuzz,
    school: School,
    ends_session: bool,
    strategy: Any,
    mode: GenerationMode,
    examples: int,
    derandomize: bool,
) -> None:
    checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS

    @settings(
        max_examples=examples,
        derandomize=derandomize,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(strategy)
        if mode is GenerationMode.POSITIVE:
            for name, value in list((case.path_parameters or {}).items()):
                if type(value) is int and data.draw(st.booleans()):
                    case.path_parameters[name] = data.draw(st.sampled_from(school.ids))
            if isinstance(case.body, dict):
                case.body = _swap_ids(case.body, data, school.ids)
        for role in ROLES:
            actor = school.actors[role]
            token = asyncio.run(_fresh_token(fuzz.settings, actor)) if ends_session else actor.token
            with fuzz.client() as client:
                response = case.call(session=client, headers={"Authorization": f"Bearer {token}"})
            try:
                check_reply(case, response, checks)
            except BaseException as failure:
                failure.add_note(f"as the {role} ({mode.value} data)")
                raise

    try:
        run()
    except Unsatisfiable:
        # Nothing of the operation can be made invalid (no parameters, no body): nothing to send.
        if mode is not GenerationMode.NEGATIVE:
            raise


async def _fresh_token(settings: Settings, actor: Actor) -> str:
    from tests.factories import World

    db = Database(settings.database_url)
    try:
        services = Services(settings=settings, db=db, limiter=MemoryRateLimiter())
        world = World(services, None, actor, actor, actor)  # type: ignore[arg-type]
        return (await world.sign_in(actor.user)).token
    finally:
        await db.dispose()


def fuzz_sequences(fuzz: Fuzz, role: str, examples: int, steps: int, *, derandomize: bool = True) -> None:
    """Stateful runs: a 201 reply's ``id`` feeds the next request through the document's links."""
    school = fuzz.seed()
    token = school.actors[role].token
    machine = fuzz.schema.as_state_machine()

    class Sequences(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            check_reply(case, response, CHECKS)

    Sequences.run(
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            derandomize=derandomize,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzz_operation(fuzz: Fuzz, method: str, path: str) -> None:
    fuzz_operation(fuzz, method, path, EXAMPLES)


@pytest.mark.fuzz_deep
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzz_operation_deep(fuzz: Fuzz, method: str, path: str) -> None:
    fuzz_operation(fuzz, method, path, DEEP_EXAMPLES, derandomize=False)


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_sequences(fuzz: Fuzz, role: str) -> None:
    fuzz_sequences(fuzz, role, examples=SEQUENCES, steps=4)


@pytest.mark.fuzz_deep
@pytest.mark.parametrize("role", ROLES)
def test_fuzz_sequences_deep(fuzz: Fuzz, role: str) -> None:
    fuzz_sequences(fuzz, role, examples=DEEP_EXAMPLES, steps=10, derandomize=False)


class _Like(BaseModel):
    like_count: int
    liked: bool


async def _crashes(request: Request) -> Response:
    """What the app's crash handler sends for an unhandled exception."""
    body = {"error": {"code": "internal", "message": "Something went wrong on our side.", "details": {}}}
    return JSONResponse(body, status_code=500)


async def _bare_error(request: Request) -> Response:
    return JSONResponse({"detail": "Not Found"}, status_code=404)


@describe(responses={200: _Like})
async def _wrong_shape(request: Request) -> Response:
    return JSONResponse({"like_count": "many", "liked": True})


@pytest.mark.parametrize("handler", [_crashes, _bare_error, _wrong_shape], ids=lambda h: h.__name__)
def test_the_checks_catch_each_kind_of_defect(handler: Any) -> None:
    """A 500, an error outside the shape and a reply off its declared schema each fail the fuzz checks."""
    routes = [Route("/api/thing", handler, methods=["GET"])]
    toy = Starlette(routes=routes)
    document = build_document(routes, "0.0.0")
    schema = schemathesis.openapi.from_dict(document)
    schema.app = toy
    case = schema["/api/thing"]["GET"].Case()
    with asgi.get_client(toy) as client:
        response = case.call(session=client)
    with pytest.raises((AssertionError, BaseExceptionGroup)):
        check_reply(case, response, CHECKS)
