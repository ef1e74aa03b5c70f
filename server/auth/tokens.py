"""Unguessable tokens and codes, and the one-way hashes we store instead of them."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# No 0/O, 1/I/L: codes are read aloud and typed by parents and children.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_token() -> str:
    """A 256-bit URL-safe session token."""
    return secrets.token_urlsafe(32)


def new_code(length: int) -> str:
    """A random code from an alphabet without look-alike characters."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(code: str) -> str:
    """Codes are case-insensitive and may be typed with spaces or dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def digest(value: str) -> str:
    """SHA-256 hex of a token or code: what the database keeps."""
    return hashlib.sha256(value.encode()).hexdigest()


def csrf_token(secret_key: str, session_token: str) -> str:
    """The CSRF token bound to one session (double-submit, derived, never stored)."""
    mac = hmac.new(secret_key.encode(), b"csrf:" + session_token.encode(), hashlib.sha256)
    return mac.hexdigest()


def csrf_matches(secret_key: str, session_token: str, presented: str | None) -> bool:
    """Constant-time check of a presented CSRF token."""
    if not presented:
        return False
    # Bytes, not str: compare_digest refuses non-ASCII str, and a header may carry any byte.
    expected = csrf_token(secret_key, session_token).encode()
    return hmac.compare_digest(expected, presented.encode("utf-8", "surrogateescape"))
