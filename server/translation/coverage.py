"""Translation coverage for a school's leaders: who reads which language, and what reaches them.

For each language the school's people have chosen: how many families (parent and
guardian accounts), staff and pupils read it, and for both directions with the
school's language (its posts to them, their messages to staff) whether an engine
translates it, which one, and a short honest note on what that engine's output is
like. No HTTP here: ``server/api/translation.py`` serves it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import STAFF_ROLES
from server.db.models import School, User
from server.language.languages import language_name, native_name
from server.translation.registry import Registry, Route

NOTES = {
    "argos": (
        "neural",
        "Neural (Argos): usually fluent, but it can drop or change a detail such as a date, a time or a "
        "name. Keep key facts short and clear.",
    ),
    "apertium": (
        "rule-based",
        "Rule-based (Apertium): understandable but rough and word-for-word in places; the meaning "
        "usually survives, the style does not.",
    ),
}
PIVOT_NOTE = "Two steps through English: mistakes of both steps add up, so expect rougher text."
NONE_NOTE = "These readers see the original text."


def assess(route: Route | None, source: str, target: str) -> dict[str, Any]:
    """One direction: translated or not, by which engine, and what to expect of it."""
    if source == target:
        return {"status": "not_needed", "engine": None, "kind": None, "note": "The school's own language."}
    if route is None:
        return {"status": "unavailable", "engine": None, "kind": None, "note": NONE_NOTE}
    kinds = [NOTES.get(engine.name, ("other", ""))[0] for engine, _, _ in route.steps]
    if len(route.steps) > 1:
        kind = "two steps (" + ", then ".join(kinds) + ")"
        note = PIVOT_NOTE
    else:
        kind, note = NOTES.get(route.engine, ("other", ""))
    return {"status": "translated", "engine": route.engine, "kind": kind, "note": note}


async def reader_counts(session: AsyncSession, school_id: int) -> dict[str, dict[str, int]]:
    """Per chosen language: how many families, staff and pupils (suspended accounts left out)."""
    rows = await session.execute(
        select(User.language, User.role, func.count())
        .where(User.school_id == school_id, User.suspended_at.is_(None))
        .group_by(User.language, User.role)
    )
    counts: dict[str, dict[str, int]] = {}
    for language, role, count in rows.all():
        entry = counts.setdefault(language or "en", {"families": 0, "staff": 0, "pupils": 0})
        if role == "parent":
            entry["families"] += count
        elif role in STAFF_ROLES:
            entry["staff"] += count
        elif role == "student":
            entry["pupils"] += count
    return counts


def package_rows(registry: Registry, data_dir: Path) -> list[dict[str, Any]]:
    """The argos packages this process sees, and whether each came with the image (bundled)."""
    from server.translation.argos import ArgosEngine, packages_dir

    own = packages_dir(data_dir).resolve()
    rows: list[dict[str, Any]] = []
    for engine in registry.engines:
        if isinstance(engine, ArgosEngine):
            for info in engine.packages().values():
                rows.append(
                    {
                        "source": info.source,
                        "target": info.target,
                        "version": info.version,
                        "bundled": info.path.resolve().parent != own,
                    }
                )
    return sorted(rows, key=lambda row: (row["source"], row["target"]))


def language_rows(
    counts: dict[str, dict[str, int]], registry: Registry, school_language: str, reader_language: str
) -> list[dict[str, Any]]:
    """One row per chosen language, most families first, the school's own language last."""
    rows: list[dict[str, Any]] = []
    for code, numbers in counts.items():
        rows.append(
            {
                "code": code,
                "name": language_name(code, reader_language),
                "native_name": native_name(code),
                **numbers,
                "posts": assess(registry.route(school_language, code), school_language, code),
                "messages": assess(registry.route(code, school_language), code, school_language),
            }
        )
    rows.sort(key=lambda row: (row["code"] == school_language, -row["families"], -row["pupils"], row["code"]))
    return rows


async def school_coverage(
    session: AsyncSession, school_id: int, registry: Registry, data_dir: Path, reader_language: str
) -> dict[str, Any]:
    """Everything ``GET /api/translation/coverage`` answers, for one school."""
    school_language = await session.scalar(select(School.language).where(School.id == school_id)) or "en"
    counts = await reader_counts(session, school_id)
    return {
        "school_language": school_language,
        "engines": registry.names,
        "languages": language_rows(counts, registry, school_language, reader_language),
        "packages": package_rows(registry, data_dir),
    }
