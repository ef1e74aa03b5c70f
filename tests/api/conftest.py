"""The ``fuzz_deep`` tests run only when asked for by marker: ``pytest -m fuzz_deep tests/api``."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "fuzz_deep" in (config.option.markexpr or ""):
        return
    deep = [item for item in items if item.get_closest_marker("fuzz_deep")]
    if deep:
        config.hook.pytest_deselected(items=deep)
        items[:] = [item for item in items if not item.get_closest_marker("fuzz_deep")]
