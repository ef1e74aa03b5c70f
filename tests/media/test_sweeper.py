"""Abandoned uploads are removed once past their age (45 minutes by default); attached files stay; erasure."""

from __future__ import annotations

from datetime import timedelta

import httpx

from server.db.models import Media
from server.media import drop_uploads_of, storage_of
from server.media.sweeper import sweep_interval, sweep_once
from server.timeutil import utcnow
from tests.conftest import Clock
from tests.factories import World, upload, upload_id


async def test_uploads_left_unattached_for_a_day_are_swept(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    abandoned = (await upload(api, world.teacher)).json()
    kept = await upload_id(api, world.teacher)
    await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "Trip", "media_ids": [kept]},
        headers=world.teacher.headers,
    )
    storage = storage_of(world.services)
    async with world.services.read() as session:
        key = (await session.get(Media, abandoned["id"])).key
    assert storage.exists(key)
    assert await sweep_once(world.services) == 0
    clock.set(utcnow() + timedelta(days=1, minutes=1))
    assert await sweep_once(world.services) >= 1
    assert not storage.exists(key)
    clock.fixed = None
    assert (await api.get(abandoned["url"], headers=world.teacher.headers)).status_code == 404
    async with world.services.read() as session:
        assert await session.get(Media, kept) is not None


async def test_a_users_uploads_can_be_erased(api: httpx.AsyncClient, world: World) -> None:
    mine = [await upload_id(api, world.teacher) for _ in range(2)]
    theirs = await upload_id(api, world.admin)
    async with world.services.transaction() as session:
        keys = await drop_uploads_of(session, world.teacher.id)
    assert len(keys) == 2
    async with world.services.read() as session:
        for media_id in mine:
            assert await session.get(Media, media_id) is None
        assert await session.get(Media, theirs) is not None


async def test_the_upload_sweep_is_a_periodic_job_of_every_server(world: World) -> None:
    runner = world.services.jobs
    assert runner is not None and "sweep_uploads" in runner.jobs
    assert runner.jobs["sweep_uploads"].every == sweep_interval(world.services.settings)
    assert await runner.run_once("sweep_uploads")
