"""The web client's interface catalogs and script fonts.

``GET /i18n/catalogs.json`` lists the compiled catalogs (short cache: it changes with a
deploy); ``GET /i18n/<lang>.<hash>.json`` is one catalog, named by its content, so it is
cached for good (``immutable``). ``GET /fonts/<file>.woff2`` serves the subset Noto fonts of
``web/fonts`` the same way (their names carry a version). Public: the sign-in page needs them.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from server.api.openapi import describe
from server.errors import not_found
from server.language import catalogs
from server.language.interface import N_

IMMUTABLE = "public, max-age=31536000, immutable"
CATALOG_NAME = re.compile(r"^[A-Za-z_]{2,12}\.[0-9a-f]{12}\.json$")


@describe()
async def catalog_list(request: Request) -> Response:
    """Every compiled catalog: its file, and whether it is complete."""
    manifest = catalogs.manifest()
    return JSONResponse(manifest, headers={"Cache-Control": "no-cache"})


@describe()
async def catalog_file(request: Request) -> Response:
    """One compiled catalog (``<lang>.<hash>.json``), cached for good."""
    name = request.path_params["name"]
    if not CATALOG_NAME.match(name):
        raise not_found(N_("That catalog"))
    catalogs.ensure_compiled()
    path = catalogs.COMPILED / name
    if not path.is_file():
        raise not_found(N_("That catalog"))
    return FileResponse(path, media_type="application/json", headers={"Cache-Control": IMMUTABLE})


FONTS = Path(__file__).resolve().parent.parent.parent / "web" / "fonts"
FONT_NAME = re.compile(r"^[A-Za-z0-9-]+\.[0-9a-f]{10}\.woff2$")


@describe()
async def font_file(request: Request) -> Response:
    """One subset Noto font (``<name>.<hash>.woff2``), cached for good."""
    name = request.path_params["name"]
    path = FONTS / name
    if not FONT_NAME.match(name) or not path.is_file():
        raise not_found(N_("That font"))
    return FileResponse(path, media_type="font/woff2", headers={"Cache-Control": IMMUTABLE})


routes = [
    Route("/i18n/catalogs.json", catalog_list, methods=["GET"]),
    Route("/i18n/{name}", catalog_file, methods=["GET"]),
    Route("/fonts/{name}", font_file, methods=["GET"]),
]
