"""``/api/translation/*`` (admin): coverage of the school's languages, package upload, fetch jobs."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, StringConstraints
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import Body, authenticate, ok, parse, services_of
from server.auth.principal import Principal, require_role
from server.errors import ApiError, conflict, validation_error
from server.language.interface import N_
from server.school import audit
from server.services import Services
from server.translation.argos import PackageError, argos_available, install_package, translation_dir
from server.translation.coverage import school_coverage
from server.translation.fetch import valid_language
from server.translation.fetch_job import Busy, FetchPart, read_status, rescan_argos
from server.translation.registry import NO_ENGINES, Registry

Code = Annotated[str, StringConstraints(min_length=2, max_length=16)]


class FetchBody(Body):
    languages: list[Code] = Field(min_length=1, max_length=20)


def _registry(services: Services) -> Registry:
    """The server's engines (none when translation does not run here)."""
    registry = services.translation.registry if services.translation is not None else None
    return registry if registry is not None else NO_ENGINES


async def _admin(request: Request) -> Principal:
    principal = await authenticate(request)
    require_role(principal, "admin")
    return principal


def _argos_ready(services: Services) -> None:
    """409 unless this server can use argos packages at all."""
    if not argos_available():
        raise conflict(
            "argos_not_installed",
            N_("This server has no argos engine (the 'translate' extra is not installed)."),
        )
    if "argos" not in services.settings.translation_engines:
        raise conflict(
            "argos_not_enabled", N_("Argos is not in HOMEROOM_TRANSLATION_ENGINES on this server.")
        )


async def coverage(request: Request) -> Response:
    principal = await _admin(request)
    services = services_of(request)
    async with services.read() as session:
        body = await school_coverage(
            session,
            principal.school_id,
            _registry(services),
            Path(services.settings.data_dir),
            principal.user.language,
        )
    body["argos"] = argos_available() and "argos" in services.settings.translation_engines
    body["index_url"] = services.settings.argos_index_url
    return ok(body)


def _install_upload(upload: UploadFile, services: Services) -> dict[str, Any]:
    """Copy the upload beside the packages, then check and install it like ``translation install``."""
    downloads = translation_dir(Path(services.settings.data_dir)) / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".upload-", dir=downloads))
    try:
        name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(upload.filename or "").name).lstrip(".")
        file = folder / (name or "package.argosmodel")
        upload.file.seek(0)
        with file.open("wb") as out:
            shutil.copyfileobj(upload.file, out, 1024 * 1024)
        info = install_package(file, Path(services.settings.data_dir))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"source": info.source, "target": info.target, "version": info.version}


async def upload_package(request: Request) -> Response:
    principal = await _admin(request)
    services = services_of(request)
    _argos_ready(services)
    async with request.form(max_files=1, max_fields=2) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise validation_error(
                N_("Send the .argosmodel file as the multipart field 'file'."), fields={"file": "required"}
            )
        if not upload.size:
            raise validation_error(N_("That file is empty."), fields={"file": "empty"})
        try:
            package = await asyncio.to_thread(_install_upload, upload, services)
        except PackageError as exc:
            raise ApiError(
                422, "validation_error", str(exc), {"fields": {"file": "invalid_package"}}
            ) from None
    rescan_argos(services)
    async with services.transaction() as session:
        audit.record(session, principal.school_id, principal.id, "translation.package_installed", **package)
    return ok({"package": package}, 201)


def _fetcher(services: Services) -> FetchPart | None:
    return services.translation_fetch


async def fetch_status(request: Request) -> Response:
    await _admin(request)
    services = services_of(request)
    part = _fetcher(services)
    return ok(part.status() if part else read_status(Path(services.settings.data_dir)))


async def start_fetch(request: Request) -> Response:
    principal = await _admin(request)
    body = await parse(request, FetchBody)
    services = services_of(request)
    _argos_ready(services)
    languages = [code.strip().lower() for code in body.languages]
    bad = [code for code in languages if not valid_language(code)]
    if bad:
        raise validation_error(f"Not a language code: {', '.join(bad)}.", fields={"languages": "invalid"})
    if all(code == "en" for code in languages):
        raise validation_error(N_("English needs no translation package."), fields={"languages": "invalid"})
    part = _fetcher(services)
    if part is None:
        raise ApiError(503, "unavailable", N_("Fetching is not available in this process."))
    try:
        status = part.begin(list(dict.fromkeys(languages)), principal.id)
    except Busy:
        raise conflict("busy", N_("A fetch is already running; wait for it to finish.")) from None
    async with services.transaction() as session:
        audit.record(
            session,
            principal.school_id,
            principal.id,
            "translation.fetch_started",
            languages=status["languages"],
        )
    return ok(status, 202)


routes = [
    Route("/api/translation/coverage", coverage, methods=["GET"]),
    Route("/api/translation/packages", upload_package, methods=["POST"]),
    Route("/api/translation/fetch", fetch_status, methods=["GET"]),
    Route("/api/translation/fetch", start_fetch, methods=["POST"]),
]
