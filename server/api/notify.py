"""``/api/push/key``, ``/api/push/subscriptions`` and ``/api/me/notifications`` (API.md "Notifications")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import Body, authenticate, ok, parse, path_id, services_of
from server.api.openapi import describe
from server.errors import ApiError, forbidden
from server.notify import preferences, subscriptions


class PushKeys(Body):
    p256dh: Annotated[str, Field(min_length=1, max_length=200)]
    auth: Annotated[str, Field(min_length=1, max_length=200)]


class SubscriptionBody(Body):
    endpoint: Annotated[str, Field(min_length=1, max_length=2000)]
    keys: PushKeys
    expirationTime: float | None = None  # the browser's own field name


class PushChoices(Body):
    posts: StrictBool | None = None
    messages: StrictBool | None = None
    points: StrictBool | None = None
    portfolio: StrictBool | None = None
    events: StrictBool | None = None


class PreferencesBody(Body):
    push: PushChoices | None = None
    email: Literal["off", "instant", "daily"] | None = None


def _changes(body: PreferencesBody) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if body.push is not None:
        changes["push"] = body.push.model_dump(exclude_none=True)
    if body.email is not None:
        changes["email"] = body.email
    return changes


def _push_part(request: Request) -> Any:
    worker = services_of(request).push
    if worker is None or worker.vapid is None:
        raise ApiError(503, "unavailable", "Push notifications are not running on this server.")
    return worker


@describe(summary="The VAPID application-server key for PushManager.subscribe")
async def push_key(request: Request) -> Response:
    await authenticate(request)
    return ok({"public_key": _push_part(request).vapid.public_key})


@describe(summary="Subscribe this browser to Web Push (re-posting the same endpoint updates it)")
async def add_subscription(request: Request) -> Response:
    principal = await authenticate(request)
    if principal.role == "student":
        raise forbidden()
    body = await parse(request, SubscriptionBody)
    services = services_of(request)
    async with services.transaction() as session:
        found, new = await subscriptions.subscribe(
            session,
            principal,
            services.settings,
            body.model_dump(),
            request.headers.get("user-agent", ""),
        )
        reply = {"id": found.id, **subscriptions.shape(found)}
    return ok(reply, 201 if new else 200)


@describe(summary="The signed-in user's subscribed devices")
async def list_subscriptions(request: Request) -> Response:
    principal = await authenticate(request)
    async with services_of(request).read() as session:
        return ok({"items": await subscriptions.devices(session, principal)})


@describe(summary="Remove one of your devices")
async def remove_subscription(request: Request) -> Response:
    principal = await authenticate(request)
    async with services_of(request).transaction() as session:
        await subscriptions.unsubscribe(session, principal, path_id(request))
    return Response(status_code=204)


@describe(summary="Your notification choices")
async def get_preferences(request: Request) -> Response:
    principal = await authenticate(request)
    async with services_of(request).read() as session:
        return ok(await preferences.get_preferences(session, principal))


@describe(summary="Change your notification choices (what is not sent stays)")
async def put_preferences(request: Request) -> Response:
    principal = await authenticate(request)
    if principal.role == "student":
        raise forbidden()
    body = await parse(request, PreferencesBody)
    async with services_of(request).transaction() as session:
        return ok(await preferences.set_preferences(session, principal, _changes(body)))


routes = [
    Route("/api/push/key", push_key, methods=["GET"]),
    Route("/api/push/subscriptions", list_subscriptions, methods=["GET"]),
    Route("/api/push/subscriptions", add_subscription, methods=["POST"]),
    Route("/api/push/subscriptions/{id:int}", remove_subscription, methods=["DELETE"]),
    Route("/api/me/notifications", get_preferences, methods=["GET"]),
    Route("/api/me/notifications", put_preferences, methods=["PUT"]),
]
