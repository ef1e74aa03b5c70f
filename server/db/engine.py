"""The async engine and session factory, for SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event, text
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# PostgreSQL's connection pool, per process: opened as needed and kept. (With a smaller
# pool and an overflow, every connection beyond the pool was closed when handed back and
# opened afresh by the next request of a burst: a connect per post at 08:45.)
CONNECTIONS = 30
POOL_TIMEOUT = 30.0
# A pooled connection idle this long is pinged before it is handed out (see _ping_if_idle).
PING_AFTER_IDLE = 10.0


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. ``execute`` is typed as returning a plain Result;
    for those statements it is a CursorResult, which carries the count."""
    return cast("CursorResult[Any]", result).rowcount


class Database:
    """Owns one async engine and hands out sessions."""

    def __init__(self, url: str, *, echo: bool = False, connections: int = CONNECTIONS) -> None:
        self.url = url
        self.connections = connections
        self.engine: AsyncEngine = create_engine(url, echo=echo, connections=connections)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads on PostgreSQL run without BEGIN and ROLLBACK: under READ COMMITTED every statement
        # sees its own snapshot anyway, so a read-only transaction only added two round trips.
        # SQLite keeps its transaction: there it is what makes a read's statements agree.
        self.readers = self.sessions
        if self.engine.dialect.name != "sqlite":
            self.readers = async_sessionmaker(
                self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
            )
        # PostgreSQL sessions take turns at the pool's connections first come, first served
        # (see _turn). The pool alone is not fair: a connection handed back goes to whichever
        # task asks next, often a newcomer, while the waiter woken for it finds it gone and
        # queues again at the back. Under a burst (a thousand messages at once) some waiters
        # lost every time and got the pool timeout (503) although the pool kept serving others.
        self._turns: asyncio.Semaphore | None = None
        # SQLite has one writer: the server's writes take turns here rather than meet "database is locked".
        self.write_lock = asyncio.Lock()
        self._last_turn_ended = time.monotonic()
        if not self.is_sqlite:
            self._turns = asyncio.Semaphore(connections)

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite database."""
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that rolls back on error and always closes."""
        async with self._turn(), self.sessions() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only: on PostgreSQL outside a transaction (see ``readers``)."""
        async with self._turn(), self.readers() as session:
            yield session

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """Wait for a turn at a connection, in order of arrival.

        A long queue that keeps moving is waited out: the process is busy, not the database
        unreachable. Only when no session has ended for ``POOL_TIMEOUT`` seconds (every
        connection stuck) does the wait fail, as the pool's own timeout would.
        """
        turns = self._turns
        if turns is None:
            yield
            return
        if turns.locked():
            await self._queue_for(turns)
        else:
            await turns.acquire()
        try:
            yield
        finally:
            self._last_turn_ended = time.monotonic()
            turns.release()

    async def _queue_for(self, turns: asyncio.Semaphore) -> None:
        started = time.monotonic()
        waiting = asyncio.ensure_future(turns.acquire())
        try:
            while True:
                stalled = time.monotonic() - max(started, self._last_turn_ended)
                if stalled >= POOL_TIMEOUT:
                    raise PoolTimeout(
                        f"no database session ended for {POOL_TIMEOUT:.0f} s "
                        f"({self.connections} connections in use)"
                    )
                done, _ = await asyncio.wait({waiting}, timeout=POOL_TIMEOUT - stalled)
                if done:
                    waiting.result()
                    return
        except BaseException:
            waiting.cancel()
            if waiting.done() and not waiting.cancelled() and waiting.exception() is None:
                turns.release()  # the turn came just as the wait was given up
            raise

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def create_engine(url: str, *, echo: bool = False, connections: int = CONNECTIONS) -> AsyncEngine:
    """Create an async engine; SQLite gets WAL, foreign keys and a busy timeout.

    PostgreSQL: at most ``connections`` per process (``HOMEROOM_DATABASE_CONNECTIONS``), of
    opened as a burst needs them and kept open (``pool_recycle`` renews them every half hour).
    """
    parsed = make_url(url)
    # Parameters (emails, password hashes, message text) never reach logs or error text.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(
            pool_size=connections,
            max_overflow=0,
            pool_timeout=POOL_TIMEOUT,
            pool_recycle=1800,
        )
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine.sync_engine.pool, "checkin", _note_checkin)
        event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that sat idle in the pool, rather than every connection at every checkout.

    ``pool_pre_ping`` costs a round trip per session, about a sixth of a class post's CPU.
    A connection handed back moments ago is alive unless PostgreSQL restarted in between;
    that one statement then fails with a disconnect, and SQLAlchemy invalidates the whole
    pool, so the next sessions connect afresh. A connection idle for longer (a quiet night,
    a failover) is checked first and replaced without anyone seeing an error.
    """
    checked_in = record.info.get("checked_in")
    if checked_in is not None and time.monotonic() - checked_in < PING_AFTER_IDLE:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:  # the pool retries the checkout with a new connection
        raise DisconnectionError() from error


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# SQLSTATE classes meaning "the database is not there right now": 08 connection exceptions,
# 57P operator intervention (admin shutdown, crash shutdown, cannot connect now: a restart).
UNREACHABLE_SQLSTATES = ("08", "57P")


def database_unreachable(exc: DBAPIError) -> bool:
    """Whether a driver error means the database is unreachable (asyncpg reports these as plain ``Error``)."""
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return isinstance(state, str) and state.startswith(UNREACHABLE_SQLSTATES)


def database_down(exc: BaseException) -> bool:
    """Whether an error from a database call means "unavailable, ask again" (HTTP answers it with 503)."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout, OSError)):
        return True
    return isinstance(exc, DBAPIError) and database_unreachable(exc)
