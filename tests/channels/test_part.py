"""``LivePart`` wiring: the contracts other layers rely on."""

from __future__ import annotations

import dataclasses

from server.channels.part import LivePart
from server.channels.render import register_renderer
from server.db.models import OutboxEvent
from server.events import emit
from server.services import Services


async def test_live_part_wires_its_contracts_and_keeps_the_previous_commit_sink(services: Services) -> None:
    seen: list[int] = []

    async def previous(rows: list[OutboxEvent]) -> None:
        seen.append(len(rows))

    local = dataclasses.replace(services, after_commit=previous, extras={})
    part = LivePart()
    await part.start(local)
    try:
        assert local.extras["live"] is part
        assert local.extras["register_renderer"] is register_renderer
        await local.extras["ready_checks"]["broker"]()
        async with local.transaction() as session:
            emit(session, "class:987654321", "post.deleted", {"post_id": 1})
            emit(session, "class:987654321", "post.deleted", {"post_id": 2})
        assert seen == [2]
        assert local.access_changed == part.access_changed
    finally:
        await part.stop()
    assert local.after_commit is previous
