"""The media part: makes the storage at start-up and removes abandoned uploads every few minutes.

An upload nobody attached to a post, message, activity or submission within
``HOMEROOM_UNATTACHED_UPLOAD_SECONDS`` (45 minutes by default) is an abandoned draft;
keeping it would keep a photo of a child for no purpose. Sweeping every five minutes
(more often for a shorter age) removes it within an hour of its upload by default.
Each sweep also purges upload-quota charges older than the quota window.
Running in several processes at once is harmless: each sweep deletes only rows
that are still there and files that still exist.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from server.media.quota import purge_charges
from server.media.uploads import discard_files, drop_stale_uploads
from server.services import Services
from server.settings import Settings

log = logging.getLogger("homeroom.media")
SWEEP_EVERY = 300.0


def sweep_interval(settings: Settings) -> float:
    """Seconds between sweeps: five minutes, or a third of a shorter unattached-upload age."""
    return min(SWEEP_EVERY, max(1.0, settings.unattached_upload_seconds / 3))


async def sweep_once(services: Services) -> int:
    """Remove uploads left unattached past the configured age; returns how many went."""
    now = services.clock()
    older_than = now - timedelta(seconds=services.settings.unattached_upload_seconds)
    removed = 0
    while True:
        async with services.transaction() as session:
            keys = await drop_stale_uploads(session, older_than)
        await discard_files(services, keys)
        removed += len(keys)
        if len(keys) < 500:
            break
    async with services.transaction() as session:
        await purge_charges(session, now)
    return removed


async def sweep_uploads(services: Services) -> int:
    """The periodic job: :func:`sweep_once`, logging what went."""
    removed = await sweep_once(services)
    if removed:
        log.info("removed %d abandoned uploads", removed)
    return removed
