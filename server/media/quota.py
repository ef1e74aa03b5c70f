"""Daily upload quotas: how many bytes an account, and its whole school, may upload in 24 hours.

Every upload received is charged (an ``upload_charges`` row), accepted or refused by
the checks that follow, because receiving and decoding it is what costs; the charge
is not given back when the file is later deleted or swept. Counting is done in the
database, which every process shares, over a rolling 24-hour window of the injected clock.

Charging is one short transaction: insert the charge, take the school's row lock
(``FOR NO KEY UPDATE`` on PostgreSQL, which queues the school's chargers without
clashing with the key-share locks of foreign-key checks), then sum the window with the
new row in it; over a quota, the transaction rolls back. Two uploads at once therefore
cannot both see room for one. SQLite serialises writers, and the insert comes first so
that the sums are read after the write lock is held.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from server.auth.principal import STAFF_ROLES, Principal
from server.db.engine import rowcount
from server.db.models import School, UploadCharge
from server.errors import ApiError
from server.services import Services
from server.settings import Settings

WINDOW = timedelta(days=1)


def user_quota(settings: Settings, role: str) -> int:
    """Bytes an account with this role may upload in any 24 hours."""
    if role in STAFF_ROLES:
        return settings.upload_quota_staff_bytes
    if role == "parent":
        return settings.upload_quota_parent_bytes
    return settings.upload_quota_pupil_bytes


def quota_exceeded(scope: str, limit: int, used: int) -> ApiError:
    """413 ``quota_exceeded``: the account's (``user``) or school's (``school``) daily quota is used up."""
    whose = "your" if scope == "user" else "the school's"
    return ApiError(
        413,
        "quota_exceeded",
        f"This upload would go past {whose} upload allowance of {limit // (1024 * 1024)} MiB a day. "
        "Try again later.",
        {"scope": scope, "limit_bytes": limit, "used_bytes": used},
    )


async def _used(
    session: AsyncSession, column: InstrumentedAttribute[int], value: int, since: datetime
) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(UploadCharge.size), 0)).where(
            column == value,
            UploadCharge.created_at >= since,
        )
    )
    return int(total or 0)


async def check_room(services: Services, principal: Principal) -> None:
    """413 before the body is read when the account or the school has no allowance left today."""
    since = services.clock() - WINDOW
    async with services.read() as session:
        for scope, column, value, limit in _scopes(services.settings, principal):
            used = await _used(session, column, value, since)
            if used >= limit:
                raise quota_exceeded(scope, limit, used)


async def charge_upload(services: Services, principal: Principal, size: int) -> None:
    """Count ``size`` bytes against the account's and school's quotas; 413 (nothing counted) when over."""
    now = services.clock()
    async with services.transaction() as session:
        session.add(
            UploadCharge(school_id=principal.school_id, user_id=principal.id, size=size, created_at=now)
        )
        await session.flush()
        await session.execute(
            select(School.id).where(School.id == principal.school_id).with_for_update(key_share=True)
        )
        for scope, column, value, limit in _scopes(services.settings, principal):
            used = await _used(session, column, value, now - WINDOW)
            if used > limit:
                raise quota_exceeded(scope, limit, used - size)


def _scopes(
    settings: Settings, principal: Principal
) -> list[tuple[str, InstrumentedAttribute[int], int, int]]:
    return [
        ("user", UploadCharge.user_id, principal.id, user_quota(settings, principal.role)),
        ("school", UploadCharge.school_id, principal.school_id, settings.upload_quota_school_bytes),
    ]


async def purge_charges(session: AsyncSession, now: datetime) -> int:
    """Delete charges older than the quota window; returns how many went."""
    gone = await session.execute(delete(UploadCharge).where(UploadCharge.created_at < now - WINDOW))
    return rowcount(gone)
