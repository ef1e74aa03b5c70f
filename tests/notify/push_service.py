"""A local Web Push service for tests and the benchmark: a real HTTP server in-process.

Each fake device has a real P-256 key pair and auth secret, as a browser's would. The
service checks every request as a push service does (RFC 8292: the VAPID JWT is ES256,
signed by the ``k`` key, its ``aud`` is this service's origin and its ``exp`` is in the
future and at most 24 hours away) and decrypts the body with the device's private key
(RFC 8291 ``aes128gcm``), keeping the payload. Tests script answers per device
(``[429, 500]``: the first two requests get those, later ones 201).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import http_ece
import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class FakeDevice:
    """A browser's push subscription: its endpoint, and the keys only the browser holds."""

    name: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict[str, Any]:
        """The JSON a browser's ``PushSubscription.toJSON()`` gives."""
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64(public), "auth": b64(self.auth)},
        }


@dataclass
class Received:
    """One push the service accepted or refused: the decrypted payload and the headers."""

    device: str
    status: int
    payload: dict[str, Any] | None
    headers: dict[str, str]


def verify_vapid(authorization: str, audience: str, expected_key: str | None) -> str | None:
    """Why a VAPID ``Authorization`` header is not acceptable, or None when it is."""
    if not authorization.startswith("vapid "):
        return "not vapid"
    params = dict(part.strip().split("=", 1) for part in authorization[6:].split(","))
    token, key = params.get("t", ""), params.get("k", "")
    if expected_key is not None and key != expected_key:
        return "unexpected key"
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        header = json.loads(unb64(header_b64))
        claims = json.loads(unb64(claims_b64))
        signature = unb64(signature_b64)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
    except ValueError:
        return "malformed"
    if header.get("alg") != "ES256" or len(signature) != 64:
        return "not ES256"
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "bad signature"
    if claims.get("aud") != audience:
        return f"aud {claims.get('aud')!r} is not {audience!r}"
    exp = claims.get("exp")
    if not isinstance(exp, int) or not time.time() < exp <= time.time() + 24 * 3600:
        return "exp out of range"
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
        return "no sub"
    return None


class PushService:
    """The server: ``POST /push/{device}``; start with ``async with PushService() as service``."""

    def __init__(self, expected_key: str | None = None) -> None:
        self.expected_key = expected_key
        self.devices: dict[str, FakeDevice] = {}
        self.answers: dict[str, list[int]] = defaultdict(list)
        self.received: list[Received] = []
        self.errors: list[str] = []
        self.arrived = asyncio.Event()
        self.base = ""
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.app = Starlette(
            routes=[
                Route("/push/{device}", self._push, methods=["POST"]),
                Route("/stats", self._stats, methods=["GET"]),
            ]
        )
        self.port = 0

    async def __aenter__(self) -> PushService:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", backlog=4096
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the push service did not start")
            await asyncio.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task

    def device(self, name: str) -> FakeDevice:
        """A new fake browser subscribed to this service."""
        found = FakeDevice(name, f"{self.base}/push/{name}")
        self.devices[name] = found
        return found

    def payloads(self, name: str) -> list[dict[str, Any]]:
        """The payloads a device accepted (status 201), in order."""
        return [r.payload for r in self.received if r.device == name and r.status == 201 and r.payload]

    def attempts(self, name: str) -> int:
        return sum(1 for r in self.received if r.device == name)

    async def _stats(self, request: Request) -> Response:
        """Counts for a benchmark in another process: accepted pushes per device, refusals, errors."""
        per_device: dict[str, int] = defaultdict(int)
        for received in self.received:
            if received.status == 201:
                per_device[received.device] += 1
        body = {
            "accepted": sum(per_device.values()),
            "received": len(self.received),
            "devices": len(per_device),
            "repeated": sum(1 for n in per_device.values() if n > 1),
            "errors": self.errors[:5],
            "error_count": len(self.errors),
            "first_at": self.first_at,
            "last_at": self.last_at,
        }
        return Response(json.dumps(body), media_type="application/json")

    async def _push(self, request: Request) -> Response:
        name = request.path_params["device"]
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        device = self.devices.get(name)
        if device is None:
            self.received.append(Received(name, 404, None, headers))
            return Response(status_code=404)
        problem = verify_vapid(headers.get("authorization", ""), self.base, self.expected_key)
        for header in ("ttl", "urgency", "topic"):
            if header not in headers:
                problem = problem or f"no {header} header"
        if headers.get("content-encoding") != "aes128gcm":
            problem = problem or "not aes128gcm"
        payload: dict[str, Any] | None = None
        if problem is None:
            try:
                plain = http_ece.decrypt(
                    body, private_key=device.private_key, auth_secret=device.auth, version="aes128gcm"
                )
                payload = json.loads(plain)
            except Exception as exc:  # a payload that does not decrypt is the server's bug
                problem = f"decrypt: {exc!r}"
        if problem is not None:
            self.errors.append(f"{name}: {problem}")
            self.received.append(Received(name, 400, None, headers))
            return Response(status_code=400)
        status = self.answers[name].pop(0) if self.answers[name] else 201
        self.received.append(Received(name, status, payload, headers))
        self.arrived.set()
        if status == 201:
            self.first_at = self.first_at or time.time()
            self.last_at = time.time()
        extra = {"Retry-After": "30"} if status == 429 else {}
        return Response(status_code=status, headers=extra)
