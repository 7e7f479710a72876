"""Connection pool sizing: every connection opened under load is kept for the next request."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
from sqlalchemy import exc, text
from sqlalchemy.pool import QueuePool

from postventa.storage.db import Database


async def test_pool_keeps_every_connection_it_opened_up_to_twice_the_pool_size(
    database_url: str,
) -> None:
    db = Database(database_url, pool_size=2)
    try:
        pool = db.engine.pool
        assert isinstance(pool, QueuePool)
        async with AsyncExitStack() as stack:
            for _ in range(4):
                conn = await stack.enter_async_context(db.engine.connect())
                await conn.execute(text("SELECT 1"))
            assert pool.checkedout() == 4
        # Returned, not closed: the next burst reuses them instead of reconnecting.
        assert pool.checkedin() == 4
        assert pool.overflow() <= 0
    finally:
        await db.dispose()


async def test_pool_refuses_a_connection_beyond_twice_the_pool_size(database_url: str) -> None:
    db = Database(database_url, pool_size=1)
    try:
        pool = db.engine.pool
        assert isinstance(pool, QueuePool)
        pool._timeout = 0.05  # fail fast instead of waiting 30 s for a free connection
        async with AsyncExitStack() as stack:
            for _ in range(2):
                await stack.enter_async_context(db.engine.connect())
            with pytest.raises(exc.TimeoutError, match="QueuePool limit"):
                await stack.enter_async_context(db.engine.connect())
    finally:
        await db.dispose()
