"""Which live events notify people, and under which preference kind (pure, no I/O).

A notification starts from the live event that announces the deed, on the channel whose
readers it concerns, so the outbox row is written by :func:`server.events.emit` in the
deed's own transaction:

- ``post.created`` on ``class:{id}`` / ``school:{id}``: the class's or school's guardians (``posts``)
- ``message.created`` on ``user:{id}``: that user, when they did not write it; staff and
  guardians alike, server notices (office routing) included (``messages``)
- ``points.awarded`` on ``student:{id}``: the pupil's guardians, batched (``points``)
- ``portfolio.approved`` on ``student:{id}``: the pupil's guardians (``portfolio``)
- ``event.created``/``updated``/``cancelled`` on ``class:{id}`` / ``school:{id}``: the guardians (``events``)
- ``event.reminder`` / ``event.nudge`` on ``user:{id}``: that reader (``events``)
- ``absence.acknowledged`` on ``user:{id}``: the guardian who reported it (``messages``)
- ``report.created`` / ``guardian_request.created`` on ``school:{id}:staff``: admins (``messages``)
"""

from __future__ import annotations

PUSH_KINDS = ("posts", "messages", "points", "portfolio", "events")
EMAIL_CHOICES = ("off", "instant", "daily")

_KINDS: dict[tuple[str, str], str] = {
    ("class", "post.created"): "posts",
    ("school", "post.created"): "posts",
    ("user", "message.created"): "messages",
    ("student", "points.awarded"): "points",
    ("student", "portfolio.approved"): "portfolio",
    ("class", "event.created"): "events",
    ("class", "event.updated"): "events",
    ("class", "event.cancelled"): "events",
    ("school", "event.created"): "events",
    ("school", "event.updated"): "events",
    ("school", "event.cancelled"): "events",
    ("user", "event.reminder"): "events",
    ("user", "event.nudge"): "events",
    ("user", "absence.acknowledged"): "messages",
    ("school:staff", "report.created"): "messages",
    ("school:staff", "guardian_request.created"): "messages",
}


def channel_family(channel: str) -> str:
    """``class:3`` → ``class``; ``school:1:staff`` → ``school:staff``."""
    parts = channel.split(":")
    if len(parts) == 3 and parts[2] == "staff":
        return f"{parts[0]}:staff"
    return parts[0]


def channel_id(channel: str) -> int:
    """The number in a channel name (``class:3`` → 3)."""
    return int(channel.split(":")[1])


def kind_of(channel: str, type_: str) -> str | None:
    """The preference kind an event notifies under, or None when it notifies nobody."""
    return _KINDS.get((channel_family(channel), type_))
