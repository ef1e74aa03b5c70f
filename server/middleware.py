"""ASGI middleware: request body limits and security headers."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import ApiError


class BodyTooLarge(Exception):
    """The request body went past its limit while streaming."""


class BodyLimit:
    """Refuse bodies over the limit with 413 ``too_large``, by header or while streaming.

    Uploads (``/api/media``) get the larger upload limit; everything else the JSON limit.
    """

    def __init__(self, app: ASGIApp, *, default: int, uploads: int, upload_paths: tuple[str, ...]) -> None:
        self.app = app
        self.default = default
        self.uploads = uploads
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.uploads if path.startswith(self.upload_paths) else self.default
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reply(send, ApiError(400, "bad_request", "Bad Content-Length header."))
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
            b"default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
            b"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
        ),
    ),
]


class SecurityHeaders:
    """Headers that keep pages and media from being framed, sniffed or leaked."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message.get("headers", []), *SECURITY_HEADERS],
                }
            await send(message)

        await self.app(scope, receive, with_headers)
