"""The server's public address for links in emails (never taken from a request in production).

``HOMEROOM_PUBLIC_URL`` when set; else the first of ``HOMEROOM_ALLOWED_ORIGINS``; in
development only, the address the request came to. In production without either, emails
with links are not sent (a ``Host`` header must never choose where a reset link points).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from server.settings import Settings


def public_base(settings: Settings, request: HTTPConnection | None = None) -> str | None:
    """``https://school.example`` (no trailing slash), or None when unknown."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if settings.allowed_origins:
        return settings.allowed_origins[0].rstrip("/")
    if request is not None and not settings.production:
        return f"{request.url.scheme}://{request.url.netloc}"
    return None
