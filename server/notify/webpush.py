"""Sending one Web Push message: RFC 8291 ``aes128gcm`` encryption, RFC 8030 delivery.

Encryption is ``http_ece`` (with a fresh ECDH key per message, as RFC 8291 requires);
requests go out through ``aiohttp`` (measured: httpx's connection pool spent ~10 ms of CPU
per push with hundreds in flight, aiohttp well under one; see bench/README.md);
the ``Authorization`` header comes from :class:`server.notify.vapid.VapidKey`. The
push service's answer is reduced to an :class:`Outcome`: ``sent``, ``gone`` (404/410:
the subscription is dead and is deleted), ``retry`` (429, 5xx, a network failure;
``Retry-After`` honoured) or ``failed`` (any other refusal: never retried).
"""

from __future__ import annotations

import email.utils
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import aiohttp
import http_ece
from cryptography.hazmat.primitives.asymmetric import ec

from server.notify.hosts import audience_of
from server.notify.vapid import VapidKey, b64url_decode

Result = Literal["sent", "gone", "retry", "failed"]
URGENCIES = ("very-low", "low", "normal", "high")


@dataclass(frozen=True)
class Outcome:
    """What became of one push: the result, the HTTP status (0: no answer), a retry hint."""

    result: Result
    status: int = 0
    retry_after: float | None = None


@dataclass(frozen=True)
class Device:
    """Where and for whom to encrypt: the subscription's endpoint and keys (base64url)."""

    endpoint: str
    p256dh: str
    auth: str


def encrypt(payload: bytes, device: Device) -> bytes:
    """The payload encrypted for this device (RFC 8291, ``aes128gcm``)."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    encrypted: bytes = http_ece.encrypt(
        payload,
        salt=os.urandom(16),
        private_key=ephemeral,
        dh=b64url_decode(device.p256dh),
        auth_secret=b64url_decode(device.auth),
        version="aes128gcm",
    )
    return encrypted


def _retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def classify(status: int, retry_after: str | None = None, now: datetime | None = None) -> Outcome:
    """Reduce a push service's HTTP status to an outcome (pure)."""
    if 200 <= status < 300:
        return Outcome("sent", status)
    if status in (404, 410):
        return Outcome("gone", status)
    if status == 429 or status >= 500:
        return Outcome("retry", status, _retry_after(retry_after, now or datetime.now(UTC)))
    return Outcome("failed", status)


async def send(
    client: aiohttp.ClientSession,
    vapid: VapidKey,
    device: Device,
    payload: bytes,
    *,
    ttl: int,
    urgency: str = "normal",
    topic: str | None = None,
) -> Outcome:
    """Encrypt and POST one message to the device's push service."""
    headers = {
        "TTL": str(ttl),
        "Urgency": urgency,
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "Authorization": vapid.authorization(audience_of(device.endpoint)),
    }
    if topic:
        headers["Topic"] = topic
    body = encrypt(payload, device)
    try:
        async with client.post(device.endpoint, data=body, headers=headers, allow_redirects=False) as reply:
            await reply.read()
            return classify(reply.status, reply.headers.get("Retry-After"))
    except (aiohttp.ClientError, TimeoutError):
        return Outcome("retry")
