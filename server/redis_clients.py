"""Redis clients by broker URL: one server (``redis://``) or a Redis Cluster (``redis+cluster://``).

A cluster URL names one or more seed nodes, separated by commas; the client learns the
rest of the cluster (and every failover) from them::

    redis+cluster://10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379
    rediss+cluster://:secret@redis-a.internal:6380,redis-b.internal:6380   (TLS, a password)

Credentials (``user:password@``) come once, before the first node, and apply to every
node; there is no database number (a cluster has only database 0) and no query options.
A port left out is 6379. :func:`connect` gives the client for either kind of URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster

from server.settings import REDIS_CLUSTER_SCHEMES as CLUSTER_SCHEMES
from server.settings import uses_redis_cluster

RedisClient = Redis | RedisCluster
"""What ``services.redis`` holds: a client of one server or of a cluster (the same commands)."""


@dataclass(frozen=True)
class ClusterAddress:
    """A parsed ``redis+cluster://`` URL."""

    seeds: tuple[tuple[str, int], ...]
    username: str | None = None
    password: str | None = None
    tls: bool = False


def parse_cluster_url(url: str) -> ClusterAddress:
    """The seed nodes and credentials of a cluster URL; ValueError saying what is wrong."""
    scheme = next((s for s in CLUSTER_SCHEMES if url.startswith(s)), None)
    if scheme is None:
        raise ValueError("a cluster URL starts with redis+cluster:// or rediss+cluster://")
    rest = url[len(scheme) :]
    if "?" in rest or "#" in rest:
        raise ValueError("a cluster URL takes no options (?…)")
    rest, _, path = rest.partition("/")
    if path not in ("", "0"):
        raise ValueError("a Redis Cluster has only database 0: leave the /database out")
    username = password = None
    if "@" in rest:
        credentials, _, rest = rest.rpartition("@")
        user, colon, secret = credentials.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    seeds = tuple(_host_port(part.strip()) for part in rest.split(","))
    return ClusterAddress(seeds, username, password, scheme.startswith("rediss"))


def _host_port(part: str) -> tuple[str, int]:
    """``host:port``, ``host`` (port 6379) or ``[ipv6]:port``."""
    host, port = part, "6379"
    if part.startswith("["):
        host, _, tail = part[1:].partition("]")
        if tail:
            if not tail.startswith(":"):
                raise ValueError(f"not a host:port in the cluster URL: {part!r}")
            port = tail[1:]
    elif ":" in part:
        host, _, port = part.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not a host:port in the cluster URL: {part!r}")
    return host, int(port)


def cluster_client(url: str, max_connections: int = 200) -> RedisCluster:
    """A cluster client from seed nodes; it follows slot moves and failovers by itself.

    ``max_connections`` is per node; past it a command fails (redis-py's cluster pool does
    not wait), which callers see as the broker being unavailable for that call.
    """
    address = parse_cluster_url(url)
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in address.seeds],
        username=address.username,
        password=address.password,
        ssl=address.tls,
        max_connections=max_connections,
    )


def pooled_client(url: str, max_connections: int = 50) -> Redis:
    """A client of one Redis server whose callers wait for a free connection instead of failing.

    redis-py's default pool raises ``MaxConnectionsError`` past 100 connections in use,
    which a burst of subscriptions (or presence updates) can reach at once.
    """
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=10)
    return Redis(connection_pool=pool)


def shared_client(url: str) -> RedisClient:
    """A client many coroutines share: a waiting pool of one server, or the cluster client."""
    return cluster_client(url) if uses_redis_cluster(url) else pooled_client(url)


def connect(url: str) -> RedisClient:
    """The client for a ``redis://`` (one server) or ``redis+cluster://`` URL; connects lazily."""
    return cluster_client(url) if uses_redis_cluster(url) else Redis.from_url(url)
