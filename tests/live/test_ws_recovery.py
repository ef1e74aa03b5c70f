"""Recovery through ``since``: a client that was away gets every missed event in order, or is told not."""

from __future__ import annotations

import pytest

from tests.live.client import LiveClient
from tests.live.conftest import MEMORY_HISTORY, Site
from tests.live.emitter import emit_events, number, payloads

pytestmark = pytest.mark.live


async def _miss_and_recover(site: Site, missed: int) -> tuple[dict, list[dict], dict]:
    """Subscribe, disconnect, let ``missed`` events pass (seen by a watcher), reconnect with since."""
    world = await site.world()
    channel = f"school:{world.school.id}:staff"
    first, second = site.servers[0], site.servers[-1]
    async with LiveClient.connect(second.ws_url, world.office.token) as watcher:
        await watcher.subscribe(channel)
        async with LiveClient.connect(first.ws_url, world.teacher.token) as client:
            subbed = await client.subscribe(channel)
        await watcher.wait_for(lambda f: f.get("type") == "presence.left")
        await emit_events(site.services, channel, "report.created", payloads(missed))
        await watcher.events(channel, missed, deadline=15)
        async with LiveClient.connect(first.ws_url, world.teacher.token) as client:
            since = subbed["seq"]
            await client.sub(channel, since=since, epoch=subbed["epoch"], ref="again")
            answer = await client.wait_for(lambda f: f.get("ref") == "again")
            replayed = [f for f in client.frames if f["op"] == "event"]
    return subbed, replayed, answer


async def test_client_missing_50_events_recovers_them_all_in_order_memory(memory_site: Site) -> None:
    subbed, replayed, answer = await _miss_and_recover(memory_site, 50)
    reports = [f for f in replayed if f["type"] == "report.created"]
    assert [number(f) for f in reports] == list(range(50))
    assert [f["seq"] for f in replayed] == list(range(subbed["seq"] + 1, answer["seq"] + 1))
    assert answer["recovered"] is True and answer["epoch"] == subbed["epoch"]


async def test_client_missing_50_events_recovers_them_all_in_order_redis(redis_site: Site) -> None:
    subbed, replayed, answer = await _miss_and_recover(redis_site, 50)
    reports = [f for f in replayed if f["type"] == "report.created"]
    assert [number(f) for f in reports] == list(range(50))
    assert [f["seq"] for f in replayed] == list(range(subbed["seq"] + 1, answer["seq"] + 1))
    assert answer["recovered"] is True


async def test_beyond_the_history_window_recovery_is_refused(memory_site: Site) -> None:
    subbed, replayed, answer = await _miss_and_recover(memory_site, MEMORY_HISTORY + 10)
    assert answer["recovered"] is False and replayed == []
    assert answer["seq"] >= subbed["seq"] + MEMORY_HISTORY + 10


async def test_a_wrong_epoch_is_never_recovered(memory_site: Site) -> None:
    world = await memory_site.world()
    channel = f"school:{world.school.id}"
    async with LiveClient.connect(memory_site.servers[0].ws_url, world.teacher.token) as client:
        subbed = await client.subscribe(channel)
        answer = await client.subscribe(channel, since=subbed["seq"], epoch="another")
        assert answer["recovered"] is False
        assert (await client.subscribe(channel, since=subbed["seq"], epoch=subbed["epoch"]))[
            "recovered"
        ] is True
        assert (await client.subscribe(channel, since=subbed["seq"] + 5, epoch=subbed["epoch"]))[
            "recovered"
        ] is False
