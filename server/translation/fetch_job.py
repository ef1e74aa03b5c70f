"""The admin's "download these languages" job: one fetch at a time, its progress in a status file.

``POST /api/translation/fetch`` starts :func:`server.translation.fetch.fetch_packages`
in a thread of the process that got the request; ``GET /api/translation/fetch``
reads its progress. The status lives in ``<data_dir>/translation/fetch-status.json``
(written whole and renamed into place), so every process sharing the data folder
sees the same job and refuses to start a second one while it runs (a check, not a
lock: two admins pressing at the same instant on two processes could both start;
each install is atomic, so the worst outcome is a package downloaded twice). A job whose
process died stops updating the file; after :data:`STALE_SECONDS` without news it
is reported as ``interrupted`` and a new fetch may start. Stopping the server
cancels a download between two chunks; nothing half-downloaded is ever installed.

What it does not do: resume a download, or fetch in a process other than the one
asked (behind a load balancer the job runs where the POST landed; every process
then sees the packages, because they share the folder).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from server.services import Services
from server.translation.argos import ArgosEngine, translation_dir
from server.translation.fetch import FetchError, Step, fetch_packages, wanted_pairs

log = logging.getLogger("homeroom.translation")

STALE_SECONDS = 120.0
WRITE_EVERY = 0.5


class Busy(RuntimeError):
    """A fetch is already running (here or in another process sharing the data folder)."""


class Cancelled(Exception):
    """The server is stopping: the download ends between two chunks."""


def status_path(data_dir: Path) -> Path:
    return translation_dir(data_dir) / "fetch-status.json"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_status(data_dir: Path, *, now: float | None = None) -> dict[str, Any]:
    """The last fetch's status (``{"status": "idle"}`` when there never was one)."""
    path = status_path(data_dir)
    try:
        status = json.loads(path.read_text())
        changed = path.stat().st_mtime
    except (OSError, ValueError):
        return {"status": "idle", "steps": []}
    if not isinstance(status, dict):
        return {"status": "idle", "steps": []}
    if status.get("status") == "running" and (now or time.time()) - changed > STALE_SECONDS:
        status["status"] = "interrupted"
        status["message"] = "The fetch stopped reporting (its server process ended). Start it again."
    return status


def write_status(data_dir: Path, status: dict[str, Any]) -> None:
    """Replace the status file in one rename (readers never see half a file)."""
    path = status_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}")
    temporary.write_text(json.dumps({**status, "updated_at": _now()}))
    os.replace(temporary, path)


class FetchPart:
    """Runs at most one fetch job in this process; stopped with the app (cancelling the download)."""

    def __init__(self) -> None:
        self.services: Services | None = None
        self.task: asyncio.Task[None] | None = None
        self._cancel = threading.Event()
        self._lock = threading.Lock()

    async def start(self, services: Services) -> None:
        self.services = services
        services.translation_fetch = self

    async def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self._cancel.set()
            await asyncio.gather(self.task, return_exceptions=True)
        self.task = None

    @property
    def data_dir(self) -> Path:
        assert self.services is not None
        return Path(self.services.settings.data_dir)

    def status(self) -> dict[str, Any]:
        return read_status(self.data_dir)

    def begin(self, languages: list[str], actor_id: int | None = None) -> dict[str, Any]:
        """Start fetching ``languages``; ``Busy`` when a fetch is running; returns the first status."""
        if (self.task is not None and not self.task.done()) or self.status().get("status") == "running":
            raise Busy("a fetch is already running")
        status: dict[str, Any] = {
            "id": secrets.token_hex(6),
            "status": "running",
            "languages": languages,
            "started_at": _now(),
            "finished_at": None,
            "message": "Reading the package index…",
            "by": actor_id,
            "steps": [],
        }
        write_status(self.data_dir, status)
        self._cancel.clear()
        self.task = asyncio.create_task(self._run(status), name="translation-fetch")
        return status

    async def _run(self, status: dict[str, Any]) -> None:
        try:
            report = await asyncio.to_thread(self._fetch, status)
        except FetchError as exc:
            status.update(status="failed", message=str(exc))
        except Cancelled:
            status.update(
                status="interrupted", message="The server stopped during the fetch. Start it again."
            )
        except Exception as exc:  # reported, never raised into the event loop
            log.exception("translation fetch failed")
            status.update(status="failed", message=f"The fetch failed: {type(exc).__name__}")
        else:
            installed = sum(1 for step in report.steps if step.state == "installed")
            status.update(
                status="done" if report.ok else "failed",
                message=f"{installed} package(s) installed."
                if report.ok
                else "Some packages were not installed.",
            )
        status["finished_at"] = _now()
        write_status(self.data_dir, status)
        self._rescan()

    def _fetch(self, status: dict[str, Any]) -> Any:
        assert self.services is not None
        settings = self.services.settings
        last = 0.0

        def progress(step: Step) -> None:
            nonlocal last
            if self._cancel.is_set():
                raise Cancelled
            with self._lock:
                steps = [
                    s for s in status["steps"] if (s["source"], s["target"]) != (step.source, step.target)
                ]
                status["steps"] = [*steps, step.as_dict()]
                status["steps"].sort(key=lambda s: order.get((s["source"], s["target"]), 0))
                status["message"] = ""
                moment = time.monotonic()
                if step.state != "downloading" or moment - last >= WRITE_EVERY:
                    last = moment
                    write_status(self.data_dir, status)

        order = {pair: n for n, pair in enumerate(wanted_pairs(status["languages"]))}
        return fetch_packages(
            status["languages"],
            Path(settings.data_dir),
            settings.argos_index_url,
            bundled=[settings.argos_bundled_dir] if settings.argos_bundled_dir else [],
            max_bytes=settings.max_package_bytes,
            progress=progress,
        )

    def _rescan(self) -> None:
        """Make this process's argos engine read the packages folder now."""
        assert self.services is not None
        rescan_argos(self.services)


def rescan_argos(services: Services) -> None:
    """Make this process's argos engine re-read its packages folders now (after an install here)."""
    registry = services.translation.registry if services.translation is not None else None
    for engine in registry.engines if registry is not None else []:
        if isinstance(engine, ArgosEngine):
            engine.rescan()
