"""``/api/auth/*`` and ``/api/me``: signing in and out, and the user's own profile."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api import replies, shapes
from server.api.http import (
    Body,
    LanguageCode,
    Password,
    authenticate,
    changes_of,
    client_ip,
    ok,
    parse,
    services_of,
    session_cookie_name,
    text,
)
from server.api.openapi import describe
from server.auth import accounts, throttle
from server.auth.principal import start_session
from server.auth.throttle import Budget, budget_key
from server.auth.tokens import csrf_token, normalise_code
from server.db.models import School, User
from server.errors import ApiError
from server.school.access import children_of, names_for_classes, own_student
from server.services import Services

Name = Annotated[str, text(200)]


class LoginBody(Body):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class PupilLoginBody(Body):
    class_code: str = Field(min_length=1, max_length=32)
    student_code: str = Field(min_length=1, max_length=32)


class MeBody(Body):
    name: Name | None = None
    language: LanguageCode | None = None
    password: Password | None = None
    current_password: Password | None = None


async def me_shape(services: Services, user: User, token: str | None = None) -> dict[str, Any]:
    """``GET /api/me``: the user, their school, children (parents) or pupil record (pupils)."""
    async with services.read() as session:
        school = await session.get(School, user.school_id)
        assert school is not None
        shape: dict[str, Any] = {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "role": user.role,
            "language": user.language,
            "school": {
                "id": school.id,
                "name": school.name,
                "language": school.language,
            },
            "policy_accepted_version": user.policy_accepted_version,
            "policy_version": school.policy_version,
            "needs_policy": user.role == "parent"
            and (user.policy_accepted_version or 0) < school.policy_version,
        }
        if user.role == "parent":
            children = await children_of(session, user.id)
            names = await names_for_classes(session, {c.class_id for c in children})
            shape["children"] = [shapes.student(c, names[c.id], full=True, staff=False) for c in children]
        elif user.role == "student":
            pupil = await own_student(session, user.id)
            if pupil is not None:
                names = await names_for_classes(session, [pupil.class_id])
                shape["student"] = shapes.student(pupil, names[pupil.id], full=False, staff=False)
    if token is not None:
        shape["csrf_token"] = csrf_token(services.settings.secret_key, token)
    return shape


async def _signed_in(request: Request, user: User) -> Response:
    services = services_of(request)
    async with services.transaction() as session:
        token = await start_session(services, session, user, request.headers.get("user-agent", ""))
    body = {
        "token": token,
        "csrf_token": csrf_token(services.settings.secret_key, token),
        "user": await me_shape(services, user),
    }
    response = ok(body)
    response.set_cookie(
        session_cookie_name(services.settings),
        token,
        max_age=services.settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=services.settings.production,
        path="/",
    )
    return response


def _wrong_credentials(error: ApiError) -> bool:
    return error.status == 401


@describe(responses={200: replies.SignedIn})
async def login(request: Request) -> Response:
    body = await parse(request, LoginBody)
    services = services_of(request)
    address = client_ip(request)
    failures = services.settings.login_attempts_per_minute
    budgets = [
        # Per account and address: a guesser elsewhere cannot lock the owner out.
        Budget(budget_key("login-fail", accounts.normalise_email(body.email), address), failures),
        # Per address, wide: a school's staff share one address; guessing many accounts does not.
        Budget(budget_key("login-fail-ip", address), failures * 10),
    ]
    async with throttle.attempt(services, budgets, failed=_wrong_credentials), services.read() as session:
        user = await accounts.check_login(session, body.email, body.password)
    return await _signed_in(request, user)


@describe(responses={200: replies.SignedIn})
async def pupil_login(request: Request) -> Response:
    body = await parse(request, PupilLoginBody)
    services = services_of(request)
    codes = services.settings.code_attempts_per_minute
    budgets = [
        # A whole class signs in from one school address at once, so these budgets are wide;
        # the per-class one stops guessing pupil codes from many addresses.
        Budget(budget_key("pupil-fail-class", normalise_code(body.class_code)), codes * 6),
        Budget(budget_key("pupil-fail-ip", client_ip(request)), codes * 12),
    ]
    async with throttle.attempt(services, budgets, failed=_wrong_credentials), services.read() as session:
        user = await accounts.check_pupil_login(session, body.class_code, body.student_code)
    return await _signed_in(request, user)


async def logout(request: Request) -> Response:
    principal = await authenticate(request, allow_unaccepted=True)
    services = services_of(request)
    async with services.transaction() as session:
        await accounts.end_session(session, principal)
    await services.access_changed(principal.id)
    response = ok({"ok": True})
    settings = services.settings
    response.delete_cookie(
        session_cookie_name(settings), path="/", secure=settings.production, httponly=True, samesite="lax"
    )
    return response


@describe(responses={200: replies.Me})
async def get_me(request: Request) -> Response:
    principal = await authenticate(request, allow_unaccepted=True)
    token = principal.token if principal.via == "cookie" else None
    return ok(await me_shape(services_of(request), principal.user, token))


@describe(responses={200: replies.Me})
async def patch_me(request: Request) -> Response:
    principal = await authenticate(request)
    body = await parse(request, MeBody)
    changes_of(body, clearable={"current_password": None})
    services = services_of(request)
    # Guessing the current password is throttled like signing in, per account.
    budgets = (
        [Budget(f"password-change:{principal.id}", services.settings.login_attempts_per_minute)]
        if body.password is not None
        else []
    )
    guessing = throttle.attempt(services, budgets, failed=accounts.is_wrong_current_password)
    async with guessing, services.transaction() as session:
        user = await accounts.update_profile(
            session,
            principal,
            name=body.name,
            language=body.language,
            password=body.password,
            current_password=body.current_password,
        )
    if body.password is not None or (body.language is not None and body.language != principal.user.language):
        # Other sessions were revoked (close their connections), or the reading language
        # changed (the live layer regroups the user's connections into the new variant).
        await services.access_changed(principal.id)
    return ok(await me_shape(services, user))


routes = [
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/student", pupil_login, methods=["POST"]),
    Route("/api/auth/logout", logout, methods=["POST"]),
    Route("/api/me", get_me, methods=["GET"]),
    Route("/api/me", patch_me, methods=["PATCH"]),
]
