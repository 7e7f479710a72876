"""Action-guide storage: option uses (caps, throttle) and the per seller+sale lock.

The lock (§11.6: 409 "There is another request locking this operation")
-------------------------------------------------------------------------
Mercado Libre holds a lock per seller and sale while an option runs, so that two concurrent
executions cannot both pass the cap check. :func:`option_transaction` gives the action its write
transaction with that lock held, and raises :class:`OperationLocked` at once (no waiting) when
another request, in this or any other server process, holds it:

* **PostgreSQL**: ``pg_try_advisory_xact_lock(key)`` as the first statement of the transaction, on a
  64-bit key hashed from ``(seller_id, pack_id)``. The server releases it at commit or rollback, and
  when the holder's connection dies, so a crashed process never leaves it behind.
* **SQLite**: a row in ``action_guide_locks`` with a lease. It is taken in a short transaction of
  its own (``BEGIN IMMEDIATE`` serialises the check-and-insert across processes), the option runs
  in a second transaction, and the row is deleted afterwards. A holder that died leaves a row that
  expires after :data:`LEASE`; the next request takes it over.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.storage.action_guide_tables import action_guide_locks, action_guide_uses
from postventa.storage.db import Database

LEASE = timedelta(seconds=30)


class OperationLocked(Exception):
    """Another request is executing an option on the same seller and sale."""


def lock_key(seller_id: int, pack_id: int) -> int:
    """A signed 64-bit advisory-lock key for one seller's sale."""
    digest = hashlib.blake2b(f"action_guide:{seller_id}:{pack_id}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def _wall_now() -> datetime:
    # Leases protect against crashed processes: wall-clock time, not the (movable) sandbox clock.
    return datetime.fromtimestamp(time.time(), UTC)


async def try_lease(
    conn: AsyncConnection, *, seller_id: int, pack_id: int, holder: str, now: datetime
) -> bool:
    """Take the SQLite lock row unless someone holds a live lease (call in a write transaction)."""
    key = and_(action_guide_locks.c.seller_id == seller_id, action_guide_locks.c.pack_id == pack_id)
    await conn.execute(
        delete(action_guide_locks).where(key, action_guide_locks.c.expires_at <= now)
    )
    if (await conn.execute(select(action_guide_locks.c.holder).where(key))).first() is not None:
        return False
    await conn.execute(
        insert(action_guide_locks).values(
            seller_id=seller_id, pack_id=pack_id, holder=holder, expires_at=now + LEASE
        )
    )
    return True


@asynccontextmanager
async def option_transaction(
    db: Database, *, seller_id: int, pack_id: int
) -> AsyncIterator[AsyncConnection]:
    """A write transaction holding the seller+sale lock; :class:`OperationLocked` if taken."""
    if db.is_postgres:
        async with db.write() as conn:
            got = await conn.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"),
                {"key": lock_key(seller_id, pack_id)},
            )
            if not got:
                raise OperationLocked
            yield conn
        return
    holder = secrets.token_hex(16)
    async with db.write() as conn:
        taken = await try_lease(
            conn, seller_id=seller_id, pack_id=pack_id, holder=holder, now=_wall_now()
        )
    if not taken:
        raise OperationLocked
    try:
        async with db.write() as conn:
            yield conn
    finally:
        async with db.write() as conn:
            await conn.execute(
                delete(action_guide_locks).where(
                    action_guide_locks.c.seller_id == seller_id,
                    action_guide_locks.c.pack_id == pack_id,
                    action_guide_locks.c.holder == holder,
                )
            )


async def option_uses(
    conn: AsyncConnection, *, seller_id: int, pack_id: int
) -> list[tuple[str, datetime]]:
    query = select(action_guide_uses.c.option_id, action_guide_uses.c.used_at).where(
        action_guide_uses.c.seller_id == seller_id, action_guide_uses.c.pack_id == pack_id
    )
    return [(row.option_id, row.used_at) for row in await conn.execute(query)]


async def record_use(
    conn: AsyncConnection,
    *,
    seller_id: int,
    pack_id: int,
    option_id: str,
    message_id: str,
    at: datetime,
) -> None:
    await conn.execute(
        insert(action_guide_uses).values(
            seller_id=seller_id,
            pack_id=pack_id,
            message_id=message_id,
            option_id=option_id,
            used_at=at,
        )
    )


async def uses_since(conn: AsyncConnection, *, seller_id: int, since: datetime) -> int:
    """The seller's option executions since ``since`` (the throttle's window)."""
    count = await conn.scalar(
        select(func.count()).where(
            action_guide_uses.c.seller_id == seller_id, action_guide_uses.c.used_at > since
        )
    )
    return int(count or 0)
