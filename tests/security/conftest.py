"""Fixtures of the security tests: clients at chosen addresses, and the two-process Redis site.

``redis_site`` (from tests/live) runs two server processes on PostgreSQL sharing Redis, for
the live-access tests; their checks live in ``live_access.py``.

Rate limits and failure budgets are counted per client address; each client here comes
from a fresh address unless the test names one, so tests never share a budget.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette

from tests.live.conftest import redis_site

__all__ = ["redis_site"]

_addresses = itertools.count(1)

ClientAt = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def fresh_address() -> str:
    """An address no other test has used (172.16.0.0/12)."""
    n = next(_addresses)
    return f"172.{16 + n // 65536 % 16}.{n // 256 % 256}.{n % 256}"


def client_for(
    app: Starlette, address: str | None = None, base_url: str = "http://testserver"
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """An HTTP client on ``app`` from ``address`` (a fresh one unless given)."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address or fresh_address(), 5000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client

    return opened()


@pytest.fixture
def client_at(app: Starlette) -> ClientAt:
    """``async with client_at("172.16.9.9") as client:`` — the session app, from that address."""

    def at(
        address: str | None = None, base_url: str = "http://testserver"
    ) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return client_for(app, address, base_url)

    return at
