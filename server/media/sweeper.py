"""The media part: makes the storage at start-up and removes abandoned uploads every hour.

An upload nobody attached to a post, message, activity or submission within a day
is an abandoned draft; keeping it would keep a photo of a child for no purpose.
Running in several processes at once is harmless: each sweep deletes only rows
that are still there and files that still exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from server.media.storage import storage_for
from server.media.uploads import discard_files, drop_stale_uploads
from server.services import Services

log = logging.getLogger("homeroom.media")
ABANDONED_AFTER = timedelta(days=1)
SWEEP_EVERY = 3600.0


async def sweep_once(services: Services) -> int:
    """Remove uploads left unattached for a day; returns how many went."""
    removed = 0
    while True:
        async with services.transaction() as session:
            keys = await drop_stale_uploads(session, services.clock() - ABANDONED_AFTER)
        await discard_files(services, keys)
        removed += len(keys)
        if len(keys) < 500:
            return removed


class MediaPart:
    """Owns the media storage and the hourly sweep of abandoned uploads."""

    def __init__(self, every: float = SWEEP_EVERY) -> None:
        self.every = every
        self.task: asyncio.Task[None] | None = None

    async def start(self, services: Services) -> None:
        services.extras["media_storage"] = storage_for(services.settings)
        self.task = asyncio.create_task(self._run(services), name="media-sweeper")

    async def _run(self, services: Services) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                removed = await sweep_once(services)
            except Exception:  # a failed sweep must never stop the next one
                log.exception("sweeping abandoned uploads failed")
                continue
            if removed:
                log.info("removed %d abandoned uploads", removed)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
