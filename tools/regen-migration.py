"""Regenerate the initial migration from the models (before the first release only).

Until Homeroom's first tagged release the schema lives in one initial migration,
regenerated whenever models change: ``.venv/bin/python tools/regen-migration.py``.
After the first release, add new revisions with ``alembic revision --autogenerate``
instead. ``tests/db/test_migrations.py`` fails when models and migrations disagree.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command

from server.db.migrate import MIGRATIONS, alembic_config

INITIAL = MIGRATIONS / "versions" / "0001_initial_schema.py"


def main() -> int:
    INITIAL.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'gen.db'}"
        command.revision(alembic_config(url), message="initial schema", autogenerate=True, rev_id="0001")
    ruff = Path(sys.executable).parent / "ruff"
    subprocess.run([str(ruff), "format", "-q", str(INITIAL)], check=False)
    subprocess.run([str(ruff), "check", "--fix", "-q", str(INITIAL)], check=False)
    print(f"wrote {INITIAL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
