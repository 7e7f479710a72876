"""The optional §13.4 fall-back: deactivating an application's topics after repeated failures.

Off unless an application opts in with ``deactivate_after`` (operator API). The dispatcher
counts attempts in a row that got no 200 in time (``dispatcher._track_failures``); when the count
reaches ``deactivate_after``, ``deactivated_at`` is set and :mod:`outbox` stops queueing
notifications for the application ("notifications of the deactivated period are not kept").
Re-subscribing clears it. Notifications queued before the deactivation keep their retries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.errors import Code, PostventaError
from postventa.services import Services
from postventa.storage.notification_tables import application_webhook_health
from postventa.storage.tables import applications

_H = application_webhook_health.c


async def _require_application(conn: AsyncConnection, application_id: int) -> None:
    found = await conn.scalar(select(applications.c.id).where(applications.c.id == application_id))
    if found is None:
        raise PostventaError(Code.OPERATOR_NOT_FOUND, kind="Application", id=application_id)


async def _state(conn: AsyncConnection, application_id: int) -> dict[str, Any]:
    row = (
        await conn.execute(
            select(_H.deactivate_after, _H.consecutive_failures, _H.deactivated_at).where(
                _H.application_id == application_id
            )
        )
    ).first()
    deactivated_at: datetime | None = None if row is None else row.deactivated_at
    return {
        "application_id": application_id,
        "deactivate_after": None if row is None else row.deactivate_after,
        "consecutive_failures": 0 if row is None else row.consecutive_failures,
        "active": deactivated_at is None,
        "deactivated_at": deactivated_at,
    }


async def get_health(services: Services, *, application_id: int) -> dict[str, Any]:
    async with services.db.read() as conn:
        await _require_application(conn, application_id)
        return await _state(conn, application_id)


async def do_set_policy(
    services: Services, *, application_id: int, deactivate_after: int | None
) -> dict[str, Any]:
    insert = pg_insert if services.db.is_postgres else sqlite_insert
    async with services.db.write() as conn:
        await _require_application(conn, application_id)
        await conn.execute(
            insert(application_webhook_health)
            .values(application_id=application_id, deactivate_after=deactivate_after)
            .on_conflict_do_update(
                index_elements=[_H.application_id], set_={"deactivate_after": deactivate_after}
            )
        )
        return await _state(conn, application_id)


async def do_resubscribe(services: Services, *, application_id: int) -> dict[str, Any]:
    async with services.db.write() as conn:
        await _require_application(conn, application_id)
        await conn.execute(
            update(application_webhook_health)
            .where(_H.application_id == application_id)
            .values(deactivated_at=None, consecutive_failures=0)
        )
        return await _state(conn, application_id)
