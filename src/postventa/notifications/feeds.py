"""Reading notifications back: the missed feed (§13.5) and the operator's inspector."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.api.serializers import timestamp
from postventa.errors import Code, PostventaError
from postventa.model import Page
from postventa.services import Services
from postventa.storage.notification_tables import notification_attempts, notifications

_N = notifications.c
_A = notification_attempts.c


async def list_missed(
    services: Services, *, application_id: int, topic: str | None, page: Page
) -> list[dict[str, Any]]:
    """Missed notifications of the last 2 days (by the sandbox clock), newest first, §13.5 shape.

    ``request``/``response`` are those of the last attempt; ``sent`` is when it was made.
    """
    cutoff = services.clock.now() - timedelta(
        seconds=services.settings.missed_feed_retention_seconds
    )
    query = (
        select(
            _N.id,
            _N.resource,
            _N.user_id,
            _N.topic,
            _N.action,
            _N.application_id,
            _N.attempts,
            _N.last_attempt_at,
            _N.received_at,
            _A.request,
            _A.response,
        )
        .select_from(
            notifications.outerjoin(
                notification_attempts,
                and_(_A.notification_id == _N.id, _A.attempt == _N.attempts),
            )
        )
        .where(
            _N.application_id == application_id,
            _N.status == "missed",
            _N.received_at >= cutoff,
        )
        .order_by(_N.received_at.desc(), _N.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    if topic is not None:
        query = query.where(_N.topic == topic)
    async with services.db.read() as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "_id": row.id,
            "resource": row.resource,
            "user_id": row.user_id,
            "topic": row.topic,
            "actions": [row.action],
            "application_id": row.application_id,
            "attempts": row.attempts,
            "sent": timestamp(row.last_attempt_at),
            "received": timestamp(row.received_at),
            "request": row.request,
            "response": row.response,
        }
        for row in rows
    ]


@dataclass(frozen=True)
class InspectorFilter:
    application_id: int
    status: str | None
    limit: int
    offset: int


async def list_deliveries(services: Services, query: InspectorFilter) -> list[dict[str, Any]]:
    """One application's notifications, newest first, each with every attempt made."""
    select_rows = (
        select(notifications)
        .where(_N.application_id == query.application_id)
        .order_by(_N.received_at.desc(), _N.id.desc())
        .limit(query.limit)
        .offset(query.offset)
    )
    if query.status is not None:
        select_rows = select_rows.where(_N.status == query.status)
    async with services.db.read() as conn:
        rows = (await conn.execute(select_rows)).all()
        attempts = await _attempts_of(conn, [row.id for row in rows])
    return [
        {
            "id": row.id,
            "application_id": row.application_id,
            "seller_id": row.seller_id,
            "user_id": row.user_id,
            "topic": row.topic,
            "actions": [row.action],
            "resource": row.resource,
            "status": row.status,
            "attempts": row.attempts,
            "received": timestamp(row.received_at),
            "next_attempt_at": timestamp(row.next_attempt_at) if row.status == "pending" else None,
            "delivered": timestamp(row.delivered_at),
            "missed": timestamp(row.missed_at),
            "payload": row.payload,
            "attempt_log": attempts.get(row.id, []),
        }
        for row in rows
    ]


async def _attempts_of(conn: AsyncConnection, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    if not ids:
        return found
    rows = await conn.execute(
        select(notification_attempts)
        .where(_A.notification_id.in_(ids))
        .order_by(_A.notification_id, _A.attempt)
    )
    for row in rows:
        found.setdefault(row.notification_id, []).append(
            {
                "attempt": row.attempt,
                "at": timestamp(row.at),
                "outcome": row.outcome,
                "request": row.request,
                "response": row.response,
            }
        )
    return found


async def do_redeliver(services: Services, *, notification_id: str) -> datetime:
    """Queue a notification again now, with a fresh retry window; attempts keep counting up."""
    now = services.clock.now()
    async with services.db.write() as conn:
        result = await conn.execute(
            update(notifications)
            .where(_N.id == notification_id)
            .values(
                status="pending",
                next_attempt_at=now,
                window_start=now,
                window_attempts=0,
                claimed_until=None,
                claim_token=None,
                missed_at=None,
            )
        )
        if result.rowcount != 1:
            raise PostventaError(Code.OPERATOR_NOT_FOUND, kind="Notification", id=notification_id)
    return now
