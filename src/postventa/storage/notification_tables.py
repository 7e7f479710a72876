"""The notification outbox and its delivery log (§13), on the shared ``metadata``.

``notifications`` is both the transactional outbox and the delivery state of each notification:
a row is inserted in the same transaction as the message or the read that causes it, and the
dispatcher claims it, delivers it and records the outcome on it. ``notification_attempts`` keeps
one row per attempt with what was sent and what came back, for ``GET /missed_feeds`` and the
operator inspector. Both carry ``seller_id`` (the seller of the conversation the notification is
about) so they shard with the conversation they describe.

Imported at the bottom of ``storage/tables.py`` so Alembic and the test fixtures see it.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from postventa.storage.tables import metadata
from postventa.storage.types import UTCDateTime

notifications = Table(
    "notifications",
    metadata,
    # The notification id of the payload (``_id``/``id``) and the X-Postventa-Delivery header:
    # a UUID, stable across retries.
    Column("id", String(36), primary_key=True),
    Column("seller_id", BigInteger, nullable=False),
    Column("application_id", BigInteger, nullable=False),
    # The user the notification is for: the recipient (created) or the sender (read).
    Column("user_id", BigInteger, nullable=False),
    Column("topic", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("resource", String(64), nullable=False),
    # The payload without ``attempts`` and ``sent``, serialised once when the row is written;
    # each attempt appends those two fields (notifications/outbox.py: delivery_body).
    Column("payload", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    # pending -> delivered | missed; a redelivery puts a row back to pending.
    Column("status", String(16), nullable=False, server_default="pending"),
    # Attempts made in all (the payload's ``attempts`` counts up from 1).
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    # The current retry window: its start and the attempts made in it (reset by a redelivery).
    Column("window_start", UTCDateTime, nullable=False),
    Column("window_attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    # Lease: a dispatcher that claimed the row owns it until then (or until it records a result).
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("claim_token", String(32), nullable=True),
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("missed_at", UTCDateTime, nullable=True),
)
# The dispatcher's claim reads only pending rows, oldest due first.
Index(
    "ix_notifications_due",
    notifications.c.next_attempt_at,
    sqlite_where=notifications.c.status == "pending",
    postgresql_where=notifications.c.status == "pending",
)
# GET /missed_feeds and the inspector: one application's notifications, newest first.
Index(
    "ix_notifications_application",
    notifications.c.application_id,
    notifications.c.status,
    notifications.c.received_at,
)

notification_attempts = Table(
    "notification_attempts",
    metadata,
    Column("notification_id", String(36), primary_key=True),
    Column("attempt", Integer, primary_key=True, autoincrement=False),
    Column("seller_id", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    # {"url", "headers", "data"} as §13.5 shows it.
    Column("request", JSON, nullable=False),
    # {"req_time", "http_code", "body", "headers"} (+ "error" when no answer came back).
    Column("response", JSON, nullable=False),
    Column("outcome", String(16), nullable=False),
    ForeignKeyConstraint(["notification_id"], ["notifications.id"], ondelete="CASCADE"),
)

# Optional per-application fall-back of §13.4: after ``deactivate_after`` attempts in a row
# without a 200 in time (slow, failing or unreachable), the application's topics are
# deactivated (``deactivated_at``) and nothing new is queued for it until the operator API
# re-subscribes it. Only applications that opted in have a row; the policy is off for others.
application_webhook_health = Table(
    "application_webhook_health",
    metadata,
    Column("application_id", BigInteger, primary_key=True, autoincrement=False),
    Column("deactivate_after", Integer, nullable=True),
    Column("consecutive_failures", Integer, nullable=False, server_default=text("0")),
    Column("deactivated_at", UTCDateTime, nullable=True),
)
