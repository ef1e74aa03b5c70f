"""Presence: one entry per user however many connections, on memory and on real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from server.presence.base import SESSION_FULL, USER_FULL, Presence
from server.presence.memory import MemoryPresence
from server.presence.redis import RedisPresence
from tests.live.servers import unique_prefix
from tests.services import redis_url

ANN = {"id": 1, "name": "Mrs Patel", "role": "teacher"}
BEN = {"id": 2, "name": "Mr Okafor", "role": "teacher"}


@pytest.fixture(params=["memory", "redis"])
async def presence(request: pytest.FixtureRequest) -> AsyncIterator[Presence]:
    found: Presence = (
        MemoryPresence(30) if request.param == "memory" else RedisPresence(redis_url(), unique_prefix(), 30)
    )
    await found.start()
    yield found
    await found.stop()


async def test_one_entry_per_user_however_many_tabs(presence: Presence) -> None:
    channel = "class:1:staff"
    assert await presence.join(channel, "a-1", ANN) is True
    assert await presence.join(channel, "a-2", ANN) is False  # a second tab
    assert await presence.join(channel, "b-1", BEN) is True
    assert await presence.members(channel) == [ANN, BEN]
    assert await presence.leave(channel, "a-1", 1) is False
    assert await presence.leave(channel, "a-2", 1) is True  # the last tab
    assert await presence.leave(channel, "a-2", 1) is False  # already gone
    assert await presence.members(channel) == [BEN]
    assert await presence.members("class:2:staff") == []


async def test_redis_entries_expire_without_heartbeats() -> None:
    prefix = unique_prefix()
    dying, watching = RedisPresence(redis_url(), prefix, 0.2), RedisPresence(redis_url(), prefix, 30)
    try:
        await dying.join("school:1:staff", "p1-1", ANN)
        await watching.join("school:1:staff", "p2-1", BEN)
        await dying.heartbeat([("school:1:staff", "p1-1", 1)])
        assert await watching.expire() == []
        gone: list[tuple[str, dict]] = []
        async with asyncio.timeout(5):
            while not gone:
                gone = await watching.expire()
                await asyncio.sleep(0.05)
        assert gone == [("school:1:staff", ANN)]
        assert await watching.members("school:1:staff") == [BEN]
    finally:
        await dying.stop()
        await watching.stop()


async def test_socket_slots_are_capped_per_session_then_per_user(presence: Presence) -> None:
    # Two per session, three per user.
    assert await presence.claim_socket("a-1", 1, 10, 2, 3) is None
    assert await presence.claim_socket("a-2", 1, 10, 2, 3) is None
    assert await presence.claim_socket("a-3", 1, 10, 2, 3) == SESSION_FULL
    assert await presence.claim_socket("a-4", 1, 11, 2, 3) is None
    assert await presence.claim_socket("a-5", 1, 12, 2, 3) == USER_FULL
    assert await presence.claim_socket("b-1", 2, 20, 2, 3) is None  # another user
    await presence.release_socket("a-1", 1, 10)
    await presence.release_socket("a-1", 1, 10)  # twice is harmless
    assert await presence.claim_socket("a-6", 1, 12, 2, 3) is None
    assert await presence.claim_socket("a-7", 1, 10, 2, 3) == USER_FULL


async def test_redis_socket_slots_lapse_unless_renewed() -> None:
    prefix = unique_prefix()
    dying, renewing = RedisPresence(redis_url(), prefix, 1.0), RedisPresence(redis_url(), prefix, 1.0)
    try:
        assert await dying.claim_socket("p1-1", 1, 10, 1, 5) is None
        assert await renewing.claim_socket("p2-1", 1, 11, 1, 5) is None
        async with asyncio.timeout(5):  # the dying process's slot lapses; the renewed one stays
            while await renewing.claim_socket("p2-2", 1, 10, 1, 5) == SESSION_FULL:
                await renewing.renew_sockets([("p2-1", 1, 11)])
                await asyncio.sleep(0.05)
        await renewing.renew_sockets([("p2-1", 1, 11), ("p2-2", 1, 10)])
        assert await renewing.claim_socket("p2-3", 1, 11, 1, 5) == SESSION_FULL
    finally:
        await dying.stop()
        await renewing.stop()
