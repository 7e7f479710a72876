"""The sandbox clock: read it, advance it, set it. Refused in production mode.

The offset is stored in ``sandbox_clock`` (one row) so that every server process agrees; each
request re-reads it (one primary-key read, sandbox mode only) before anything time-based runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from postventa.clock import SandboxClock
from postventa.errors import Code, PostventaError
from postventa.services import Services
from postventa.storage.tables import sandbox_clock

_ROW = 1


async def sync_clock(services: Services) -> None:
    """Adopt the stored offset (no-op outside sandbox mode)."""
    clock = services.clock
    if not isinstance(clock, SandboxClock):
        return
    async with services.db.read() as conn:
        offset_us = await conn.scalar(
            select(sandbox_clock.c.offset_us).where(sandbox_clock.c.id == _ROW)
        )
    clock.set_offset(timedelta(microseconds=offset_us or 0))


def _sandbox(services: Services) -> SandboxClock:
    if not isinstance(services.clock, SandboxClock):
        raise PostventaError(Code.CLOCK_FROZEN_IN_PRODUCTION)
    return services.clock


async def do_move_clock(
    services: Services, *, advance: timedelta | None = None, to: datetime | None = None
) -> datetime:
    """Advance the clock by ``advance`` or set it to ``to``; returns the new "now"."""
    clock = _sandbox(services)
    async with services.db.write() as conn:
        stored = await conn.scalar(
            select(sandbox_clock.c.offset_us).where(sandbox_clock.c.id == _ROW)
        )
        current = timedelta(microseconds=stored or 0)
        offset = to - clock.base.now() if to is not None else current + (advance or timedelta(0))
        offset_us = int(offset / timedelta(microseconds=1))
        wall = clock.base.now()
        insert = pg_insert if services.db.is_postgres else sqlite_insert
        await conn.execute(
            insert(sandbox_clock)
            .values(id=_ROW, offset_us=offset_us, updated_at=wall)
            .on_conflict_do_update(
                index_elements=[sandbox_clock.c.id],
                set_={"offset_us": offset_us, "updated_at": wall},
            )
        )
    clock.set_offset(timedelta(microseconds=offset_us))
    return clock.now()


async def do_reset_clock(services: Services) -> datetime:
    clock = _sandbox(services)
    async with services.db.write() as conn:
        await conn.execute(update(sandbox_clock).values(offset_us=0, updated_at=clock.base.now()))
    clock.set_offset(timedelta(0))
    return clock.now()
