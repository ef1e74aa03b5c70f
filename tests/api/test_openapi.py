"""The OpenAPI document: valid 3.1, describing every route the app serves exactly as the code has it.

The routes come from the app itself, so a route added later without appearing in
``GET /api/openapi.json`` (or whose path parameters, body model, auth or version
drift from the code) fails here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from server import __version__
from server.api import openapi as openapi_module
from server.api.http import Body, authenticate, ok, page_params, parse, query_int
from server.api.openapi import REF, build_document, described
from server.api.route_reading import read_handler
from server.app import create_app
from server.auth.principal import require_role
from server.errors import ApiError, not_found
from tests.conftest import make_settings

HTML_SINKS = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    """The app, not started: the document needs no database."""
    tmp = tmp_path_factory.mktemp("openapi")
    return create_app(make_settings(tmp, f"sqlite+aiosqlite:///{tmp / 'unused.db'}"))


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(scope="module")
def served_routes(app: Starlette) -> list[Route]:
    """Every HTTP route of the app in the contract (not the catch-all 404, not the web client)."""
    return [r for r in app.routes if isinstance(r, Route) and not described(r.endpoint).hidden]


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_document_carries_the_servers_version(document: dict[str, Any]) -> None:
    assert document["info"]["version"] == __version__


def test_every_route_of_the_app_is_in_paths_and_nothing_else(
    document: dict[str, Any], served_routes: list[Route]
) -> None:
    in_code = {
        (method.lower(), route.path_format)
        for route in served_routes
        for method in route.methods or ()
        if method != "HEAD"
    }
    in_document = {(method, path) for path, item in document["paths"].items() for method in item}
    assert in_code - in_document == set(), "routes missing from the document"
    assert in_document - in_code == set(), "document describes routes the app does not serve"


def test_every_api_module_route_is_served_and_described(document: dict[str, Any]) -> None:
    """Each ``routes`` list in ``server/api/`` reaches the app, so no module is forgotten in the wiring."""
    import importlib
    import pkgutil

    import server.api

    described_paths = set(document["paths"])
    for info in pkgutil.iter_modules(server.api.__path__):
        module = importlib.import_module(f"server.api.{info.name}")
        for route in getattr(module, "routes", []):
            if isinstance(route, Route):
                assert route.path_format in described_paths, (info.name, route.path)


def test_websocket_routes_are_listed(app: Starlette, document: dict[str, Any]) -> None:
    sockets = {r.path for r in app.routes if isinstance(r, WebSocketRoute)}
    assert sockets == {s["path"] for s in document["x-websockets"]}
    assert "/ws" in sockets


def test_path_parameters_follow_the_route_convertors(
    document: dict[str, Any], served_routes: list[Route]
) -> None:
    for route in served_routes:
        item = document["paths"][route.path_format]
        for method, operation in item.items():
            params = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
            assert set(params) == set(route.param_convertors), (method, route.path)
            assert set(params) == set(re.findall(r"\{(\w+)\}", route.path_format))
            for name, convertor in route.param_convertors.items():
                expected = "integer" if type(convertor).__name__ == "IntegerConvertor" else "string"
                assert params[name]["schema"]["type"] == expected, (route.path, name)


def test_request_bodies_are_the_models_the_handlers_parse(
    document: dict[str, Any], served_routes: list[Route]
) -> None:
    schemas = document["components"]["schemas"]
    checked = 0
    for route in served_routes:
        models = read_handler(route.endpoint).models
        for method in route.methods or ():
            if method == "HEAD":
                continue
            operation = document["paths"][route.path_format][method.lower()]
            if described(route.endpoint).request is not None:
                continue
            if not models:
                assert "requestBody" not in operation, (method, route.path)
                continue
            [model] = models
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            component = schemas[ref.rsplit("/", 1)[1]]
            fresh = model.model_json_schema(ref_template=REF)
            fresh.pop("$defs", None)
            assert component == fresh, f"{method} {route.path}: {model.__name__} drifted"
            required = any(f.is_required() for f in model.model_fields.values())
            assert operation["requestBody"]["required"] is required
            checked += 1
    assert checked >= 30


def test_authentication_follows_the_handlers(document: dict[str, Any], served_routes: list[Route]) -> None:
    for route in served_routes:
        signed_in = read_handler(route.endpoint).authenticated
        for method in route.methods or ():
            if method == "HEAD":
                continue
            security = document["paths"][route.path_format][method.lower()]["security"]
            if not signed_in:
                assert security == [], route.path
                continue
            assert {"bearer": []} in security
            cookie = next(s for s in security if "session" in s)
            assert ("csrf" in cookie) is (method in ("POST", "PUT", "PATCH", "DELETE")), (method, route.path)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert (schemes["session"]["in"], schemes["session"]["name"]) == ("cookie", "session")
    assert (schemes["csrf"]["in"], schemes["csrf"]["name"]) == ("header", "X-CSRF-Token")


def test_every_operation_answers_errors_in_the_api_md_shape(document: dict[str, Any]) -> None:
    error_schema = document["components"]["schemas"]["Error"]
    jsonschema.validate(ApiError(404, "not_found", "That was not found.").body(), error_schema)
    jsonschema.validate(ApiError(422, "validation_error", "No.", {"fields": {"a": "b"}}).body(), error_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"detail": "Not Found"}, error_schema)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["responses"]["4XX"] == {"$ref": "#/components/responses/Error"}, (method, path)


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


class GadgetBody(Body):
    name: str = Field(min_length=1, max_length=10)
    size: int = 1


async def _gadgets_of_kind(request: Request, kind: str) -> None:
    request.query_params.get(kind)


async def create_gadget(request: Request) -> Response:
    """Make a gadget."""
    principal = await authenticate(request)
    require_role(principal, "admin")
    body = await parse(request, GadgetBody)
    page_params(request)
    query_int(request, "colour")
    await _gadgets_of_kind(request, "shape")
    return ok({"name": body.name}, 201)


class Reply(BaseModel):
    ok: bool


@openapi_module.describe(summary="Read a gadget", responses={200: Reply})
async def get_gadget(request: Request) -> Response:
    raise not_found()


def test_a_route_added_later_is_described_from_its_code() -> None:
    """No list to edit: a new handler's body, query, auth, roles and status are read from its code."""
    routes = [
        Route("/api/gadgets/{id:int}", create_gadget, methods=["POST"]),
        Route("/api/gadgets/{id:int}", get_gadget, methods=["GET"]),
    ]
    document = build_document(routes, "9.9.9")
    validate(document)
    post = document["paths"]["/api/gadgets/{id}"]["post"]
    assert post["summary"] == "Make a gadget"
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GadgetBody"
    }
    assert post["requestBody"]["required"] is True
    names = {(p["name"], p["in"]) for p in post["parameters"]}
    assert names == {
        ("id", "path"),
        ("before", "query"),
        ("limit", "query"),
        ("colour", "query"),
        ("shape", "query"),
    }
    assert set(post["responses"]) == {"201", "4XX", "503"}
    assert post["x-roles"] == ["admin"]
    assert {"session": [], "csrf": []} in post["security"]
    get = document["paths"]["/api/gadgets/{id}"]["get"]
    assert get["summary"] == "Read a gadget"
    assert get["security"] == []
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Reply"
    }
    assert document["components"]["schemas"]["GadgetBody"]["properties"]["name"]["maxLength"] == 10


