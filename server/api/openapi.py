"""The OpenAPI 3.1 document of the HTTP API, generated from the routes themselves.

Nothing here lists endpoints by hand. :func:`build_document` walks the app's starlette
``Route`` objects and reads each handler's own code (its source, parsed with ``ast``):

- the path and its parameters come from the route (``{id:int}`` is an integer);
- the request body is the pydantic model the handler passes to ``parse(request, Model)``,
  described by ``Model.model_json_schema()``;
- query parameters are the names it reads through ``page_params``, ``query_int`` and
  ``request.query_params.get("name")`` (through helpers of its module too);
- it needs a session when it calls ``authenticate`` (bearer token, or the ``session``
  cookie plus ``X-CSRF-Token`` on unsafe methods), and its roles are those given to
  ``require_role``;
- success statuses are the literals given to ``ok(..., 201)`` or ``status_code=``;
- the summary is the first line of the handler's docstring, or made from its name.

A route that needs more (a response schema, a non-JSON body, an enum of a query
parameter) says so next to its handler with :func:`describe`. Every error is the
API.md error shape, one shared component. What this module does not do: serve the
document (``server.api.reference``), read handler code (``server.api.route_reading``) or
check the document (``tests/api/test_openapi.py``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.convertors import FloatConvertor, IntegerConvertor
from starlette.routing import BaseRoute, Route, WebSocketRoute

from server.api.route_reading import Findings, read_handler

F = TypeVar("F", bound=Callable[..., Any])
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
REF = "#/components/schemas/{model}"
ERROR_REF = {"$ref": "#/components/schemas/Error"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "API.md's one error shape: every failure, whatever its status.",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "examples": ["not_found"]},
                "message": {"type": "string", "minLength": 1},
                "details": {"type": "object"},
            },
        }
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The token returned by POST /api/auth/login (or /api/auth/student, /api/join).",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "The HttpOnly session cookie set at sign-in (same token as bearer).",
    },
    "csrf": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": "Double-submit token returned at sign-in and by GET /api/me; "
        "needed with the cookie on POST, PUT, PATCH and DELETE.",
    },
}


@dataclass
class Described:
    """What a handler says about itself beyond what its code shows."""

    summary: str | None = None
    description: str | None = None
    responses: dict[int | str, Any] = field(default_factory=dict)
    request: dict[str, Any] | None = None
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    hidden: bool = False
    creates: str | None = None


def describe(
    *,
    summary: str | None = None,
    description: str | None = None,
    responses: dict[int | str, Any] | None = None,
    request: dict[str, Any] | None = None,
    query: dict[str, dict[str, Any]] | None = None,
    hidden: bool = False,
    creates: str | None = None,
) -> Callable[[F], F]:
    """Attach extra OpenAPI description to a route handler.

    ``responses`` maps a status to a pydantic model, a JSON schema, or a full OpenAPI
    response object (one with ``content`` or ``description``); ``request`` is a whole
    ``requestBody`` for bodies that are not a ``parse()`` model (uploads); ``query`` adds
    to or refines the query parameters found in the code (``"allowEmptyValue": True`` marks
    one whose empty value means "not given"); ``hidden`` leaves the route out
    (the catch-all 404 route); ``creates`` is the path template (``/api/posts/{id}``) of what
    a 201 reply's ``id`` names, when it is not this path plus ``/{id}``: the document links
    the 201 reply to the operations there and below (OpenAPI links, for stateful fuzzing);
    ``""`` when the reply has no such ``id``.
    """

    def attach(handler: F) -> F:
        handler.__openapi__ = Described(  # type: ignore[attr-defined]
            summary, description, dict(responses or {}), request, dict(query or {}), hidden, creates
        )
        return handler

    return attach


def described(handler: Callable[..., Any]) -> Described:
    """The handler's :func:`describe` data (empty when it has none)."""
    return getattr(handler, "__openapi__", None) or Described()


