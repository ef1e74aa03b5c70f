"""The pure rules of portfolios: who sees an item, where a decision leads, lateness."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.errors import ApiError
from server.portfolio.work import is_late, may_see_item, next_status, visible_statuses


@pytest.mark.parametrize(
    ("relation", "status", "sees"),
    [
        ("staff", "pending", True),
        ("staff", "approved", True),
        ("staff", "returned", True),
        ("pupil", "pending", True),
        ("pupil", "approved", True),
        ("pupil", "returned", True),
        ("guardian", "pending", False),
        ("guardian", "approved", True),
        ("guardian", "returned", False),
        (None, "approved", False),
        ("classmate", "approved", False),
    ],
)
def test_p6_who_sees_an_item(relation: str | None, status: str, sees: bool) -> None:
    assert may_see_item(relation, status) is sees


@pytest.mark.parametrize(
    ("current", "decision", "result"),
    [
        ("pending", "approve", "approved"),
        ("pending", "return", "returned"),
        ("approved", "approve", None),
        ("returned", "return", None),
    ],
)
def test_decisions_from_pending_and_repeats(current: str, decision: str, result: str | None) -> None:
    assert next_status(current, decision) == result


@pytest.mark.parametrize(("current", "decision"), [("approved", "return"), ("returned", "approve")])
def test_deciding_the_other_way_is_a_conflict(current: str, decision: str) -> None:
    with pytest.raises(ApiError) as caught:
        next_status(current, decision)
    assert caught.value.status == 409
    assert caught.value.code == "already_decided"


@pytest.mark.parametrize(
    ("relation", "wanted", "statuses"),
    [
        ("staff", None, ("pending", "approved", "returned")),
        ("pupil", "returned", ("returned",)),
        ("guardian", None, ("approved",)),
        ("guardian", "approved", ("approved",)),
        ("guardian", "pending", ()),
        ("guardian", "returned", ()),
    ],
)
def test_p6_listed_statuses(relation: str, wanted: str | None, statuses: tuple[str, ...]) -> None:
    assert visible_statuses(relation, wanted) == statuses


def test_late_only_after_the_due_time() -> None:
    due = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
    assert not is_late(datetime(2026, 3, 6, 16, 59, tzinfo=UTC), due)
    assert not is_late(datetime(2026, 3, 6, 17, 0, tzinfo=UTC), due)
    assert is_late(datetime(2026, 3, 6, 17, 1, tzinfo=UTC), due)
    assert is_late(datetime(2026, 3, 6, 17, 1), due)  # SQLite hands back naive UTC
    assert not is_late(datetime(2030, 1, 1, tzinfo=UTC), None)
