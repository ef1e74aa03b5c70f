"""What an idle, signed-in, subscribed live connection keeps in the server's memory, and where.

    .venv/bin/python bench/idle_memory.py [--clients 1000] [--top 25]

Runs the server in this process (uvicorn with ``serve``'s options and websocket protocol,
SQLite, the ``memory://`` broker) with ``tracemalloc`` on; a client process opens N
parent connections, each subscribed to its class channel, and holds them open. Prints the
Python memory per connection (tracemalloc, after minus before) and the source lines that
allocated the most of what stayed. The process's RSS is not a figure here (tracemalloc's own
bookkeeping inflates it); ``bench/fanout.py`` measures RSS per connection from outside.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def clients_main(url: str, spec_path: str) -> None:
    """The client process: open every connection, subscribe it, say "ready", hold until stdin closes."""
    from websockets.asyncio.client import connect

    spec = json.loads(await asyncio.to_thread(Path(spec_path).read_text))
    conns = []

    async def open_one(token: str) -> object:
        ws = await connect(url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=60)
        await ws.send(json.dumps({"op": "sub", "channel": spec["channel"]}))
        while json.loads(await ws.recv())["op"] != "subbed":
            pass
        return ws

    tokens = spec["tokens"]
    for start in range(0, len(tokens), 50):
        conns += await asyncio.gather(*(open_one(token) for token in tokens[start : start + 50]))
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)  # type: ignore[attr-defined]


def _python_bytes() -> int:
    gc.collect()
    return sum(stat.size for stat in tracemalloc.take_snapshot().statistics("filename"))


async def main(args: argparse.Namespace) -> None:
    import uvicorn

    from bench.fanout import seed
    from server.app import create_app
    from server.cli.main import uvicorn_options
    from server.db.migrate import upgrade
    from server.settings import load_settings
    from tests.live.servers import free_port, server_env

    tmp = Path(tempfile.mkdtemp(prefix="homeroom-idle-"))
    database_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    await asyncio.to_thread(upgrade, database_url)
    school = await seed(database_url, args.clients, 0)
    env = server_env(
        database_url=database_url,
        broker_url="memory://",
        data_dir=tmp,
        extra={
            "HOMEROOM_WS_IDLE_SECONDS": "600",
            "HOMEROOM_WS_CONNECTIONS_PER_SESSION": "1000000",
            "HOMEROOM_WS_CONNECTIONS_PER_USER": "1000000",
        },
    )
    settings = load_settings(env)
    options = uvicorn_options(settings) | {"log_level": "warning"}
    options.pop("timeout_graceful_shutdown")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, **options))
    serving = asyncio.create_task(server.serve())
    for _ in range(600):  # up to 30 s
        if server.started:
            break
        await asyncio.sleep(0.05)

    spec = tmp / "clients.json"
    spec.write_text(json.dumps({"tokens": school.parent_tokens, "channel": f"class:{school.class_id}"}))
    before = _python_bytes()
    snapshot_before = tracemalloc.take_snapshot()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--clients-of",
        f"ws://127.0.0.1:{port}/ws",
        str(spec),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdin is not None
    line = await asyncio.wait_for(child.stdout.readline(), 600)
    if line.strip() != b"ready":
        raise SystemExit(f"clients failed: {line!r}")
    after = _python_bytes()
    snapshot_after = tracemalloc.take_snapshot()
    n = args.clients
    print(f"{n} idle subscribed connections")
    print(f"python memory per connection (tracemalloc): {(after - before) / n / 1024:.1f} KiB")
    print(f"\nwhere it is (top {args.top} lines, bytes per connection):")
    for stat in snapshot_after.compare_to(snapshot_before, "lineno")[: args.top]:
        frame = stat.traceback[0]
        name = frame.filename.removeprefix(f"{ROOT}/").split("site-packages/")[-1]
        print(f"  {stat.size_diff / n:8.0f}  {stat.count_diff / n:5.1f} blocks  {name}:{frame.lineno}")
    child.stdin.close()
    await child.wait()
    server.should_exit = True
    await serving


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--clients-of", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.clients_of:
        asyncio.run(clients_main(*arguments.clients_of))
    else:
        tracemalloc.start()
        asyncio.run(main(arguments))
