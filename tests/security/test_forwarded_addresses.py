"""Finding 9: a client cannot choose the address the rate limits count by forging X-Forwarded-For.

A real ``serve`` process runs with the shipped deployment's trust setting (read from
docker-compose.yml), where the test is just another peer and not the proxy: forged
headers must not move it to a fresh per-address login budget. A second process that
does trust the test's address (as the apps trust the proxy) counts each forwarded
client on its own, which is what the proxy's header is for.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.live.servers import LiveServer, live_database, running_servers

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
LOGINS_PER_MINUTE = 3


def deployed_trust() -> str:
    """What the shipped compose file sets HOMEROOM_FORWARDED_ALLOW_IPS to for the apps."""
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return str(spec["services"]["app1"]["environment"]["HOMEROOM_FORWARDED_ALLOW_IPS"])


@pytest.fixture(scope="module")
async def servers(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, LiveServer]]:
    """``deployed``: trusts what compose trusts; ``behind_proxy``: trusts this test's address."""
    tmp = tmp_path_factory.mktemp("forwarded")
    limits = {"HOMEROOM_LOGIN_ATTEMPTS_PER_MINUTE": str(LOGINS_PER_MINUTE)}
    async with (
        live_database("sqlite", tmp) as url,
        running_servers(
            1,
            database_url=url,
            broker_url="memory://",
            data_dir=tmp / "deployed",
            extra={**limits, "HOMEROOM_FORWARDED_ALLOW_IPS": deployed_trust()},
        ) as deployed,
        running_servers(
            1,
            database_url=url,
            broker_url="memory://",
            data_dir=tmp / "proxied",
            extra={**limits, "HOMEROOM_FORWARDED_ALLOW_IPS": "127.0.0.1"},
        ) as proxied,
    ):
        yield {"deployed": deployed[0], "behind_proxy": proxied[0]}


async def failed_login(client: httpx.AsyncClient, forwarded_for: str, email: str) -> int:
    """One wrong password for ``email`` (wrong passwords are counted per account and address)."""
    response = await client.post(
        "/api/auth/login",
        json={"email": email, "password": "wrong"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def forged() -> str:
    return f"203.0.113.{secrets.randbelow(250) + 1}"


def test_the_deployment_trusts_forwarded_addresses_from_named_proxies_only() -> None:
    trust = deployed_trust()
    assert trust.strip() not in ("", "*")
    assert "*" not in trust


async def test_forged_forwarded_for_does_not_escape_the_per_address_login_limit(
    servers: dict[str, LiveServer],
) -> None:
    email = f"owner-{secrets.token_hex(4)}@example.org"
    async with httpx.AsyncClient(base_url=servers["deployed"].http_url, timeout=30) as client:
        statuses = [await failed_login(client, forged(), email) for _ in range(LOGINS_PER_MINUTE + 2)]
    assert statuses[:LOGINS_PER_MINUTE] == [401] * LOGINS_PER_MINUTE
    assert statuses[LOGINS_PER_MINUTE:] == [429, 429], "a new forged address per request got a new budget"


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(
    servers: dict[str, LiveServer],
) -> None:
    email = f"owner-{secrets.token_hex(4)}@example.org"
    async with httpx.AsyncClient(base_url=servers["behind_proxy"].http_url, timeout=30) as client:
        parent, neighbour = "198.51.100.7", "198.51.100.8"
        first = [await failed_login(client, parent, email) for _ in range(LOGINS_PER_MINUTE + 1)]
        assert first == [401] * LOGINS_PER_MINUTE + [429]
        assert await failed_login(client, neighbour, email) == 401
