"""Finding 10: ``/metrics`` answers scrapers that reach the app directly, or that hold the metrics token.

Whatever comes through the proxy carries a forwarding header the proxy sets; that is refused
with an API.md 404, as if the endpoint did not exist, unless it carries
``Authorization: Bearer $HOMEROOM_METRICS_TOKEN``. nginx does not route ``/metrics`` at all
(tests/ops/test_deploy_files.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.factories import error_of
from tests.live.servers import LiveServer, live_database, running_servers

pytestmark = pytest.mark.live

TOKEN = "metrics-token-for-the-scraper-0123456789"
THROUGH_PROXY = {"X-Forwarded-For": "198.51.100.7"}


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    """A real process that trusts this test's address as its proxy, with a metrics token."""
    tmp = tmp_path_factory.mktemp("metrics")
    async with (
        live_database("sqlite", tmp) as url,
        running_servers(
            1,
            database_url=url,
            broker_url="memory://",
            data_dir=tmp,
            extra={"HOMEROOM_FORWARDED_ALLOW_IPS": "127.0.0.1", "HOMEROOM_METRICS_TOKEN": TOKEN},
        ) as found,
    ):
        yield found[0]


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        yield client


async def test_a_direct_scrape_gets_the_metrics(http: httpx.AsyncClient) -> None:
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert "homeroom_ws_connections" in response.text


@pytest.mark.parametrize(
    "headers",
    [
        THROUGH_PROXY,
        {"Forwarded": "for=198.51.100.7"},
        {"X-Real-IP": "198.51.100.7"},
        {**THROUGH_PROXY, "Authorization": "Bearer not-the-token"},
        {**THROUGH_PROXY, "Authorization": f"Basic {TOKEN}"},
        {**THROUGH_PROXY, "Authorization": f"Bearer {TOKEN[:-1]}"},
    ],
    ids=["x-forwarded-for", "forwarded", "x-real-ip", "wrong-token", "not-bearer", "token-prefix"],
)
async def test_a_request_through_the_proxy_without_the_token_is_not_found(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await http.get("/metrics", headers=headers)
    error_of(response, 404, "not_found")
    assert "homeroom_" not in response.text


async def test_the_metrics_token_opens_metrics_through_the_proxy(http: httpx.AsyncClient) -> None:
    response = await http.get("/metrics", headers={**THROUGH_PROXY, "Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "homeroom_ws_connections" in response.text


def test_without_a_configured_token_no_bearer_value_opens_metrics_through_the_proxy() -> None:
    from server.api.meta import metrics_allowed

    for presented in ("Bearer ", "Bearer", "Bearer  ", "bearer x"):
        assert not metrics_allowed({"x-forwarded-for": "198.51.100.7", "authorization": presented}, "")
    assert metrics_allowed({}, "")
