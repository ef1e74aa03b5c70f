"""Which errors mean "the database is unreachable" (503 / live ``unavailable``) and which are bugs (500)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from server.db.engine import database_down, database_unreachable


class DriverError(Exception):
    """What SQLAlchemy's asyncpg adapter raises: a DBAPI ``Error`` carrying the SQLSTATE."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(sqlstate)
        self.sqlstate = self.pgcode = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "invalidated", "unreachable"),
    [
        ("08003", False, True),  # connection does not exist (dropped mid-request)
        ("08006", False, True),  # connection failure
        ("57P01", False, True),  # admin shutdown: PostgreSQL is restarting
        ("57P03", False, True),  # cannot connect now: still starting up
        ("57P02", False, True),  # crash shutdown
        (None, True, True),  # SQLAlchemy recognised a disconnect
        ("42P01", False, False),  # undefined table: a bug, not an outage
        ("22P02", False, False),  # invalid text representation
        ("57014", False, False),  # query cancelled (statement timeout)
        (None, False, False),
    ],
)
def test_driver_errors_that_mean_the_database_is_unreachable(
    sqlstate: str | None, invalidated: bool, unreachable: bool
) -> None:
    error = DBAPIError("select 1", {}, DriverError(sqlstate), connection_invalidated=invalidated)
    assert database_unreachable(error) is unreachable


@pytest.mark.parametrize(
    ("error", "down"),
    [
        (OperationalError("select 1", {}, Exception("gone")), True),
        (PoolTimeout("no connection"), True),
        (ConnectionRefusedError(), True),
        (DBAPIError("select 1", {}, DriverError("57P01")), True),
        (DBAPIError("select 1", {}, DriverError("42P01")), False),  # a bug: raised, never hidden
        (ValueError("a bug"), False),
    ],
)
def test_errors_that_mean_ask_again(error: Exception, down: bool) -> None:
    """``database_down``: what HTTP answers with 503 and the live layer with ``unavailable``."""
    assert database_down(error) is down
