"""``wait_event``: the wait the parts' loops use between rounds."""

from __future__ import annotations

import asyncio

import pytest

from server.timeutil import wait_event


async def test_a_cancel_arriving_as_the_event_is_set_still_stops_the_waiter() -> None:
    # On Python 3.11, asyncio.wait_for returns the event's result here and the cancel is lost:
    # a part's loop then runs on and its stop() waits forever.
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_event(event, 30.0))
    await asyncio.sleep(0)  # one turn of the loop: the waiter is now waiting on the event
    event.set()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_it_tells_a_set_event_from_a_timeout() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 30.0) is True
