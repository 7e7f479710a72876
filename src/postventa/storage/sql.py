"""Hot statements: written once with SQLAlchemy, run on PostgreSQL without it.

The reads every integrator repeats (E1, E2, E6, E7 and the token lookup) and the writes of E3 and
E1's mark-as-read cost several times more in SQLAlchemy's per-statement machinery than in
PostgreSQL (docs/performance.md, "Raw asyncpg on the hot paths"). So each of their statements is
a :class:`Query`: a SQLAlchemy statement built once, with named bind parameters, which is

* on PostgreSQL compiled once to its SQL text and run with asyncpg's own prepared-statement cache
  on a plain asyncpg connection (:meth:`postventa.storage.db.Database.hot_read` and
  :meth:`~postventa.storage.db.Database.hot_write`), and
* on SQLite, or inside a SQLAlchemy transaction (the operator API, the action guide), executed
  by SQLAlchemy as before.

Both give rows as tuples in the statement's column order, with the same Python values: asyncpg
returns ``timestamptz`` as aware UTC datetimes (what ``UTCDateTime`` normalises to) and decodes
JSON with the codec :func:`init_connection` installs. ``tests/storage/test_sql.py`` compares the
two paths row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import asyncpg
import orjson
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

StatementListener = Callable[[str], None]


class HotConnection:
    """A pooled asyncpg connection, lent by ``Database.hot_read`` for one request's reads."""

    __slots__ = ("listeners", "raw")

    def __init__(self, raw: asyncpg.Connection, listeners: list[StatementListener]) -> None:
        self.raw = raw
        self.listeners = listeners  # tests count statements; empty in production

    def announce(self, sql: str) -> None:
        for listener in self.listeners:
            listener(sql)


Reader = AsyncConnection | HotConnection
"""A connection the hot reads accept: SQLAlchemy's, or a raw asyncpg one from ``hot_read``."""

_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


class Query:
    """One statement with named bind parameters, compiled for asyncpg once, at import time."""

    __slots__ = ("_defaults", "_param_order", "sql", "statement")

    def __init__(self, statement: Executable, *, postgresql: Executable | None = None) -> None:
        """``postgresql``: the same statement in PostgreSQL's own terms, where the portable one
        cannot be compiled ahead (``IN`` over a list, which SQLAlchemy expands per execution,
        is ``= ANY($1)`` over an array there)."""
        self.statement = statement
        target = statement if postgresql is None else postgresql
        compiled = target.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
        self.sql = str(compiled)
        self._param_order = tuple(compiled.positiontup or ())
        # Values written into the statement (``column != "rejected"``) become bind parameters
        # with a value of their own.
        self._defaults = {
            name: value for name, value in compiled.params.items() if value is not None
        }

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional arguments of the compiled text, from the named parameters."""
        return [
            params[name] if name in params else self._defaults[name] for name in self._param_order
        ]


async def fetch(conn: Reader, query: Query, **params: Any) -> Sequence[Sequence[Any]]:
    """Every row of ``query``, as tuples in its column order."""
    if isinstance(conn, AsyncConnection):
        rows: Sequence[Sequence[Any]] = (await conn.execute(query.statement, params)).all()
        return rows
    conn.announce(query.sql)
    records: list[Sequence[Any]] = await conn.raw.fetch(query.sql, *query.args(params))
    return records


async def fetch_one(conn: Reader, query: Query, **params: Any) -> Sequence[Any] | None:
    rows = await fetch(conn, query, **params)
    return rows[0] if rows else None


async def execute(conn: Reader, query: Query, **params: Any) -> None:
    """Run a statement that returns no rows (an INSERT or UPDATE without RETURNING)."""
    if isinstance(conn, AsyncConnection):
        await conn.execute(query.statement, params)
        return
    conn.announce(query.sql)
    await conn.raw.execute(query.sql, *query.args(params))


async def execute_many(conn: Reader, query: Query, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run a statement once per parameter set (one round trip on both paths)."""
    if not rows:
        return
    if isinstance(conn, AsyncConnection):
        await conn.execute(query.statement, list(rows))
        return
    conn.announce(query.sql)
    await conn.raw.executemany(query.sql, [query.args(row) for row in rows])


async def init_connection(conn: asyncpg.Connection) -> None:
    """Decode ``json`` columns as SQLAlchemy's ``JSON`` type does (asyncpg hands back text)."""
    await conn.set_type_codec(
        "json",
        schema="pg_catalog",
        encoder=lambda value: orjson.dumps(value).decode(),
        decoder=orjson.loads,
        format="text",
    )


async def keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing to do.

    asyncpg's default reset sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``
    on every release, one more round trip per request. Hot connections only run the statements of
    this module, in autocommit or in a transaction that ends with its block: no session setting,
    advisory lock, cursor or listener is ever left to undo (row locks end with the transaction).
    asyncpg still ends any open transaction itself before calling this.
    """
