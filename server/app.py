"""``create_app(settings)``: the routes, middleware and the lifespan that wires the parts.

The parts (database, the process's Redis pool, rate limiter, live layer, translation,
periodic jobs) are built in the lifespan, never at import time, and reach handlers
through ``app.state.services``. The whole wiring is here: which parts run
(:func:`default_parts`), the renderers the live layer uses (translation's), and the
ordered commit listeners (each part with an ``after_commit``, in the parts' order).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from server.api import absences as absences_api
from server.api import auth, event_answers, join_preview, messages, meta, onboarding, reference
from server.api import email as email_api
from server.api import events as events_api
from server.api import guardians as guardians_api
from server.api import interface as interface_api
from server.api import invites as invites_api
from server.api import letters as letters_api
from server.api import media as media_api
from server.api import notify as notify_api
from server.api import points as points_api
from server.api import portfolio as portfolio_api
from server.api import privacy as privacy_api
from server.api import reach as reach_api
from server.api import roster as roster_api
from server.api import school as school_api
from server.api import stories as stories_api
from server.api import translation as translation_api
from server.api import translation_reports as translation_reports_api
from server.api.http import JSONResponse
from server.api.openapi import describe
from server.auth.ratelimit import create_rate_limiter
from server.calendar.reminders import send_reminders
from server.channels import endpoint as live_endpoint
from server.channels.part import LivePart
from server.db.engine import Database, database_unreachable
from server.errors import ApiError, not_found
from server.jobs import Job, JobRunner
from server.language import catalogs
from server.language.interface import N_, from_accept_language, text
from server.media.processing import RecordingPart
from server.media.sweeper import sweep_interval, sweep_uploads
from server.messaging.delivery import release_held_messages
from server.middleware import BodyLimit, CrossSiteGuard, RequestContext, SecurityHeaders
from server.notify.digest import send_digests
from server.notify.mail import MailPart
from server.notify.worker import PushWorker, prune_push
from server.privacy.erasure import OrphanFilePart
from server.privacy.retention import DAILY, run_retention
from server.redis_clients import connect as connect_redis
from server.services import CommitListening, Services
from server.settings import Settings, uses_redis
from server.timeutil import utcnow
from server.translation.fetch_job import FetchPart
from server.translation.part import Role, TranslationPart

log = logging.getLogger("homeroom")
WEB_DIR = Path(__file__).resolve().parent.parent / "web"


class Part(Protocol):
    """A piece of the server with a lifetime: started after the database, stopped before it."""

    async def start(self, services: Services) -> None: ...

    async def stop(self) -> None: ...


def api_routes() -> list[BaseRoute]:
    """Every HTTP route of API.md that this build serves."""
    return [
        *meta.routes,
        *auth.routes,
        *onboarding.routes,
        *school_api.routes,
        *guardians_api.routes,
        *roster_api.routes,
        *letters_api.routes,
        *invites_api.routes,
        *reach_api.routes,
        *stories_api.routes,
        *events_api.routes,
        *event_answers.routes,
        *absences_api.routes,
        *media_api.routes,
        *points_api.routes,
        *messages.routes,
        *portfolio_api.routes,
        *privacy_api.routes,
        *live_endpoint.routes,
        *join_preview.routes,
        *translation_api.routes,
        *translation_reports_api.routes,
        *notify_api.routes,
        *email_api.routes,
        *reference.routes,
        *interface_api.routes,
    ]


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    parts: Sequence[Part] | None = None,
) -> Starlette:
    """Build the ASGI app; nothing connects until the lifespan starts."""
    # A fresh clone or an edited .po: compile the interface catalogs before serving.
    catalogs.ensure_compiled()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            db = Database(settings.database_url, connections=settings.database_connections)
            stack.push_async_callback(db.dispose)
            # One Redis client per process (None with memory://), shared by whoever needs Redis.
            redis = connect_redis(settings.broker_url) if uses_redis(settings.broker_url) else None
            if redis is not None:
                stack.push_async_callback(redis.aclose)
            services = Services(
                settings=settings,
                db=db,
                limiter=create_rate_limiter(settings, redis),
                clock=clock,
                sleep=sleep,
                redis=redis,
            )
            app.state.services = services
            running = list(parts) if parts is not None else default_parts(settings)
            # After each commit: publish live first (the outbox), then the others (translation).
            services.commit_listeners = [
                part.after_commit for part in running if isinstance(part, CommitListening)
            ]
            for part in running:
                await part.start(services)
                stack.push_async_callback(part.stop)
            yield

    routes: list[BaseRoute] = [
        *api_routes(),
        Route(
            "/api/{rest:path}",
            _no_such_endpoint,
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        ),
    ]
    if WEB_DIR.is_dir():
        routes.append(Mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web"))
    else:
        routes.append(Route("/", _api_only, methods=["GET"]))
    middleware = [
        Middleware(RequestContext),
        Middleware(SecurityHeaders, production=settings.production),
        Middleware(CrossSiteGuard, allowed_origins=settings.allowed_origins),
        Middleware(
            BodyLimit,
            default=settings.max_body_bytes,
            uploads=max(settings.max_upload_bytes, settings.max_recording_bytes) + 64 * 1024,
            upload_paths=("/api/media",),
            large=(
                ("/api/translation/packages", settings.max_package_bytes + 64 * 1024),
                ("/api/roster/import", roster_api.MAX_FILE_BYTES + 64 * 1024),
            ),
        ),
    ]
    # Each handler takes the exception class it is keyed by; Starlette types every handler as
    # taking any Exception, so the mapping is typed with the exception left open.
    handlers: dict[Any, Callable[[Request, Any], Awaitable[Response]]] = {
        ApiError: _api_error,
        HTTPException: _http_error,
        IntegrityError: _integrity,
        DataError: _refused_value,
        OperationalError: _unavailable,
        InterfaceError: _unavailable,
        RedisError: _unavailable,
        OSError: _unavailable,
        PoolTimeout: _unavailable,
        DBAPIError: _database_error,
        Exception: _crash,
    }
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers=handlers,
    )


def default_parts(settings: Settings, *, translation_role: Role = "auto") -> list[Part]:
    """The parts every server runs, in start order (which is also their commit listeners' order)."""
    translation = TranslationPart(settings, role=translation_role)
    return [
        LivePart(renderers=translation.renderers()),
        JobRunner(default_jobs(settings)),
        RecordingPart(),
        OrphanFilePart(),
        translation,
        FetchPart(),
        MailPart(settings),
        PushWorker(settings),
    ]


def default_jobs(settings: Settings) -> list[Job]:
    """The periodic jobs every process offers to run (each tick runs in one process)."""
    return [
        Job("release_held_messages", every=5.0, run=release_held_messages),
        Job("sweep_uploads", every=sweep_interval(settings), run=sweep_uploads, lease=600.0),
        Job("retention", every=DAILY, run=run_retention, lease=3600.0),
        Job("push_prune", every=3600.0, run=prune_push, lease=600.0),
        Job("email_digest", every=300.0, run=send_digests, lease=900.0),
        Job("event_reminders", every=60.0, run=send_reminders, lease=300.0),
    ]


@describe(hidden=True)
async def _no_such_endpoint(request: Request) -> Response:
    raise not_found(N_("That endpoint"))


@describe(hidden=True)
async def _api_only(request: Request) -> Response:
    """The front page of a build without the web client: say what is here."""
    return JSONResponse({"name": "Homeroom", "api": "/api", "health": "/healthz"})


def reader_language(request: Request) -> str | None:
    """Whose language an error message is written in: the signed-in user's, else Accept-Language."""
    principal = getattr(request.state, "principal", None)
    user = getattr(principal, "user", None)
    language = getattr(user, "language", None)
    if isinstance(language, str) and language:
        return language
    return from_accept_language(request.headers.get("accept-language"))


async def _api_error(request: Request, exc: ApiError) -> Response:
    headers = {"Cache-Control": "no-store"}
    if exc.status == 429 and "retry_after" in exc.details:
        headers["Retry-After"] = str(exc.details["retry_after"])
    return JSONResponse(exc.body(reader_language(request)), status_code=exc.status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


async def _http_error(request: Request, exc: HTTPException) -> Response:
    code = _HTTP_CODES.get(exc.status_code, "error")
    language = reader_language(request)
    if exc.status_code == 404:
        message = text(language, "That endpoint was not found.")
    else:
        message = text(language, str(exc.detail))
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": {}}},
        status_code=exc.status_code,
        headers=dict(exc.headers or {}),
    )


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    body: dict[str, Any] = {
        "error": {
            "code": "internal",
            "message": text(reader_language(request), "Something went wrong on our side."),
            "details": {},
        }
    }
    return JSONResponse(body, status_code=500)


async def _integrity(request: Request, exc: IntegrityError) -> Response:
    """A lost race on a unique row (two requests at once): nothing was written."""
    log.info("integrity conflict on %s %s", request.method, request.url.path)
    error = ApiError(409, "conflict", N_("That changed at the same moment; please try again."))
    return JSONResponse(
        error.body(reader_language(request)), status_code=409, headers={"Cache-Control": "no-store"}
    )


async def _refused_value(request: Request, exc: DataError) -> Response:
    """A value the database refused (validation should have caught it first): 400, nothing written."""
    log.warning("database refused a value on %s %s", request.method, request.url.path)
    error = ApiError(400, "bad_request", N_("A value in the request is not acceptable."))
    return JSONResponse(
        error.body(reader_language(request)), status_code=400, headers={"Cache-Control": "no-store"}
    )


async def _database_error(request: Request, exc: DBAPIError) -> Response:
    """A driver error no narrower handler took: 503 when the database went away, else a crash."""
    if database_unreachable(exc):
        return await _unavailable(request, exc)
    return await _crash(request, exc)


async def _unavailable(request: Request, exc: Exception) -> Response:
    """The database (or another backing service) is unreachable: 503, the request changed nothing."""
    log.warning(
        "backing service unavailable on %s %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
    )
    error = ApiError(
        503,
        "unavailable",
        N_("The service is briefly unavailable; please try again shortly."),
    )
    return JSONResponse(
        error.body(reader_language(request)),
        status_code=503,
        headers={"Retry-After": "5", "Cache-Control": "no-store"},
    )
