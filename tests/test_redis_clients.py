"""Broker URLs naming a Redis Cluster: parsing, refusal of bad ones, and each factory's choice by scheme."""

from __future__ import annotations

import pytest
from redis.asyncio.cluster import RedisCluster

from server.auth.ratelimit import RedisRateLimiter, create_rate_limiter
from server.channels.broker import create_broker
from server.channels.broker_cluster import ClusterBroker
from server.channels.broker_redis import RedisBroker
from server.presence.base import create_presence
from server.presence.redis import RedisPresence
from server.redis_clients import ClusterAddress, connect, parse_cluster_url
from server.settings import Settings, SettingsError, load_settings, uses_redis, uses_redis_cluster


def test_a_cluster_url_names_its_seed_nodes_and_credentials() -> None:
    assert parse_cluster_url("redis+cluster://10.0.0.1:7000,10.0.0.2:7001,redis-c") == ClusterAddress(
        (("10.0.0.1", 7000), ("10.0.0.2", 7001), ("redis-c", 6379))
    )
    assert parse_cluster_url("rediss+cluster://app:s%40cret@[::1]:7000/0") == ClusterAddress(
        (("::1", 7000),), "app", "s@cret", tls=True
    )
    assert parse_cluster_url("redis+cluster://:pw@a:1").password == "pw"


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("redis+cluster://a:7000/3", "only database 0"),
        ("redis+cluster://a:7000?timeout=1", "no options"),
        ("redis+cluster://a:port", "host:port"),
        ("redis+cluster://a:7000,,b:7001", "host:port"),
        ("redis+cluster://a:70000", "host:port"),
        ("redis://a:7000", "redis\\+cluster://"),
    ],
)
def test_a_malformed_cluster_url_is_refused_saying_why(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_cluster_url(url)


def test_settings_accept_a_cluster_url_and_refuse_a_bad_one_at_start() -> None:
    settings = load_settings(
        {"HOMEROOM_BROKER_URL": "redis+cluster://a:7000,b:7000", "HOMEROOM_SECRET_KEY": "k" * 40}
    )
    assert uses_redis(settings.broker_url) and uses_redis_cluster(settings.broker_url)
    assert not uses_redis_cluster("redis://a:6379/0") and uses_redis("redis://a:6379/0")
    with pytest.raises(SettingsError, match="HOMEROOM_BROKER_URL: a Redis Cluster has only database 0"):
        load_settings({"HOMEROOM_BROKER_URL": "redis+cluster://a:7000/1", "HOMEROOM_SECRET_KEY": "k" * 40})


async def test_each_factory_chooses_the_cluster_parts_by_scheme() -> None:
    cluster = Settings(broker_url="redis+cluster://127.0.0.1:7000", secret_key="k" * 40)
    single = Settings(broker_url="redis://127.0.0.1:6379/0", secret_key="k" * 40)
    assert isinstance(create_broker(cluster), ClusterBroker)
    assert isinstance(create_broker(single), RedisBroker)
    assert isinstance(create_presence(cluster), RedisPresence)
    client = connect(cluster.broker_url)  # nothing connects until the first command
    try:
        assert isinstance(client, RedisCluster)
        assert isinstance(create_rate_limiter(cluster, client), RedisRateLimiter)
    finally:
        await client.aclose()
