"""The push fan-out takes waiting events in batches: one transaction each, once, a bad one set aside."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.db.models import NotificationEvent
from server.notify import worker as worker_module
from server.notify.worker import PushWorker
from server.services import Services
from tests.conftest import Clock
from tests.factories import World
from tests.notify.push_service import PushService
from tests.notify.test_push import TUESDAY_MORNING, subscribe


async def post(api: httpx.AsyncClient, world: World, text: str) -> int:
    reply = await api.post(
        f"/api/classes/{world.classes[0].id}/posts", json={"text": text}, headers=world.teacher.headers
    )
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


async def events_for(services: Services, post_ids: list[int]) -> list[NotificationEvent]:
    async with services.read() as session:
        rows = (await session.scalars(select(NotificationEvent).order_by(NotificationEvent.id))).all()
    return [row for row in rows if (row.data.get("post") or {}).get("id") in post_ids]


async def test_waiting_events_are_fanned_out_together_and_once(
    api: httpx.AsyncClient,
    world: World,
    services: Services,
    worker: PushWorker,
    push_service: PushService,
    clock: Clock,
) -> None:
    clock.set(TUESDAY_MORNING)
    await worker.run_until_idle()  # what earlier tests left waiting
    _, mum = await world.add_family("Maya")
    await subscribe(api, mum, push_service.device("mum-phone"))
    posts = [await post(api, world, f"Spelling list {n}") for n in range(3)]

    # Two workers at once (two processes after the same commits): each post is pushed once.
    rival = PushWorker(services.settings, ticking=False)
    rival.services, rival.vapid, rival.client = worker.services, worker.vapid, worker.client
    sent = await asyncio.gather(worker.run_until_idle(), rival.run_until_idle())

    assert sum(sent) == 3
    assert sorted(p["tag"] for p in push_service.payloads("mum-phone")) == sorted(f"post-{p}" for p in posts)
    events = await events_for(services, posts)
    assert len(events) == 3 and all(event.done_at is not None for event in events)
    assert len({event.done_at for event in events}) == 1  # one batch: marked by one statement


async def test_an_event_that_fails_is_set_aside_and_the_others_still_go_out(
    api: httpx.AsyncClient,
    world: World,
    services: Services,
    worker: PushWorker,
    push_service: PushService,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(TUESDAY_MORNING)
    await worker.run_until_idle()  # what earlier tests left waiting
    _, mum = await world.add_family("Maya")
    await subscribe(api, mum, push_service.device("mum-phone"))
    broken, fine = await post(api, world, "Broken"), await post(api, world, "Fine")
    real_fan_out = worker_module.fan_out
    tried: list[int | None] = []

    async def fan_out(session: Any, event: NotificationEvent, *args: Any) -> int:
        tried.append((event.data.get("post") or {}).get("id"))
        if tried[-1] == broken:
            raise RuntimeError("cannot fan this one out")
        return await real_fan_out(session, event, *args)

    monkeypatch.setattr(worker_module, "fan_out", fan_out)
    assert await worker.run_until_idle() == 1
    assert [p["tag"] for p in push_service.payloads("mum-phone")] == [f"post-{fine}"]
    [set_aside, done] = await events_for(services, [broken, fine])
    assert set_aside.done_at is None and set_aside.claimed_until is not None
    assert done.done_at is not None

    tried.clear()
    assert await worker.run_until_idle() == 0  # not tried again until its lease runs out
    assert broken not in tried
