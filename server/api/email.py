"""Password reset (``/api/auth/reset``, ``/api/auth/reset/confirm``) and one-click email unsubscribe."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from server.api.http import Body, Password, client_ip, ok, parse, services_of
from server.api.openapi import describe
from server.auth import reset, throttle
from server.auth.accounts import normalise_email
from server.auth.throttle import Budget, budget_key
from server.db.models import School
from server.errors import ApiError
from server.notify.emails import reset_email
from server.notify.links import public_base
from server.notify.mail import compose, mailer_of, unsubscribe_valid
from server.notify.preferences import unsubscribe_email

RESET_REQUESTS_PER_HOUR = 5


class ResetBody(Body):
    email: str = Field(min_length=3, max_length=254)


class ConfirmBody(Body):
    token: str = Field(min_length=16, max_length=128)
    password: Password


NO_EMAIL = "This server cannot send email. Ask your school office to reset your password."


@describe(summary="Is password reset by email available here?")
async def reset_status(request: Request) -> Response:
    mailer = mailer_of(services_of(request))
    return ok({"available": bool(mailer and mailer.configured)})


@describe(summary="Email a password-reset link (always 202: never says whether the address exists)")
async def request_reset(request: Request) -> Response:
    services = services_of(request)
    body = await parse(request, ResetBody)
    mailer = mailer_of(services)
    base = public_base(services.settings, request)
    if mailer is None or not mailer.configured or base is None:
        # Still 202 (API.md), and the same for every address: the page tells people to ask the office.
        return ok({"ok": True, "email_available": False, "message": NO_EMAIL}, 202)
    address = client_ip(request)
    await throttle.spend(
        services,
        [
            Budget(budget_key("reset-email", normalise_email(body.email)), RESET_REQUESTS_PER_HOUR, 3600.0),
            Budget(budget_key("reset-ip", address), RESET_REQUESTS_PER_HOUR * 4, 3600.0),
        ],
    )
    async with services.transaction() as session:
        started = await reset.start_reset(session, body.email, services.clock())
        school = await session.get(School, started[0].school_id) if started else None
    if started is not None and school is not None:
        user, token = started
        assert user.email is not None
        subject, text_body = reset_email(
            user.language, user.name, f"{base}/#/reset?token={token}", school.name
        )
        mailer.send_later(
            compose(services.settings.mail_from, user.email, subject, text_body, language=user.language)
        )
    return ok({"ok": True, "email_available": True}, 202)


def _wrong_token(error: ApiError) -> bool:
    return error.status == 422 and error.details.get("fields", {}).get("token") == "invalid"


@describe(summary="Choose a new password with the emailed token; ends every session")
async def confirm_reset(request: Request) -> Response:
    services = services_of(request)
    body = await parse(request, ConfirmBody)
    budgets = [
        Budget(budget_key("reset-token-ip", client_ip(request)), services.settings.code_attempts_per_minute)
    ]
    async with throttle.attempt(services, budgets, failed=_wrong_token), services.transaction() as session:
        user = await reset.finish_reset(session, body.token, body.password, services.clock())
    await services.access_changed(user.id)
    return ok({"ok": True})


def _signed(request: Request) -> int | None:
    try:
        user_id = int(request.query_params.get("u", ""))
    except ValueError:
        return None
    signature = request.query_params.get("s", "")
    if not unsubscribe_valid(services_of(request).settings.secret_key, user_id, signature):
        return None
    return user_id


@describe(summary="One-click unsubscribe (RFC 8058): POST List-Unsubscribe=One-Click; no sign-in")
async def unsubscribe(request: Request) -> Response:
    user_id = _signed(request)
    if user_id is None:
        raise ApiError(404, "not_found", "That unsubscribe link is not valid.")
    async with services_of(request).transaction() as session:
        await unsubscribe_email(session, user_id)
    return ok({"email": "off"})


@describe(summary="The unsubscribe page a person sees when they open the link")
async def unsubscribe_page(request: Request) -> Response:
    if _signed(request) is None:
        raise ApiError(404, "not_found", "That unsubscribe link is not valid.")
    # Opening the link changes nothing (link scanners open links); the button posts.
    page = (
        "<!doctype html><meta charset=utf-8><title>Homeroom</title>"
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<p><button type="submit">Stop Homeroom emails</button></p></form>'
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


routes = [
    Route("/api/auth/reset", reset_status, methods=["GET"]),
    Route("/api/auth/reset", request_reset, methods=["POST"]),
    Route("/api/auth/reset/confirm", confirm_reset, methods=["POST"]),
    Route("/api/email/unsubscribe", unsubscribe, methods=["POST"]),
    Route("/api/email/unsubscribe", unsubscribe_page, methods=["GET"]),
]
