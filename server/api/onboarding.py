"""Invites, joining, linking children, guardian requests and the code of conduct."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api import replies, shapes
from server.api.auth import _signed_in, me_shape
from server.api.http import (
    Body,
    EmailAddress,
    Id,
    LanguageCode,
    Password,
    authenticate,
    client_ip,
    ok,
    page_params,
    parse,
    path_id,
    services_of,
    text,
)
from server.api.openapi import describe
from server.auth import throttle
from server.auth.principal import require_role
from server.auth.throttle import Budget, budget_key
from server.db.models import GuardianRequest, School, Student
from server.errors import ApiError, validation_error
from server.language.interface import N_
from server.notify.invites import send_invite_email
from server.school import onboarding
from server.school import settings as school
from server.school.access import get_student, names_for_classes
from server.school.policy_reading import policy_for_reader
from server.services import Services
from server.timeutil import iso

Code = Annotated[str, text(32, min_length=4)]
PersonName = Annotated[str, text(200)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]


class InviteBody(Body):
    student_id: Id
    email: EmailAddress | None = None  # when given, the code is emailed there
    language: LanguageCode | None = None  # the email's language; default: the school's


class JoinBody(Body):
    code: Code
    name: PersonName
    email: EmailAddress
    password: Password
    language: LanguageCode
    accept_policy_version: Version


class CodeBody(Body):
    code: Code


class AcceptBody(Body):
    version: Version


def code_budget(services: Services, bucket: str, key: str) -> Budget:
    """The budget of wrong invite codes per minute for one address or account (P14)."""
    return Budget(budget_key(bucket, key), services.settings.code_attempts_per_minute)


def wrong_code(error: ApiError) -> bool:
    """An unknown, used or expired invite code: a failed guess."""
    return error.code == "invalid_code"


def _limit_reached(request: GuardianRequest) -> ApiError:
    return ApiError(
        409,
        "guardian_limit",
        N_("This child already has two guardians linked. The school will review your request."),
        {"request_id": request.id, "status": request.status},
    )


async def create_invite(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "staff")
    body = await parse(request, InviteBody)
    services = services_of(request)
    async with services.transaction() as session:
        student = await get_student(session, principal, body.student_id)
        if student.left_at is not None:
            raise validation_error(N_("That pupil has left the school."), fields={"student_id": "left"})
        made = await onboarding.create_invite(
            session, principal, student, services.settings.invite_days, services.clock()
        )
        school_row = await session.get(School, student.school_id)
        assert school_row is not None
    reply: dict[str, Any] = {
        "code": made.code,
        "expires_at": iso(made.invite.expires_at),
        "student_id": student.id,
    }
    if body.email is not None:
        # After the commit: a code is only emailed once it exists; a failed email leaves the
        # code valid and shown to the staff member, who can hand it over another way.
        reply["emailed"] = await send_invite_email(
            services,
            to=body.email,
            language=body.language or school_row.language,
            school_name=school_row.name,
            pupil_name=student.first_name,
            code=made.code,
            expires_at=made.invite.expires_at,
            timezone=school_row.timezone,
        )
    return ok(reply, 201)


@describe(responses={201: replies.SignedIn})
async def join(request: Request) -> Response:
    services = services_of(request)
    body = await parse(request, JoinBody)
    # Only wrong codes count (a room of parents joining on the school's wifi is not refused).
    budgets = [code_budget(services, "code-fail-ip", client_ip(request))]
    async with throttle.attempt(services, budgets, failed=wrong_code), services.transaction() as session:
        outcome = await onboarding.join(
            session,
            code=body.code,
            name=body.name,
            email=body.email,
            password=body.password,
            language=body.language,
            accept_policy_version=body.accept_policy_version,
            now=services.clock(),
        )
    if outcome.request is not None:
        raise _limit_reached(outcome.request)
    assert outcome.user is not None
    response = await _signed_in(request, outcome.user)
    response.status_code = 201
    return response


async def add_child(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "parent")
    services = services_of(request)
    body = await parse(request, CodeBody)
    budgets = [
        code_budget(services, "code-fail-ip", client_ip(request)),
        code_budget(services, "code-fail-user", str(principal.id)),
    ]
    async with throttle.attempt(services, budgets, failed=wrong_code), services.transaction() as session:
        outcome = await onboarding.link_child(session, principal, body.code, services.clock())
    if outcome.request is not None:
        raise _limit_reached(outcome.request)
    return ok(await me_shape(services, principal.user), 201)


async def list_guardian_requests(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    status = request.query_params.get("status")
    if status not in (None, "pending", "approved", "rejected"):
        raise validation_error(N_("status is pending, approved or rejected."), fields={"status": "invalid"})
    before, page = page_params(request)
    async with services_of(request).read() as session:
        found = await onboarding.list_requests(
            session, principal.school_id, status, before=before, limit=page
        )
        class_ids = await onboarding.classes_of_students(session, {r.student_id for r in found})
        names = await names_for_classes(session, class_ids)
    return ok({"items": [shapes.guardian_request(r, names.get(r.student_id, "")) for r in found]})


async def _decide(request: Request, approve: bool) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    services = services_of(request)
    async with services.transaction() as session:
        decided = await onboarding.decide_request(
            session, principal, path_id(request), approve, services.clock()
        )
        student = await session.get(Student, decided.student_id)
        names = await names_for_classes(session, [student.class_id] if student else [])
    return ok(shapes.guardian_request(decided, names.get(decided.student_id, "")))


async def approve_request(request: Request) -> Response:
    return await _decide(request, True)


async def reject_request(request: Request) -> Response:
    return await _decide(request, False)


@describe(responses={200: replies.Policy})
async def get_policy(request: Request) -> Response:
    """The code of conduct in the reader's language (``original`` as the school wrote it)."""
    principal = await authenticate(request, allow_unaccepted=True)
    services = services_of(request)
    async with services.read() as session:
        found = await school.get_school(session, principal.school_id)
    read = await policy_for_reader(
        services, found.policy_text, found.language or "en", principal.user.language
    )
    return ok(
        {
            "version": found.policy_version,
            **read,
            "accepted_version": principal.user.policy_accepted_version,
        }
    )


async def accept_policy(request: Request) -> Response:
    principal = await authenticate(request, allow_unaccepted=True)
    require_role(principal, "parent")
    body = await parse(request, AcceptBody)
    async with services_of(request).transaction() as session:
        user = await school.accept_policy(session, principal, body.version)
    return ok({"version": body.version, "accepted_version": user.policy_accepted_version})


routes = [
    Route("/api/invites", create_invite, methods=["POST"]),
    Route("/api/join", join, methods=["POST"]),
    Route("/api/me/children", add_child, methods=["POST"]),
    Route("/api/guardian-requests", list_guardian_requests, methods=["GET"]),
    Route("/api/guardian-requests/{id:int}/approve", approve_request, methods=["POST"]),
    Route("/api/guardian-requests/{id:int}/reject", reject_request, methods=["POST"]),
    Route("/api/policy", get_policy, methods=["GET"]),
    Route("/api/policy/accept", accept_policy, methods=["POST"]),
]
