"""Emitting live events from a test, the way domain code does: ``emit()`` inside ``services.transaction()``.

The rows are committed to the servers' database with their publishing lease released, so
the servers' outbox relays publish them (within the relay's poll interval, ~0.5 s). That
works for every broker, including ``memory://`` where only a server process can publish.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from server.db.models import OutboxEvent
from server.events import emit
from server.services import Services


async def emit_events(
    services: Services, channel: str, type_: str, payloads: list[dict[str, Any]]
) -> list[int]:
    """Commit one event per payload, in order, in one transaction; returns the outbox row ids."""
    async with services.transaction() as session:
        rows = [emit(session, channel, type_, data) for data in payloads]
        await session.flush()
        ids = [row.id for row in rows]
        await session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(claimed_until=None))
        session.info.pop("outbox", None)  # published by the servers' relays, not from here
    return ids


def payloads(count: int, start: int = 0, size: int = 0) -> list[dict[str, Any]]:
    """``count`` distinct ``report.created`` payloads numbered from ``start`` (padded to ``size``).

    The number sits where the event's schema allows a free-form object: ``{"report": {"n": …}}``;
    :func:`number` reads it back from an event frame.
    """
    pad = "x" * size
    return [
        {"report": {"n": start + index, "pad": pad} if size else {"n": start + index}}
        for index in range(count)
    ]


def number(frame: dict[str, Any]) -> Any:
    """The ``n`` of an event frame made from :func:`payloads`."""
    return frame["data"]["report"]["n"]
