"""The Origin check made before a websocket upgrade (cross-site websocket hijacking)."""

from __future__ import annotations

import pytest

from server.channels.endpoint import origin_allowed


@pytest.mark.parametrize(
    ("origin", "host", "scheme", "allowed", "expected"),
    [
        (None, "school.example", "ws", (), True),  # not a browser: no Origin header
        ("http://school.example", "school.example", "ws", (), True),
        ("https://school.example", "school.example", "wss", (), True),
        ("HTTPS://School.Example", "school.example", "wss", (), True),
        ("https://school.example:443", "school.example", "wss", (), True),
        ("http://school.example:8000", "school.example:8000", "ws", (), True),
        ("http://school.example", "school.example", "wss", (), False),  # scheme differs
        ("http://school.example:8001", "school.example:8000", "ws", (), False),  # port differs
        ("https://evil.example", "school.example", "wss", (), False),
        ("https://school.example.evil.example", "school.example", "wss", (), False),
        ("null", "school.example", "wss", (), False),
        ("", "school.example", "wss", (), False),
        ("file://", "school.example", "wss", (), False),
        ("https://app.example", "school.example", "wss", ("https://app.example",), True),
        ("https://app.example", "school.example", "wss", ("https://other.example",), False),
        ("https://school.example", None, "wss", (), False),
    ],
)
def test_origin_rules(
    origin: str | None, host: str | None, scheme: str, allowed: tuple[str, ...], expected: bool
) -> None:
    assert origin_allowed(origin, host, scheme, allowed) is expected
