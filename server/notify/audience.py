"""Who a notification may reach: candidates from the event, then the access rules REST uses.

:func:`candidates` lists the users an event concerns (the guardians of a class, of a pupil,
a conversation's member, the admins). :func:`may_know` is asked again for every one of them
when the notification is sent, not only when it is queued: a guardian removed, a pupil who
left, a suspended account or a parent who has not accepted the new code of conduct (P17)
gets nothing from that moment. It decides with :func:`server.channels.rules.may_subscribe`,
the same question the live layer and (through ``server.school.access``) every REST read
ask, so a notification never names a pupil to someone who could not open their page.
Pupils never get push or email.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.channels.protocol import parse_channel
from server.channels.rules import may_subscribe
from server.db.models import GuardianLink, School, Student, User
from server.events import class_channel, school_channel
from server.notify.kinds import channel_family, channel_id


@dataclass(frozen=True)
class Candidates:
    """A query of the ids of the users an event may notify, and the values of its parameters."""

    shape: str  # the queries of one shape are the same statement (see _SHAPES)
    query: Select[Any]
    params: dict[str, Any]


def _guardians(where: Any, *, excluding: bool) -> Select[Any]:
    query = (
        select(GuardianLink.guardian_id)
        .join(Student, Student.id == GuardianLink.student_id)
        .where(where, Student.left_at.is_(None))
        .distinct()
    )
    return query.where(GuardianLink.guardian_id != bindparam("exclude")) if excluding else query


# Built once, with parameters: one is asked for every notification, and building a statement
# costs about as much as running it.
_TARGET: BindParameter[int] = bindparam("target")
_SHAPES: dict[str, Select[Any]] = {
    "class": _guardians(Student.class_id == _TARGET, excluding=False),
    "class-but": _guardians(Student.class_id == _TARGET, excluding=True),
    "school": _guardians(Student.school_id == _TARGET, excluding=False),
    "school-but": _guardians(Student.school_id == _TARGET, excluding=True),
    "student": _guardians(Student.id == _TARGET, excluding=False),
    "user": select(User.id).where(User.id == _TARGET),
    "user-but": select(User.id).where(User.id == _TARGET, User.id != bindparam("exclude")),
    "school:staff": select(User.id).where(User.school_id == _TARGET, User.role == "admin"),
    "nobody": select(User.id).where(false()),
}


def candidates(channel: str, type_: str, data: dict[str, Any]) -> Candidates:
    """The users an event may notify (before preferences and access), as a query.

    A query, not a list: the fan-out narrows it in SQL to the readers with a device or
    instant email, so a class where few have either costs the same as one where none do.
    """
    family = channel_family(channel)
    if family not in ("class", "school", "student", "user", "school:staff"):
        return Candidates("nobody", _SHAPES["nobody"], {})
    params: dict[str, Any] = {"target": channel_id(channel)}
    exclude: Any = None
    if family in ("class", "school"):
        exclude = _author(data)
    elif family == "user":
        exclude = ((data.get("message") or {}).get("sender") or {}).get("id")
    if isinstance(exclude, int):
        params["exclude"] = exclude
        family = f"{family}-but"
    return Candidates(family, _SHAPES[family], params)


def _author(data: dict[str, Any]) -> int | None:
    author = (data.get("post") or data.get("event") or {}).get("author") or {}
    found = author.get("id")
    return found if isinstance(found, int) else None


def reachable(user: User | None) -> bool:
    """Whether a user may be notified at all: an account that is not a pupil's and not suspended."""
    return user is not None and user.role != "student" and user.suspended_at is None


def concerned_channel(channel: str, data: dict[str, Any], school: School) -> str | None:
    """The story channel a notice to one reader is about: a reminder or a nudge names its event.

    Such a notice goes to the reader's own ``user:{id}``, which they may always read; asking
    about the event's class (or school) too means a guardian removed after it was queued gets
    nothing, as for a post.
    """
    event = data.get("event")
    if channel_family(channel) != "user" or not isinstance(event, dict):
        return None
    class_id = event.get("class_id")
    return class_channel(class_id) if isinstance(class_id, int) else school_channel(school.id)


async def may_know(
    session: AsyncSession, user: User, school: School, channel: str, data: dict[str, Any] | None = None
) -> bool:
    """Whether ``user`` may be told about an event on ``channel`` (with ``data``) right now."""
    about = concerned_channel(channel, data, school) if data else None
    if about is not None and not await may_know(session, user, school, about):
        return False
    if not reachable(user) or user.school_id != school.id:
        return False
    principal = Principal(
        user=user, session_id=0, token="", via="notification", policy_version=school.policy_version
    )
    if principal.needs_policy:
        return False
    parsed = parse_channel(channel)
    if parsed is None:
        return False
    if channel_family(channel) == "school:staff" and not principal.is_admin:
        return False  # reports and guardian requests are the admins' queue
    return await may_subscribe(session, principal, parsed)
