"""Who may subscribe to which channel (API.md "Live updates"), decided from the database.

- ``school:{id}``        every member of that school
- ``school:{id}:staff``  staff of that school
- ``class:{id}``         the class's pupils, their guardians, staff of the school
- ``class:{id}:staff``   staff of the school
- ``student:{id}``       the pupil, their guardians, staff of the school
- ``user:{id}``          that user alone

The class and pupil questions are answered by :mod:`server.school.access`, the same rules the
HTTP routes use. Checked at subscribe time and again whenever the user's rights change.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Viewer
from server.channels.protocol import Channel
from server.errors import ApiError
from server.school.access import get_class, get_student


async def may_subscribe(session: AsyncSession, principal: Viewer, channel: Channel) -> bool:
    """Whether ``principal`` may read ``channel`` right now."""
    if channel.kind == "user":
        return channel.id == principal.id
    if channel.staff and not principal.is_staff:
        return False
    if channel.kind == "school":
        return channel.id == principal.school_id
    try:
        if channel.kind == "class":
            await get_class(session, principal, channel.id)
        elif channel.kind == "student":
            await get_student(session, principal, channel.id)
        else:
            return False
    except ApiError:
        return False
    return True
