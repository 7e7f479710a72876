"""Connection pool sizing: every connection opened under load is kept for the next request.

A process holds at most ``2 × pool_size`` connections. On SQLite the SQLAlchemy engine has them
all; on PostgreSQL it has half, and the hot reads' asyncpg pool (``Database.hot_read``) the other.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
from sqlalchemy import exc, text
from sqlalchemy.pool import QueuePool

from postventa.storage.db import Database


def _engine_share(db: Database, pool_size: int) -> int:
    return pool_size if db.is_postgres else 2 * pool_size


async def test_pool_keeps_every_connection_it_opened_up_to_its_share(database_url: str) -> None:
    db = Database(database_url, pool_size=2)
    share = _engine_share(db, 2)
    try:
        pool = db.engine.pool
        assert isinstance(pool, QueuePool)
        async with AsyncExitStack() as stack:
            for _ in range(share):
                conn = await stack.enter_async_context(db.engine.connect())
                await conn.execute(text("SELECT 1"))
            assert pool.checkedout() == share
        # Returned, not closed: the next burst reuses them instead of reconnecting.
        assert pool.checkedin() == share
        assert pool.overflow() <= 0
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_hot_reads_have_a_pool_of_the_other_half(postgres_url: str) -> None:
    db = Database(postgres_url, pool_size=2)
    try:
        async with AsyncExitStack() as stack:
            for _ in range(2):
                await stack.enter_async_context(db.hot_read())
            pool = db._hot_pool
            assert pool is not None
            assert pool.get_max_size() == 2
            assert pool.get_idle_size() == 0
        assert pool.get_idle_size() == 2  # kept for the next request
    finally:
        await db.dispose()


async def test_pool_refuses_a_connection_beyond_its_share(database_url: str) -> None:
    db = Database(database_url, pool_size=1)
    try:
        pool = db.engine.pool
        assert isinstance(pool, QueuePool)
        pool._timeout = 0.05  # fail fast instead of waiting 30 s for a free connection
        async with AsyncExitStack() as stack:
            for _ in range(_engine_share(db, 1)):
                await stack.enter_async_context(db.engine.connect())
            with pytest.raises(exc.TimeoutError, match="QueuePool limit"):
                await stack.enter_async_context(db.engine.connect())
    finally:
        await db.dispose()