def _path_parameters(route: Route) -> list[dict[str, Any]]:
    parameters = []
    for name, convertor in route.param_convertors.items():
        schema: dict[str, Any] = {"type": "string"}
        if isinstance(convertor, IntegerConvertor):
            schema = {"type": "integer", "minimum": 0}
        elif isinstance(convertor, FloatConvertor):
            schema = {"type": "number", "minimum": 0}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _query_parameter(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter, with ``allowEmptyValue`` where ``?name=`` means "not given".

    That is so for integers (``query_int`` reads an empty value as absent) and wherever
    ``describe(query={name: {"allowEmptyValue": True}})`` says so.
    """
    schema = dict(schema)
    empty = schema.pop("allowEmptyValue", schema.get("type") == "integer")
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    if empty:
        parameter["allowEmptyValue"] = True
    return parameter


def _summary(handler: Callable[..., Any], extra: Described) -> str:
    if extra.summary:
        return extra.summary
    doc = inspect.getdoc(handler)
    if doc:
        return doc.splitlines()[0].rstrip(".")
    return handler.__name__.strip("_").replace("_", " ").capitalize()


def _schema_of(value: Any, models: dict[type[BaseModel], str]) -> dict[str, Any]:
    if isinstance(value, type) and issubclass(value, BaseModel):
        return {"$ref": REF.format(model=models[value])}
    return dict(value)


def _response(status: int | str, value: Any, models: dict[type[BaseModel], str]) -> dict[str, Any]:
    if isinstance(value, dict) and ("content" in value or "description" in value):
        return {"description": value.get("description", _reason(status)), **value}
    return {
        "description": _reason(status),
        "content": {"application/json": {"schema": _schema_of(value, models)}},
    }


def _reason(status: int | str) -> str:
    return {
        "200": "OK",
        "201": "Created",
        "202": "Accepted",
        "204": "No content",
        "304": "Not modified (ETag matched)",
        "4XX": "Refused: the API.md error shape",
        "503": "A backing service is briefly unavailable (Retry-After)",
    }.get(str(status), "Reply")


@dataclass
class Operation:
    """One (method, path) of the document, with the handler it came from."""

    method: str
    path: str
    route: Route
    handler: Callable[..., Any]
    extra: Described
    findings: Findings


def operations(routes: Iterable[BaseRoute]) -> list[Operation]:
    """Every HTTP operation the document describes: each method of each visible ``Route``."""
    found = []
    for route in routes:
        if not isinstance(route, Route):
            continue
        handler = route.endpoint
        extra = described(handler)
        if extra.hidden:
            continue
        findings = read_handler(handler)
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            found.append(Operation(method, route.path_format, route, handler, extra, findings))
    return found


def _models(ops: list[Operation]) -> tuple[dict[type[BaseModel], str], dict[str, Any]]:
    """Component names and schemas of every model a body or response uses."""
    wanted: list[type[BaseModel]] = []
    for op in ops:
        candidates = [*op.findings.models, *op.extra.responses.values()]
        for model in candidates:
            if isinstance(model, type) and issubclass(model, BaseModel) and model not in wanted:
                wanted.append(model)
    keys, schema = models_json_schema([(m, "validation") for m in wanted], ref_template=REF)
    names = {model: keys[(model, "validation")]["$ref"].rsplit("/", 1)[1] for model in wanted}
    return names, schema.get("$defs", {})


def _operation(op: Operation, models: dict[type[BaseModel], str], tags: set[str]) -> dict[str, Any]:
    handler, extra, findings = op.handler, op.extra, op.findings
    tag = handler.__module__.rsplit(".", 1)[-1]
    tags.add(tag)
    doc: dict[str, Any] = {
        "operationId": f"{tag}_{handler.__name__.strip('_')}",
        "summary": _summary(handler, extra),
        "tags": [tag],
    }
    notes = []
    if extra.description:
        notes.append(extra.description)
    roles = sorted(set(findings.roles))
    if roles:
        notes.append(f"Who: {', '.join(roles)} (others get 403 `forbidden`).")
    if findings.authenticated and not findings.policy_exempt:
        notes.append(
            "Parents who have not accepted the current code of conduct get 403 `policy_not_accepted`."
        )
    if notes:
        doc["description"] = "\n\n".join(notes)
    query = {**findings.query}
    for key, schema in extra.query.items():
        query[key] = {**query.get(key, {"type": "string"}), **schema}
    parameters = _path_parameters(op.route) + [_query_parameter(key, schema) for key, schema in query.items()]
    if parameters:
        doc["parameters"] = parameters
    if extra.request is not None:
        doc["requestBody"] = extra.request
    elif findings.models:
        schemas = [_schema_of(m, models) for m in findings.models]
        required = any(
            field.is_required() for model in findings.models for field in model.model_fields.values()
        )
        doc["requestBody"] = {
            "required": required,
            "content": {
                "application/json": {"schema": schemas[0] if len(schemas) == 1 else {"anyOf": schemas}}
            },
        }
    responses: dict[str, Any] = {}
    statuses = set(findings.statuses)
    if not any(200 <= status < 300 for status in statuses):
        statuses.add(200)
    for status in sorted(statuses):
        responses[str(status)] = {"description": _reason(status)}
        if status not in (204, 304):
            responses[str(status)]["content"] = {"application/json": {"schema": {}}}
    for status, value in extra.responses.items():
        responses[str(status)] = _response(status, value, models)
    for status in ("4XX", "503"):
        responses.setdefault(
            status, {"$ref": f"#/components/responses/{'Error' if status == '4XX' else 'Unavailable'}"}
        )
    doc["responses"] = responses
    if findings.authenticated:
        cookie = {"session": [], "csrf": []} if op.method in UNSAFE else {"session": []}
        doc["security"] = [{"bearer": []}, cookie]
        if findings.roles:
            doc["x-roles"] = roles
    else:
        doc["security"] = []
    return doc


def _link_created(ops: list[Operation], paths: dict[str, dict[str, Any]]) -> None:
    """Link each 201 reply's ``id`` to the operations on what it created (``creates``, else ``path/{id}``)."""
    for op in ops:
        reply = paths[op.path][op.method.lower()]["responses"].get("201")
        if reply is None or "$ref" in reply:
            continue
        created = f"{op.path}/{{id}}" if op.extra.creates is None else op.extra.creates
        if not created:
            continue
        links = {}
        for path, item in paths.items():
            if path != created and not path.startswith(created + "/"):
                continue
            for target in item.values():
                names = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
                if names == {"id"}:
                    links[target["operationId"]] = {
                        "operationId": target["operationId"],
                        "parameters": {"path.id": "$response.body#/id"},
                    }
        if links:
            reply["links"] = links


def build_document(routes: Iterable[BaseRoute], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes`` (the app's), for server version ``version``."""
    routes = list(routes)
    ops = operations(routes)
    models, schemas = _models(ops)
    tags: set[str] = set()
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, models, tags)
    _link_created(ops, paths)
    sockets = [
        {"path": r.path, "description": inspect.getdoc(r.endpoint) or ""}
        for r in routes
        if isinstance(r, WebSocketRoute)
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Homeroom API",
            "version": version,
            "description": (
                "The HTTP API of a Homeroom server, generated from its routes. JSON in, JSON out; "
                'every failure is `{"error": {"code", "message", "details"}}`. Sign in with '
                "`POST /api/auth/login`, then send `Authorization: Bearer <token>`, or the `session` "
                "cookie with `X-CSRF-Token` on unsafe methods. Live updates use the websocket at "
                "`/ws` (see `x-websockets`); its frames are described in API.md."
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": tag} for tag in sorted(tags)],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **schemas},
            "responses": {
                "Error": {
                    "description": _reason("4XX"),
                    "content": {"application/json": {"schema": ERROR_REF}},
                },
                "Unavailable": {
                    "description": _reason("503"),
                    "content": {"application/json": {"schema": ERROR_REF}},
                },
            },
            "securitySchemes": SECURITY_SCHEMES,
        },
        "x-websockets": sockets,
    }
