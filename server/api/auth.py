"""``/api/auth/*`` and ``/api/me``: signing in and out, and the user's own profile."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import accounts
from server.access import children_of, names_for_classes, own_student
from server.api import replies, shapes
from server.api.http import (
    SESSION_COOKIE,
    Body,
    LanguageCode,
    Password,
    authenticate,
    changes_of,
    client_ip,
    limit,
    ok,
    parse,
    services_of,
    text,
)
from server.api.openapi import describe
from server.auth.principal import start_session
from server.auth.tokens import csrf_token, normalise_code
from server.db.models import School, User
from server.services import Services

Name = text(200)


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
        SESSION_COOKIE,
        token,
        max_age=services.settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=services.settings.production,
        path="/",
    )
    return response


@describe(responses={200: replies.SignedIn})
async def login(request: Request) -> Response:
    body = await parse(request, LoginBody)
    await limit(
        request,
        "login-ip",
        client_ip(request),
        services_of(request).settings.login_attempts_per_minute,
    )
    await limit(
        request,
        "login-email",
        accounts.normalise_email(body.email),
        services_of(request).settings.login_attempts_per_minute,
    )
    async with services_of(request).read() as session:
        user = await accounts.check_login(session, body.email, body.password)
    return await _signed_in(request, user)


@describe(responses={200: replies.SignedIn})
async def pupil_login(request: Request) -> Response:
    body = await parse(request, PupilLoginBody)
    settings = services_of(request).settings
    # A whole class signs in from one school address at once, so the per-address budget is wide.
    await limit(request, "pupil-ip", client_ip(request), settings.code_attempts_per_minute * 12)
    await limit(
        request,
        "pupil-class",
        normalise_code(body.class_code),
        settings.code_attempts_per_minute * 6,
    )
    async with services_of(request).read() as session:
        user = await accounts.check_pupil_login(session, body.class_code, body.student_code)
    return await _signed_in(request, user)


async def logout(request: Request) -> Response:
    principal = await authenticate(request, allow_unaccepted=True)
    services = services_of(request)
    async with services.transaction() as session:
        await accounts.end_session(session, principal)
    await services.access_changed(principal.id)
    response = ok({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
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
    async with services.transaction() as session:
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
