"""The audit log: who did what, written in the same transaction as the deed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import AuditEntry


def record(
    session: AsyncSession,
    school_id: int,
    actor_id: int | None,
    action: str,
    target_type: str = "",
    target_id: int | None = None,
    **details: Any,
) -> None:
    """Add an audit entry; never holds message text or passwords, only ids and facts."""
    session.add(
        AuditEntry(
            school_id=school_id,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details,
        )
    )
