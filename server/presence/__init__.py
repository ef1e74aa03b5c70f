"""Who is online on each ``*:staff`` channel: the ``Presence`` interface, memory and Redis backends.

One entry per user however many tabs they have open: a user "joins" with their first
connection on a channel and "leaves" with their last. Entries carry an expiry renewed by
heartbeats, so the users of a process that was killed disappear within the TTL (Redis).
:func:`create_presence` picks the backend the way the broker is picked: by URL.
"""

from __future__ import annotations

from server.presence.base import Presence, create_presence

__all__ = ["Presence", "create_presence"]
