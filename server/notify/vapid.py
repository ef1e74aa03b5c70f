"""The server's VAPID key (RFC 8292): from settings, or generated once and kept in the data folder.

Like the development secret key, a generated key is written to a private temporary file
and linked into place (mode 0600), so processes starting together agree on one key.
Browsers tie each subscription to the key's public half: changing it silently orphans
every subscription, so keep ``<data_dir>/vapid_private_key.pem`` (or set
``HOMEROOM_VAPID_PRIVATE_KEY``) across deployments. ``Authorization`` headers are signed
once per push service origin and reused until an hour before they expire.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02

from server.settings import Settings

KEY_FILE = "vapid_private_key.pem"
TOKEN_SECONDS = 12 * 3600  # RFC 8292: no more than 24 hours


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _from_setting(value: str) -> Vapid02:
    value = value.strip()
    if value.startswith("-----BEGIN"):
        return Vapid02.from_pem(value.encode("ascii"))
    return Vapid02.from_raw(value.encode("ascii"))


def _persisted(data_dir: Path) -> Vapid02:
    path = data_dir / KEY_FILE
    if path.exists() and path.read_bytes().strip():
        return Vapid02.from_pem(path.read_bytes())
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Vapid02()
    key.generate_keys()
    temporary = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key.private_pem())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return Vapid02.from_pem(path.read_bytes())  # another process made it first
    finally:
        temporary.unlink(missing_ok=True)
    return key


class VapidKey:
    """Signs VAPID ``Authorization`` headers and gives the public key to browsers."""

    def __init__(self, settings: Settings) -> None:
        self.subject = settings.vapid_subject
        self._key = (
            _from_setting(settings.vapid_private_key)
            if settings.vapid_private_key
            else _persisted(settings.data_dir)
        )
        public = self._key.public_key
        assert public is not None
        self.public_key = b64url(
            public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        )
        self._signed: dict[str, tuple[float, str]] = {}

    def authorization(self, audience: str, now: float | None = None) -> str:
        """``vapid t=<JWT>, k=<public key>`` for a push service origin, cached per origin."""
        now = time.time() if now is None else now
        cached = self._signed.get(audience)
        if cached is not None and cached[0] - 3600 > now:
            return cached[1]
        expires = int(now) + TOKEN_SECONDS
        headers = self._key.sign({"aud": audience, "exp": expires, "sub": self.subject})
        value = str(headers["Authorization"])
        self._signed[audience] = (expires, value)
        return value
