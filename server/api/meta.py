"""``/healthz``, ``/readyz``, ``/metrics`` and ``/api/languages``."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api import openapi
from server.api.http import authenticate, ok, services_of
from server.errors import ApiError, not_found
from server.language.interface import N_, interface_languages
from server.language.languages import KNOWN, describe
from server.observability import metrics
from server.services import ReadyCheck


async def healthz(request: Request) -> Response:
    return ok({"status": "ok"})


@openapi.describe(responses={503: {"$ref": "#/components/responses/Unavailable"}})
async def readyz(request: Request) -> Response:
    """Ready when the database and every registered part (the broker, …) answer within 2 s."""
    services = services_of(request)
    checks: dict[str, ReadyCheck] = {
        "database": services.db.ping,
        **services.ready_checks,
    }
    failed: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), timeout=2.0)
        except Exception as exc:
            failed[name] = type(exc).__name__
    if failed:
        raise ApiError(503, "unavailable", N_("Not ready."), {"failed": failed})
    return ok({"status": "ready", "checks": sorted(checks)})


async def languages(request: Request) -> Response:
    """Languages a user may choose, named in the asking user's language."""
    principal = await authenticate(request, allow_unaccepted=True)
    translation = services_of(request).translation
    targets = await translation.translatable_languages() if translation is not None else set()
    source = "en"
    complete = interface_languages()
    items = [
        {
            **describe(code, principal.user.language, code == source or code in targets),
            "interface": code == source or code in complete,
        }
        for code in KNOWN
    ]
    items.sort(key=lambda item: (item["code"] != source, str(item["name"]).casefold()))
    return ok({"items": items})


# Headers a reverse proxy adds: a request carrying any of them came through one (or pretends to).
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def metrics_allowed(headers: Mapping[str, str], token: str) -> bool:
    """Whether ``/metrics`` may answer: a direct request (no proxy in between), or the metrics token.

    The proxy always sets ``X-Forwarded-For``, so whatever reaches the app through it
    is refused unless it carries ``Authorization: Bearer <HOMEROOM_METRICS_TOKEN>``.
    Scrapers on the internal network talk to each process directly.
    """
    if token:
        scheme, _, presented = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
            return True
    return not any(name in headers for name in FORWARDING_HEADERS)


@openapi.describe(responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
async def metrics_text(request: Request) -> Response:
    """Prometheus exposition of this process's series, for direct scrapers or the token's holders."""
    if not metrics_allowed(request.headers, services_of(request).settings.metrics_token):
        raise not_found(N_("That endpoint"))
    body, content_type = metrics.render()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics_text, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/api/languages", languages, methods=["GET"]),
]
