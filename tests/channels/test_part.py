"""``LivePart`` wiring: the contracts other layers rely on."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select, update

from server.auth.tokens import digest
from server.channels.connection import Connection
from server.channels.part import LivePart
from server.channels.render import Variant
from server.db.models import OutboxEvent, Session
from server.events import emit
from server.services import Services
from server.timeutil import utcnow
from tests.channels.test_hub import FakeOutlet
from tests.factories import make_world


async def test_live_part_fills_its_port_and_publishes_as_the_first_commit_listener(
    services: Services,
) -> None:
    seen: list[int] = []

    async def after_live(rows: list[OutboxEvent]) -> None:
        seen.append(len(rows))

    def shout(data: dict[str, object], variant: Variant) -> dict[str, object]:
        return {**data, "shouted": variant.language}

    part = LivePart(renderers={"post.deleted": shout})
    local = dataclasses.replace(services, live=None, ready_checks={})
    local.commit_listeners = [part.after_commit, after_live]
    await part.start(local)
    try:
        assert local.live is part
        await local.ready_checks["broker"]()
        assert part.hub is not None and part.hub.rendering.varies("post.deleted", {})
        async with local.transaction() as session:
            emit(session, "class:987654321", "post.deleted", {"post_id": 1})
            emit(session, "class:987654321", "post.deleted", {"post_id": 2})
        assert seen == [2]
    finally:
        await part.stop()
    assert local.live is None


async def test_session_sweep_closes_connections_whose_session_ended(services: Services) -> None:
    live: LivePart = services.live
    assert live.hub is not None
    world = await make_world(services)
    outlets = {}
    for actor in (world.teacher, world.office):
        async with services.read() as session:
            session_id = await session.scalar(
                select(Session.id).where(Session.token_hash == digest(actor.token))
            )
        outlet = outlets[actor.id] = FakeOutlet()
        conn = Connection(
            outlet,
            user_id=actor.id,
            school_id=world.school.id,
            role="teacher",
            session_id=session_id,
            token=actor.token,
            variant=Variant("en", True),
            user={},
        )
        live.hub.add(conn)
    try:
        async with services.transaction() as session:
            await session.execute(
                update(Session)
                .where(Session.token_hash == digest(world.teacher.token))
                .values(revoked_at=utcnow())
            )
        await live.sweep_sessions()
        assert outlets[world.teacher.id].closed is not None and outlets[world.teacher.id].closed[0] == 4003
        assert outlets[world.office.id].closed is None
    finally:
        for conn in live.hub.connections_of(world.teacher.id) + live.hub.connections_of(world.office.id):
            live.hub.remove(conn)
