"""Checks for the live-access findings: a family's access follows its links, live included.

The live checks run on ``redis_site`` (two server processes on PostgreSQL sharing Redis):
the change is made through the API of one process while the family's socket is open on the
other. "No longer receives" is proven with a later post: a control reader on the same
process gets it, then the cut-off socket answers a ``ping`` with nothing from the class
before the ``pong`` (frames on one socket keep their order, so a delivered event would be there).
"""

from __future__ import annotations

import httpx

from tests.factories import Actor, unique
from tests.live.client import Frame, LiveClient
from tests.live.conftest import Site

__all__ = ["Site"]

CUT_OFF_WITHIN = 2.0


def is_post(frame: Frame, post_id: int) -> bool:
    """A live ``post.created`` frame of that post."""
    return (
        frame["op"] == "event"
        and frame.get("type") == "post.created"
        and frame["data"]["post"]["id"] == post_id
    )


async def post_to_class(http: httpx.AsyncClient, teacher: Actor, class_id: int) -> int:
    """A class story post through the API; its id."""
    reply = await http.post(
        f"/api/classes/{class_id}/posts", json={"text": unique("Class news ")}, headers=teacher.headers
    )
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


async def receives(client: LiveClient, post_id: int) -> None:
    """The socket gets that post live."""
    await client.wait_for(lambda f: is_post(f, post_id), deadline=5)


async def lost(client: LiveClient, channels: set[str], deadline: float = CUT_OFF_WITHIN) -> None:
    """The socket is told, within ``deadline`` seconds, that it lost exactly these channels."""
    frames = [await client.wait_for(lambda f: f["op"] == "error", deadline=deadline) for _ in channels]
    assert {(f["code"], f["channel"]) for f in frames} == {("forbidden", c) for c in channels}, frames


async def does_not_receive(cut_off: LiveClient, control: LiveClient, post_id: int) -> None:
    """The control reader (on the same process) gets the post; the cut-off socket does not."""
    await receives(control, post_id)
    ref = unique("ping-")
    await cut_off.send({"op": "ping", "ref": ref})
    await cut_off.wait_for(lambda f: f["op"] == "pong" and f["ref"] == ref, deadline=5)
    assert cut_off.close_code is None
    assert not [f for f in cut_off.frames if is_post(f, post_id)]
