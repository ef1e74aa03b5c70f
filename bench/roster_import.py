"""Roster import: how long a two-form-entry primary takes to import (target: under 10 s).

```
. tools/test-services.sh                      # PostgreSQL for the run (as for the tests)
.venv/bin/python bench/roster_import.py       # SQLite and PostgreSQL
.venv/bin/python bench/roster_import.py --database sqlite
```

Builds an empty school in a fresh database, then through the real HTTP API (the app in
process, over ASGI) previews and confirms the generated roster of ``tests/school/roster_files``:
14 classes, 420 pupils and 700 guardians, in the SIMS-style Windows-1252 shape. Prints the
preview time, the confirm time and their sum, then the same for a second import of the same
file (which changes nothing) and for a ``full`` import of a changed file (moves, renames, leavers).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from server.app import create_app  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.factories import make_world  # noqa: E402
from tests.school import roster_files  # noqa: E402
from tests.services import create_pg_database, drop_pg_database, postgres_admin_url  # noqa: E402


async def _import(
    client: httpx.AsyncClient, headers: dict[str, str], data: bytes, mode: str
) -> dict[str, Any]:
    started = time.perf_counter()
    reply = await client.post(
        f"/api/roster/import?mode={mode}", files={"file": ("roster.csv", data)}, headers=headers
    )
    reply.raise_for_status()
    previewed = time.perf_counter()
    confirmed = await client.post(f"/api/roster/import/{reply.json()['import_id']}/confirm", headers=headers)
    confirmed.raise_for_status()
    done = time.perf_counter()
    return {"preview": previewed - started, "confirm": done - previewed, "counts": reply.json()["preview"]}


async def run(backend: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        admin_url = postgres_admin_url()
        if backend == "postgresql":
            if admin_url is None:
                print("postgresql: skipped (no HOMEROOM_TEST_DATABASE_URL)")
                return
            url = await create_pg_database(admin_url)
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        app = create_app(make_settings(Path(tmp), url))
        try:
            async with app.router.lifespan_context(app):
                world = await make_world(app.state.services, classes=0)
                pupils = roster_files.school()
                changed = [replace(p, class_name=roster_files.CLASSES[0]) if i % 40 == 1 else p
                           for i, p in enumerate(pupils) if i % 50 != 7]  # fmt: skip
                changed[3] = replace(changed[3], last_name="Fairweather")
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                    headers = world.admin.headers
                    for label, data, mode in (
                        ("first import", roster_files.sims_csv(pupils), "partial"),
                        ("same file again", roster_files.sims_csv(pupils), "full"),
                        ("changed file", roster_files.sims_csv(changed), "full"),
                    ):
                        result = await _import(client, headers, data, mode)
                        total = result["preview"] + result["confirm"]
                        students = result["counts"]["students"]
                        print(
                            f"{backend:10} {label:16} preview {result['preview']:6.2f} s  confirm "
                            f"{result['confirm']:6.2f} s  total {total:6.2f} s  {students}"
                        )
        finally:
            if backend == "postgresql" and admin_url is not None:
                await drop_pg_database(admin_url, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql") if args.database == "both" else (args.database,):
        asyncio.run(run(backend))


if __name__ == "__main__":
    main()
