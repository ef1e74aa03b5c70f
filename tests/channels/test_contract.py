"""The web client's copy of the close codes and roles is generated from the server's enums."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_web_contract_module_matches_the_server_enums() -> None:
    spec = importlib.util.spec_from_file_location("contract_tool", ROOT / "tools" / "contract.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    written = (ROOT / "web" / "js" / "contract.js").read_text(encoding="utf-8")
    assert written == tool.render(), "run .venv/bin/python tools/contract.py"
    assert '"FORBIDDEN": 4003' in written and '"PARENT": "parent"' in written
