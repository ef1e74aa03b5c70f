"""Which push endpoints may be contacted: the ``HOMEROOM_PUSH_HOSTS`` allow-list, sans-I/O.

A push endpoint is a URL a user hands us; without this check the server could be made to
send requests anywhere (request forgery). An entry is a host name (``fcm.googleapis.com``)
or ``*.`` and a domain (``*.notify.windows.com``: any host below it, not the domain itself).
Endpoints must be ``https``; ``http`` only in development, for local test services.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_ENDPOINT = 2000


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``host`` matches an entry of the allow-list (case-insensitive)."""
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower().rstrip(".")
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and len(host) > len(entry) - 1:
                return True
        elif host == entry:
            return True
    return False


def endpoint_problem(endpoint: str, allowed: tuple[str, ...], *, development: bool) -> str | None:
    """Why an endpoint may not be used (a short reason code), or None when it may."""
    if not endpoint or len(endpoint) > MAX_ENDPOINT:
        return "length"
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return "malformed"
    schemes = {"https", "http"} if development else {"https"}
    if parts.scheme not in schemes:
        return "scheme"
    if parts.username is not None or parts.password is not None or not parts.hostname:
        return "malformed"
    if port is not None and not development and port != 443:
        return "port"
    if not host_allowed(parts.hostname, allowed):
        return "host_not_allowed"
    return None


def audience_of(endpoint: str) -> str:
    """The VAPID ``aud`` claim for an endpoint: its origin (RFC 8292 section 2)."""
    parts = urlsplit(endpoint)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return f"{parts.scheme}://{parts.hostname}{port}"
