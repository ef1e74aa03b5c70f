"""``GET /api/reach`` and ``GET /api/reach.csv`` (admins): how far Homeroom reaches the school's families."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import authenticate, ok, services_of
from server.api.openapi import describe
from server.school import reach as reach_domain
from server.services import Services


async def _translatable(services: Services) -> set[str]:
    translation = services.translation
    return await translation.translatable_languages() if translation is not None else set()


async def reach(request: Request) -> Response:
    principal = await authenticate(request)
    services = services_of(request)
    targets = await _translatable(services)
    async with services.read() as session:
        report = await reach_domain.reach(session, principal, targets)
    return ok(report)


@describe(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
async def reach_csv(request: Request) -> Response:
    principal = await authenticate(request)
    services = services_of(request)
    targets = await _translatable(services)
    async with services.read() as session:
        report = await reach_domain.reach(session, principal, targets)
    content = reach_domain.reach_csv(report, principal.user.language)
    return Response(
        content.encode("utf-8-sig"),  # a byte-order mark, so Excel reads the names right
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": 'attachment; filename="reach.csv"',
        },
    )


routes = [
    Route("/api/reach", reach, methods=["GET"]),
    Route("/api/reach.csv", reach_csv, methods=["GET"]),
]
