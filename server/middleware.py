"""ASGI middleware: request ids and metrics, body limits, cross-site refusals, security headers."""

from __future__ import annotations

import logging
import secrets
import time

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.auth.origin import origin_allowed
from server.errors import ApiError
from server.language.interface import N_
from server.observability import metrics
from server.observability.logs import request_id

access_log = logging.getLogger("homeroom.access")


class BodyTooLarge(Exception):
    """The request body went past its limit while streaming."""


class BodyLimit:
    """Refuse bodies over the limit with 413 ``too_large``, by header or while streaming.

    Uploads (``/api/media``) get the larger upload limit; ``large`` paths (an argos
    package upload) their own; everything else the JSON limit.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int,
        uploads: int,
        upload_paths: tuple[str, ...],
        large: tuple[tuple[str, int], ...] = (),
    ) -> None:
        self.app = app
        self.default = default
        self.uploads = uploads
        self.upload_paths = upload_paths
        self.large = large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.uploads if path.startswith(self.upload_paths) else self.default
        limit = next((size for prefix, size in self.large if path == prefix), limit)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reply(send, ApiError(400, "bad_request", N_("Bad Content-Length header.")))
                    return
                if declared > limit:
                    await _reply(send, _too_large(limit))
                    return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _reply(send, _too_large(limit))


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "too_large",
        f"The request is larger than {limit // 1024} KiB.",
        {"limit_bytes": limit},
    )


async def _reply(send: Send, error: ApiError) -> None:
    body = orjson.dumps(error.body())
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        (
            b"default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
            b"style-src 'self'; script-src 'self'; "
            b"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
        ),
    ),
    # The web client uses none of these (photos come through a file input, not the camera API).
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    # No window of another site keeps a handle on ours (window.opener tricks, XS-Leaks).
    (b"cross-origin-opener-policy", b"same-origin"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
"""Production only: development is served over plain http."""


class SecurityHeaders:
    """Headers that keep pages and media from being framed, sniffed or leaked; HSTS in production."""

    def __init__(self, app: ASGIApp, *, production: bool = False) -> None:
        self.app = app
        self.headers = [*SECURITY_HEADERS, HSTS] if production else SECURITY_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message.get("headers", []), *self.headers],
                }
            await send(message)

        await self.app(scope, receive, with_headers)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cross_site(
    method: str,
    origin: str | None,
    fetch_site: str | None,
    *,
    host: str | None,
    scheme: str,
    allowed: tuple[str, ...],
) -> bool:
    """Whether an unsafe request comes from another site's page (sans-I/O, table-tested).

    ``Origin`` decides when present (so ``HOMEROOM_ALLOWED_ORIGINS`` work across sites);
    without it, ``Sec-Fetch-Site: cross-site`` does. Neither header: not a browser page.
    """
    if method not in UNSAFE_METHODS:
        return False
    if origin is not None:
        return not origin_allowed(origin, host, scheme, allowed)
    return (fetch_site or "").strip().lower() == "cross-site"


class CrossSiteGuard:
    """403 ``forbidden`` for every unsafe request from another site's page, whatever its auth.

    Cookies are SameSite=Lax, and cookie requests carry a CSRF token, but signing in has
    no session yet: without this a page elsewhere could sign a visitor into its own account.
    """

    def __init__(self, app: ASGIApp, *, allowed_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.allowed_origins = allowed_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            headers = dict(scope["headers"])
            origin = headers.get(b"origin")
            fetch_site = headers.get(b"sec-fetch-site")
            host = headers.get(b"host")
            if cross_site(
                scope["method"],
                origin.decode("latin-1") if origin is not None else None,
                fetch_site.decode("latin-1") if fetch_site is not None else None,
                host=host.decode("latin-1") if host is not None else None,
                scheme=scope.get("scheme", "http"),
                allowed=self.allowed_origins,
            ):
                refusal = ApiError(
                    403, "forbidden", N_("Requests from another site are refused."), {"reason": "cross_site"}
                )
                await _reply(send, refusal)
                return
        await self.app(scope, receive, send)


class RequestContext:
    """Request ids, one access log line per request (path only) and the latency histogram.

    The route template (``/api/posts/{id:int}``), not the concrete path, labels the
    metric, so ids never become label values.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else secrets.token_hex(8)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            if template != "/metrics":
                metrics.HTTP_REQUESTS.labels(template, scope["method"], f"{status // 100}xx").observe(elapsed)
            access_log.info("%s %s %d %.1fms", scope["method"], scope["path"], status, elapsed * 1000)
            request_id.reset(token)
