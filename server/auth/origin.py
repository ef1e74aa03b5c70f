"""Whose page is asking: the ``Origin`` rule shared by unsafe HTTP requests and ``/ws``.

A browser names the page's origin on every unsafe request and websocket handshake. The
server's own origin (from ``Host`` and the scheme) and ``HOMEROOM_ALLOWED_ORIGINS`` are
allowed; anything else, ``null`` included, is another site. No ``Origin`` at all is not
a browser page (scripts, apps with bearer tokens) and is allowed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_key(origin: str) -> tuple[str, str, int] | None:
    parts = urlsplit(origin.strip().lower())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return None
    return parts.scheme, parts.hostname, port


def origin_allowed(origin: str | None, host: str | None, scheme: str, allowed: tuple[str, ...]) -> bool:
    """Same origin as the server, or listed in ``allowed_origins``; no Origin (not a browser) is allowed."""
    if origin is None:
        return True
    key = _origin_key(origin)
    if key is None:
        return False
    if host:
        http_scheme = "https" if scheme in ("wss", "https") else "http"
        if key == _origin_key(f"{http_scheme}://{host}"):
            return True
    return any(key == _origin_key(item) for item in allowed)
