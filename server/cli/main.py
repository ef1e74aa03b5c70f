"""The commands behind ``python -m server``: each a small function over settings."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from server.db.engine import Database
from server.db.migrate import upgrade
from server.db.models import School
from server.errors import ApiError
from server.observability import logs
from server.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from server.cli.demo import DemoLogins

Command = Callable[[argparse.Namespace, Settings], int]
_COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(func: Command) -> Command:
        _COMMANDS[name] = func
        return func

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server", description="Homeroom home–school server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    sub.add_parser("migrate", help="bring the database schema up to date")
    create = sub.add_parser("create-school", help="create a school and its first admin")
    create.add_argument("--name", required=True)
    create.add_argument("--admin-email", required=True)
    create.add_argument("--admin-password", required=True)
    create.add_argument("--admin-name", default="Head teacher")
    create.add_argument("--timezone", default="Europe/London")
    demo = sub.add_parser("demo", help="start a fresh demo school and print its logins")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--no-serve", action="store_true", help="seed and print, then exit")
    demo.add_argument("--keep", action="store_true", help="keep an existing demo database")
    translation = sub.add_parser("translation", help="list, install or fetch translation packages")
    tsub = translation.add_subparsers(dest="translation_command", required=True)
    tsub.add_parser("list", help="language pairs the server can translate, by engine")
    install = tsub.add_parser("install", help="install an .argosmodel file (offline)")
    install.add_argument("file")
    fetch = tsub.add_parser(
        "fetch", help="download and install argos packages en↔LANG from HOMEROOM_ARGOS_INDEX_URL (online)"
    )
    fetch.add_argument("languages", nargs="+", metavar="LANG")
    sub.add_parser("worker", help="translation worker for the scaled-out shape")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"homeroom: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings)
    name = args.command if args.command != "translation" else f"translation-{args.translation_command}"
    handler = _COMMANDS.get(name)
    if handler is None:
        print(f"homeroom: '{name}' is not available in this build", file=sys.stderr)
        return 2
    return handler(args, settings)


def serve_app(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Run uvicorn on the app factory.

    Websockets: :class:`server.channels.uvicorn_ws.HomeroomWSProtocol` — uvicorn's wsproto
    protocol (which pauses writing to a stalled reader, unlike websockets-sansio) plus a
    direct outlet for frames encoded once per render variant, bounded per connection.
    Per-message deflate stays off: ~64 KiB per connection against ~14 KiB, and it would
    make frames differ per connection. Protocol pings every ``ws_ping_seconds`` find dead
    peers. The module docstring of ``server/channels/uvicorn_ws.py`` gives the measurements.

    SIGTERM is a graceful stop: uvicorn stops accepting, closes websockets with 1012 (clients
    reconnect elsewhere and resume with ``since``) and finishes in-flight requests; it then
    re-raises the signal, which the no-op handler below turns into a clean exit status 0.
    """
    signal.signal(signal.SIGTERM, lambda *_: None)
    uvicorn.run(
        "server.asgi:build", factory=True, host=host, port=port, workers=workers, **uvicorn_options(settings)
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn options ``serve`` runs with (also used by ``bench/idle_memory.py``)."""
    return {
        "ws": "server.channels.uvicorn_ws:HomeroomWSProtocol",
        "ws_per_message_deflate": False,
        "ws_ping_interval": settings.ws_ping_seconds,
        "ws_ping_timeout": settings.ws_ping_seconds,
        "ws_max_size": 64 * 1024,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "log_level": "info",
        "log_config": None,
        "timeout_graceful_shutdown": 10,
    }


@command("serve")
def serve(args: argparse.Namespace, settings: Settings) -> int:
    if args.workers > 1 and settings.broker_url.startswith("memory://"):
        message = (
            "the memory:// broker serves one process; set HOMEROOM_BROKER_URL=redis://… for --workers > 1"
        )
        print(f"homeroom: {message}", file=sys.stderr)
        return 2
    serve_app(settings, args.host, args.port, args.workers)
    return 0


@command("migrate")
def migrate(args: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.database_url)
    print("database is up to date")
    return 0


@command("create-school")
def create_school_command(args: argparse.Namespace, settings: Settings) -> int:
    from server.school.provisioning import create_school

    upgrade(settings.database_url)

    async def run() -> int:
        db = Database(settings.database_url, connections=settings.database_connections)
        try:
            async with db.session() as session:
                school, admin = await create_school(
                    session,
                    name=args.name,
                    admin_name=args.admin_name,
                    admin_email=args.admin_email,
                    admin_password=args.admin_password,
                    timezone=args.timezone,
                )
                await session.commit()
                print(f"created school {school.id} ({school.name}); admin {admin.email}")
                return 0
        except ApiError as exc:
            print(f"homeroom: {exc.message}", file=sys.stderr)
            return 1
        finally:
            await db.dispose()

    return asyncio.run(run())


@command("demo")
def demo(args: argparse.Namespace, settings: Settings) -> int:
    """Seed a fresh demo school (an SQLite demo database is made anew), print its logins, serve it."""
    from server.cli.demo import seed_demo

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    upgrade(settings.database_url)

    async def run() -> DemoLogins | None:
        db = Database(settings.database_url, connections=settings.database_connections)
        try:
            async with db.session() as session:
                if await session.scalar(select(func.count()).select_from(School)):
                    return None  # not an empty database: never mix the demo into real data
                logins = await seed_demo(session, media_dir=settings.media_dir)
                await session.commit()
                return logins
        finally:
            await db.dispose()

    logins = asyncio.run(run())
    saved = settings.data_dir / "demo-logins.txt"
    if logins is not None:
        listing = demo_listing(logins)
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(listing)
    elif args.keep and saved.exists():
        listing = saved.read_text()
    else:
        print(
            "homeroom: this database already holds a school; the demo needs an empty database "
            "(or --keep to serve an earlier demo as it is)",
            file=sys.stderr,
        )
        return 1
    shown_host = "localhost" if args.host in ("0.0.0.0", "::", "") else args.host
    print()
    print("=" * 72)
    print(f" Homeroom demo school is ready: http://{shown_host}:{args.port}/")
    print(listing, end="")
    print("=" * 72, flush=True)
    if args.no_serve:
        return 0
    serve_app(settings, args.host, args.port)
    return 0


def demo_listing(logins: DemoLogins) -> str:
    """The demo's logins as printed, one per line."""
    lines = [f" Every demo account's password: {logins.password}"]
    lines += [f"   {label:<44} {email}" for label, email in logins.staff]
    lines += [f"   {label:<44} {email}" for label, email in logins.parents]
    lines += [
        f"   {label:<44} class code {class_code}, pupil code {pupil_code}"
        for label, class_code, pupil_code in logins.pupils
    ]
    return "\n".join(lines) + "\n"


@command("translation-list")
def translation_list(args: argparse.Namespace, settings: Settings) -> int:
    from server.cli.translation import list_pairs

    return list_pairs(settings)


@command("translation-install")
def translation_install(args: argparse.Namespace, settings: Settings) -> int:
    from server.cli.translation import install

    return install(settings, args.file)


@command("translation-fetch")
def translation_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from server.cli.translation import fetch

    return fetch(settings, args.languages)


@command("worker")
def translation_worker(args: argparse.Namespace, settings: Settings) -> int:
    from server.cli.translation import worker

    return worker(settings)
