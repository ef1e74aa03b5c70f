"""The Python floor for ``bench/fanout.py``: a minimal raw ``websockets`` server that broadcasts from Redis.

It does the least a Python server can do for the same job: accept websocket clients
(no authentication, no subscriptions, no access rules, no recovery), read the events
Homeroom's broker publishes on one Redis pub/sub channel, and hand each one to every
client with ``websockets.broadcast()`` — one encoding, no awaiting per client.

    python bench/floor.py --port 9001 --redis redis://127.0.0.1:6379/0 --key homeroom:ev:class:1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

import websockets
from redis.asyncio import Redis
from websockets.asyncio.server import ServerConnection, serve


async def run(port: int, redis_url: str, key: str) -> None:
    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub()
    await pubsub.subscribe(key)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def relay() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                websockets.broadcast(clients, message["data"].decode())

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=25, max_queue=4):
        print("floor ready", flush=True)
        task = asyncio.create_task(relay())
        await stop.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await pubsub.aclose()
    await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--key", required=True, help="the Redis pub/sub channel to broadcast")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(run(args.port, args.redis, args.key))


if __name__ == "__main__":
    main()
