"""``GET /api/classes/{id}/letters.pdf``, ``/api/school/letters.pdf``, ``/api/classes/{id}/login-cards.pdf``.

Who: admins, and the class's own staff for a class's letters and cards (the people who
see its pupils' codes, :func:`sees_pupil_codes`); the whole school's letters are the
admin's. Printing letters makes fresh invite codes (see :mod:`server.school.letters`).
The PDF is rendered in a worker thread and never cached.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import authenticate, path_id, services_of
from server.api.openapi import describe
from server.auth.principal import Principal, require_role
from server.db.models import School
from server.errors import forbidden
from server.school import letter_pdf, letters
from server.school.access import get_class, sees_pupil_codes

PDF_REPLY: dict[int | str, Any] = {200: {"content": {"application/pdf": {"schema": {"type": "string"}}}}}


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _class_for_printing(session: AsyncSession, principal: Principal, class_id: int) -> None:
    require_role(principal, "staff")
    await get_class(session, principal, class_id)
    if not await sees_pupil_codes(session, principal, class_id):
        raise forbidden("Only admins and the class's own staff print its letters and cards.")


@describe(responses=PDF_REPLY)
async def class_letters(request: Request) -> Response:
    principal = await authenticate(request)
    services = services_of(request)
    class_id = path_id(request)
    async with services.transaction() as session:
        await _class_for_printing(session, principal, class_id)
        made = await letters.make_letters(
            session, principal, class_id, services.settings.invite_days, services.clock()
        )
        school = await session.get(School, principal.school_id)
        assert school is not None
        timezone = school.timezone
    content = await asyncio.to_thread(letter_pdf.letters_pdf, made, _base_url(request), timezone)
    return _pdf(content, f"invite-letters-class-{class_id}.pdf")


@describe(responses=PDF_REPLY)
async def school_letters(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    services = services_of(request)
    async with services.transaction() as session:
        made = await letters.make_letters(
            session, principal, None, services.settings.invite_days, services.clock()
        )
        school = await session.get(School, principal.school_id)
        assert school is not None
        timezone = school.timezone
    content = await asyncio.to_thread(letter_pdf.letters_pdf, made, _base_url(request), timezone)
    return _pdf(content, "invite-letters.pdf")


@describe(responses=PDF_REPLY)
async def login_cards(request: Request) -> Response:
    principal = await authenticate(request)
    services = services_of(request)
    class_id = path_id(request)
    async with services.read() as session:
        await _class_for_printing(session, principal, class_id)
        cards = await letters.make_cards(session, principal, class_id)
    language = principal.user.language
    content = await asyncio.to_thread(letter_pdf.cards_pdf, cards, _base_url(request), language)
    return _pdf(content, f"login-cards-class-{class_id}.pdf")


routes = [
    Route("/api/classes/{id:int}/letters.pdf", class_letters, methods=["GET"]),
    Route("/api/school/letters.pdf", school_letters, methods=["GET"]),
    Route("/api/classes/{id:int}/login-cards.pdf", login_cards, methods=["GET"]),
]
