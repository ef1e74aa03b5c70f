"""``POST /api/join/preview`` ``{code}``: what a parent joining with an invite code needs to see first.

Joining means accepting the school's code of conduct (P17), and the join form must
show its text and offer the languages to choose from, before the parent has an
account. This reads, never claims, the invite: the school's name, the pupil's
display name, the current policy (version and text) and the languages. Attempts
share the wrong-invite-code budget of ``/api/join`` (P14), and an unknown, used or
expired code gets the same 422 ``invalid_code`` as joining would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import Body, client_ip, ok, parse, services_of
from server.api.onboarding import code_budget, wrong_code
from server.auth import throttle
from server.auth.tokens import digest, normalise_code
from server.db.models import Invite, School, Student
from server.errors import ApiError
from server.language.interface import N_, from_accept_language
from server.language.languages import KNOWN, describe, is_known
from server.school.access import names_for_classes
from server.school.policy_reading import policy_for_reader


class PreviewBody(Body):
    code: str = Field(min_length=4, max_length=32)
    # The language the page is read in: the code of conduct comes translated into it.
    language: str | None = Field(default=None, max_length=16)


def _invalid(reason: str, message: str) -> ApiError:
    return ApiError(422, "invalid_code", message, {"reason": reason})


async def preview_invite(session: AsyncSession, code: str, now: datetime) -> dict[str, Any]:
    """The school, pupil and policy an unused, unexpired invite code leads to; 422 otherwise."""
    invite = await session.scalar(select(Invite).where(Invite.code_hash == digest(normalise_code(code))))
    if invite is None:
        raise _invalid("unknown", N_("That code is not right. Check it, or ask the school for a new one."))
    if invite.used_at is not None:
        raise _invalid("used", N_("That code has already been used. Ask the school for a new one."))
    if invite.expires_at <= now or invite.revoked_at is not None:
        raise _invalid("expired", N_("That code has expired. Ask the school for a new one."))
    student = await session.get(Student, invite.student_id)
    school = await session.get(School, invite.school_id)
    if student is None or student.left_at is not None or school is None:
        raise _invalid("unknown", N_("That code is no longer valid. Ask the school for a new one."))
    names = await names_for_classes(session, [student.class_id])
    return {
        "school": {"name": school.name, "language": school.language},
        "student": {"name": names.get(student.id, student.first_name)},
        "policy": {"version": school.policy_version, "text": school.policy_text},
    }


async def join_preview(request: Request) -> Response:
    services = services_of(request)
    body = await parse(request, PreviewBody)
    budgets = [code_budget(services, "code-fail-ip", client_ip(request))]
    async with throttle.attempt(services, budgets, failed=wrong_code), services.read() as session:
        shape = await preview_invite(session, body.code, services.clock())
    translation = services.translation
    targets = await translation.translatable_languages() if translation is not None else set()
    source = shape["school"]["language"] or "en"
    reader = body.language if body.language and is_known(body.language.split("-")[0]) else None
    if reader is None:
        reader = from_accept_language(request.headers.get("accept-language"))
    policy = shape["policy"]
    policy.update(await policy_for_reader(services, policy["text"], source, reader))
    shape["languages"] = sorted(
        (describe(code, "en", code == source or code in targets) for code in KNOWN),
        key=lambda item: (item["code"] != source, str(item["name"]).casefold()),
    )
    return ok(shape)


routes = [Route("/api/join/preview", join_preview, methods=["POST"])]
