"""Writing notifications into the outbox, inside the caller's transaction.

An action that changes something an application must hear about calls :func:`notify` with its own
connection, before its transaction ends: the outbox rows commit or roll back with the change
(Zulip's ``send_event_on_commit``, Synapse's ``call_after``, made durable). Nothing is sent here;
the dispatcher (``dispatcher.py``) reads committed rows.

Who is notified (docs/compatibility.md, "Notifications"): every application that

* has a callback URL and the topic ``messages`` among its topics, and
* the user has authorised, i.e. holds an access token of (expired or not: an authorisation
  outlives the 6-hour tokens it produces, as ML's refresh tokens do), and
* whose topics are not deactivated (the optional §13.4 fall-back, ``application_webhook_health``).

The payload is serialised here, once, so a payload that cannot be serialised fails inside the
action. Each attempt only appends ``attempts`` and ``sent`` (:func:`delivery_body`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select

from postventa.api.serializers import timestamp
from postventa.storage.notification_tables import application_webhook_health, notifications
from postventa.storage.sql import Query, Reader, execute_many, fetch
from postventa.storage.tables import access_tokens, applications

TOPIC_MESSAGES = "messages"


_SUBSCRIBED = Query(
    select(applications.c.id, applications.c.topics)
    .where(
        applications.c.callback_url.is_not(None),
        applications.c.id.in_(
            select(access_tokens.c.application_id).where(
                access_tokens.c.user_id == bindparam("user_id")
            )
        ),
        # Topics deactivated after slow answers (§13.4): nothing is kept for that period.
        applications.c.id.not_in(
            select(application_webhook_health.c.application_id).where(
                application_webhook_health.c.deactivated_at.is_not(None)
            )
        ),
    )
    .order_by(applications.c.id)
)
_INSERT = Query(insert(notifications))  # every column, each a bind parameter of its name
_NOT_YET = dict.fromkeys(
    ("claimed_until", "claim_token", "last_attempt_at", "delivered_at", "missed_at")
)


async def subscribed_applications(conn: Reader, *, user_id: int, topic: str) -> list[int]:
    """Applications with a callback for ``topic`` that ``user_id`` has authorised (one query)."""
    rows = await fetch(conn, _SUBSCRIBED, user_id=user_id)
    return [app_id for app_id, topics in rows if topic in (topics or ())]


def build_payload(
    *,
    notification_id: str,
    resource: str,
    user_id: int,
    topic: str,
    action: str,
    application_id: int,
    received: datetime,
) -> bytes:
    """The §13.2 payload without ``attempts``/``sent``; ``_id`` and ``id`` carry the same value."""
    body: dict[str, Any] = {
        "_id": notification_id,
        "id": notification_id,
        "resource": resource,
        "user_id": user_id,
        "topic": topic,
        "actions": [action],
        "application_id": application_id,
        "received": timestamp(received),
    }
    return orjson.dumps(body)


def delivery_body(payload: bytes, *, attempts: int, sent: datetime) -> bytes:
    """The bytes POSTed for one attempt: the stored payload plus ``attempts`` and ``sent``."""
    assert payload.endswith(b"}")
    sent_at = timestamp(sent) or ""
    return payload[:-1] + b',"attempts":%d,"sent":"%s"}' % (attempts, sent_at.encode())


async def notify(
    conn: Reader,
    *,
    seller_id: int,
    user_id: int,
    action: str,
    resources: Sequence[str],
    at: datetime,
    topic: str = TOPIC_MESSAGES,
) -> int:
    """Queue one notification per subscribed application and resource; returns how many."""
    if not resources:
        return 0
    app_ids = await subscribed_applications(conn, user_id=user_id, topic=topic)
    rows: list[dict[str, Any]] = []
    for application_id in app_ids:
        for resource in resources:
            notification_id = str(uuid.uuid4())
            payload = build_payload(
                notification_id=notification_id,
                resource=resource,
                user_id=user_id,
                topic=topic,
                action=action,
                application_id=application_id,
                received=at,
            )
            rows.append(
                {
                    "id": notification_id,
                    "seller_id": seller_id,
                    "application_id": application_id,
                    "user_id": user_id,
                    "topic": topic,
                    "action": action,
                    "resource": resource,
                    "payload": payload.decode(),
                    "received_at": at,
                    "status": "pending",
                    "attempts": 0,
                    "window_start": at,
                    "window_attempts": 0,
                    "next_attempt_at": at,
                    **_NOT_YET,
                }
            )
    await execute_many(conn, _INSERT, rows)
    return len(rows)
