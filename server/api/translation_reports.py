"""``/api/translations/report`` and ``/api/translations/reports``: readers report bad translations.

Thin routes: parse, authenticate, call :mod:`server.school.translation_reports`, shape.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import LanguageCode, authenticate, ok, page_params, parse, services_of
from server.school import translation_reports as reports


class TranslationReportBody(BaseModel):
    kind: Literal["post", "message"]
    id: int = Field(ge=1, le=2**62)
    lang: LanguageCode
    reason: str = Field(default="", max_length=1000)


async def report_translation(request: Request) -> Response:
    principal = await authenticate(request)
    body = await parse(request, TranslationReportBody)
    async with services_of(request).transaction() as session:
        found, created = await reports.report_translation(
            session, principal, body.kind, body.id, body.lang, body.reason.strip()
        )
        shape = reports.report_shape(found, principal.user)
    return ok(shape, 201 if created else 200)


async def list_reports(request: Request) -> Response:
    principal = await authenticate(request)
    before, count = page_params(request)
    async with services_of(request).read() as session:
        items = await reports.list_reports(session, principal, before, count)
    return ok({"items": items})


routes = [
    Route("/api/translations/report", report_translation, methods=["POST"]),
    Route("/api/translations/reports", list_reports, methods=["GET"]),
]