async def test_the_docs_page_is_served_and_self_contained(client: httpx.AsyncClient) -> None:
    page = await client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text.replace('<script src="/api/docs/docs.js" defer></script>', "")
    referenced = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert referenced and all(url.startswith("/api/") for url in referenced), referenced
    for name, kind in (("docs.js", "text/javascript"), ("docs.css", "text/css")):
        asset = await client.get(f"/api/docs/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
        assert "http://" not in asset.text and "https://" not in asset.text
    script = (await client.get("/api/docs/docs.js")).text
    assert not HTML_SINKS.search(script), "the page must set document strings as text only"
    assert "textContent" in script or "createTextNode" in script
    missing = await client.get("/api/docs/../../settings.py")
    assert missing.status_code == 404 and set(missing.json()) == {"error"}


def test_page_files_ship_with_the_package() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    data = pyproject["tool"]["setuptools"]["package-data"]["server"]
    assert "api/reference_page/*" in data


def test_links_lead_to_operations_on_what_was_created(document: dict[str, Any]) -> None:
    """A 201 reply's links name real operations that take the new ``id`` in their path."""
    by_id = {
        op["operationId"]: (path, op) for path, item in document["paths"].items() for op in item.values()
    }
    linked = 0
    for item in document["paths"].values():
        for operation in item.values():
            for link in operation["responses"].get("201", {}).get("links", {}).values():
                path, _target = by_id[link["operationId"]]
                assert "{id}" in path and link["parameters"] == {"path.id": "$response.body#/id"}
                linked += 1
    assert linked >= 20
    post_links = document["paths"]["/api/classes/{id}/posts"]["post"]["responses"]["201"]["links"]
    assert "stories_get_post" in post_links
    assert "links" not in document["paths"]["/api/points"]["post"]["responses"]["201"]
