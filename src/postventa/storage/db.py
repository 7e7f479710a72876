"""The engine, and the two kinds of transaction every action uses.

* ``db.write()`` opens a transaction that will write. On SQLite it starts with ``BEGIN IMMEDIATE``
  so the write lock is taken up front: a deferred transaction that reads first and writes later can
  fail with "database is locked" when another process wrote in between, and no retry can fix it.
* ``db.read()`` is for reads: a plain transaction on SQLite (a consistent WAL snapshot);
  autocommit on PostgreSQL, where READ COMMITTED gives each statement its own snapshot anyway
  and a read-only BEGIN/COMMIT would only add two round trips.
* ``db.hot_read()`` is for the few reads every integrator repeats (storage/sql.py): on PostgreSQL
  a plain asyncpg connection from a pool of its own, in autocommit; on SQLite the same as
  ``read()``. ``db.hot_write()`` is a transaction on that pool for E3 and E1's mark-as-read; on
  SQLite the same as ``write()``. The two pools split ``POSTVENTA_DB_POOL_SIZE × 2`` connections
  between them.

SQLite runs in WAL mode with ``synchronous=FULL``: a commit is on disk before the response is
sent, and readers never wait for the writer. PostgreSQL runs at READ COMMITTED; the actions rely on
row locks and relative counter updates, never on read-then-write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from postventa.storage.sql import (
    HotConnection,
    Reader,
    StatementListener,
    init_connection,
    keep_session,
)

_BEGIN_OPTION = "postventa_sqlite_begin"


def _prepare_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself, so we choose its mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class DatabaseUnavailable(Exception):
    """The database refused or dropped the connection (the API answers 503)."""


# What asyncpg raises when PostgreSQL cannot be reached or refuses more connections; SQLAlchemy
# wraps the same failures in OperationalError on the other pool.
_UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,
)


@asynccontextmanager
async def _connected(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    # SQLAlchemy wraps the driver's errors in OperationalError, but not a refused connection
    # (asyncpg raises OSError before any DBAPI object exists): both mean 503, not 500.
    try:
        conn = await engine.connect()
    except _UNAVAILABLE as exc:
        raise DatabaseUnavailable(str(exc)) from exc
    try:
        yield conn
    finally:
        await conn.close()


class Database:
    """One engine per process; actions borrow connections through :meth:`read` and :meth:`write`."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite" and parsed.database in (None, "", ":memory:"):
            raise ValueError("Postventa needs a file SQLite database (WAL, several processes)")
        # At most 2 × pool_size connections, all of them kept once opened: with max_overflow,
        # every connection above pool_size was closed when returned, so a steady load above
        # pool_size concurrent requests opened a new PostgreSQL connection (a backend fork and a
        # handshake) for many requests (docs/performance.md, pool sizing). On PostgreSQL the hot
        # reads' asyncpg pool takes half of them.
        self._hot_pool_size = pool_size
        engine_pool = pool_size if self.dialect == "postgresql" else 2 * pool_size
        kwargs.update(pool_size=engine_pool, max_overflow=0)
        self.engine = create_async_engine(url, **kwargs)
        self._hot_pool: asyncpg.Pool | None = None
        self.statement_listeners: list[StatementListener] = []
        if self.dialect == "sqlite":
            _prepare_sqlite(self.engine)
            self._write_engine = self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            self._read_engine = self.engine
        else:
            self._write_engine = self.engine
            # At READ COMMITTED every statement takes its own snapshot, so a read-only
            # BEGIN ... COMMIT buys no consistency, only two round trips: reads run in autocommit.
            self._read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits when the block ends and rolls back on any exception."""
        async with _connected(self._write_engine) as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """Reads that change nothing. SQLite: one read transaction, a consistent snapshot (WAL).
        PostgreSQL: autocommit, each statement its own snapshot, as READ COMMITTED gives anyway.
        """
        async with _connected(self._read_engine) as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def hot_read(self) -> AsyncIterator[Reader]:
        """A connection for the hot reads of storage/sql.py (see the module docstring)."""
        if not self.is_postgres:
            async with self.read() as conn:
                yield conn
            return
        pool = self._hot_pool or await self._open_hot_pool()
        try:
            raw = await pool.acquire()
        except _UNAVAILABLE as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        try:
            yield HotConnection(raw, self.statement_listeners)
        except _UNAVAILABLE as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        finally:
            await pool.release(raw)

    @asynccontextmanager
    async def hot_write(self) -> AsyncIterator[Reader]:
        """A transaction for the hot writes of storage/sql.py: on PostgreSQL on a connection of
        the asyncpg pool (committed when the block ends, rolled back on any exception); on
        SQLite the same as :meth:`write`."""
        if not self.is_postgres:
            async with self.write() as conn:
                yield conn
            return
        async with self.hot_read() as conn:
            assert isinstance(conn, HotConnection)
            async with conn.raw.transaction():
                yield conn

    async def _open_hot_pool(self) -> asyncpg.Pool:
        dsn = make_url(self.url).set(drivername="postgresql").render_as_string(False)
        try:
            pool = await asyncpg.create_pool(
                dsn,
                min_size=0,
                max_size=self._hot_pool_size,
                init=init_connection,
                reset=keep_session,
            )
        except _UNAVAILABLE as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        if self._hot_pool is None:  # another request may have opened one meanwhile
            self._hot_pool = pool
        else:
            await pool.close()
        return self._hot_pool

    async def dispose(self) -> None:
        if self._hot_pool is not None:
            await self._hot_pool.close()
            self._hot_pool = None
        await self.engine.dispose()
