"""The schema: the single ``MetaData`` that Alembic's ``env.py`` imports.

Every conversation-scoped table carries ``seller_id`` first in its key so the data could be
sharded by seller. A conversation is keyed by ``(seller_id, pack_id)``, where ``pack_id`` is the
id the API addresses it by: the pack id, or the order id for an order without a pack (§1.2).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from postventa.storage.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("nickname", String(64), nullable=False, unique=True),
    Column("site_id", String(3), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # "user", or "agent" for the per-site AI messaging agents (§12).
    Column("kind", String(16), nullable=False, server_default="user"),
    Column("deactivated", Boolean, nullable=False, server_default=text("false")),
    Column("restricted", Boolean, nullable=False, server_default=text("false")),
)

applications = Table(
    "applications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("owner_user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Webhook subscription (§13.1): one callback URL and a set of topics.
    Column("callback_url", String(2048), nullable=True),
    Column("topics", JSON, nullable=True),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    # SHA-256 hex of the token: the token itself is never stored.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False, index=True),
    # NULL for a token not bound to an application (answers "Application id is required" on send).
    Column("application_id", BigInteger, ForeignKey("applications.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column("seller_id", BigInteger, ForeignKey("users.id"), primary_key=True),
    Column("pack_id", BigInteger, primary_key=True, autoincrement=False),
    Column("buyer_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("site_id", String(3), nullable=False),
    # True when pack_id is the id of an order that has no pack (§1.2).
    Column("is_order", Boolean, nullable=False, server_default=text("false")),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("substatus", String(64), nullable=True),
    Column("status_date", UTCDateTime, nullable=False),
    Column("claim_ids", JSON, nullable=True),
    Column("shipping_id", BigInteger, nullable=True),
    # Unread counters, one per participant; see storage/unread.py for how they stay exact.
    Column("seller_unread", Integer, nullable=False, server_default=text("0")),
    Column("buyer_unread", Integer, nullable=False, server_default=text("0")),
    Column("message_count", Integer, nullable=False, server_default=text("0")),
    # Rejected messages each side must not see (from the other side), for paging.total.
    Column("seller_hidden", Integer, nullable=False, server_default=text("0")),
    Column("buyer_hidden", Integer, nullable=False, server_default=text("0")),
    Column("last_message_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # What the blocking rules read besides the orders (rules/blocking.py): conversation-level
    # facts set through the operator API, as a JSON object (ConversationFacts).
    Column("facts", JSON, nullable=True),
    Column("last_buyer_message_at", UTCDateTime, nullable=True),
    Column("last_seller_message_at", UTCDateTime, nullable=True),
    # Who wrote first: "buyer", "seller" or "action_guide" (E10); NULL while empty.
    Column("opened_by", String(16), nullable=True),
)
# GET /messages/unread reads only these partial indexes: its cost grows with the caller's
# conversations that have unread messages, never with messages or read conversations.
Index(
    "ix_conversations_seller_unread",
    conversations.c.seller_id,
    conversations.c.last_message_at,
    sqlite_where=conversations.c.seller_unread > 0,
    postgresql_where=conversations.c.seller_unread > 0,
)
Index(
    "ix_conversations_buyer_unread",
    conversations.c.buyer_id,
    conversations.c.last_message_at,
    sqlite_where=conversations.c.buyer_unread > 0,
    postgresql_where=conversations.c.buyer_unread > 0,
)
Index("ix_conversations_buyer", conversations.c.buyer_id)

orders = Table(
    "orders",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("seller_id", BigInteger, nullable=False),
    # The real pack id, or NULL: the conversation is then addressed by the order id.
    Column("pack_id", BigInteger, nullable=True),
    Column("buyer_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("site_id", String(3), nullable=False),
    Column("status", String(32), nullable=False, server_default="paid"),
    Column("date_created", UTCDateTime, nullable=False),
    # Order-side facts the blocking rules read (logistic type, shipment, cancellation...), as
    # a JSON object (OrderFacts), set through the operator API.
    Column("facts", JSON, nullable=True),
    # What was bought: [{"id", "title", "quantity", "unit_price", "currency_id"}].
    Column("items", JSON, nullable=True),
    # The conversation this order's messages live in.
    Column("conversation_pack_id", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["seller_id", "conversation_pack_id"],
        ["conversations.seller_id", "conversations.pack_id"],
    ),
)
Index("ix_orders_seller_id_conversation_pack_id", orders.c.seller_id, orders.c.conversation_pack_id)

messages = Table(
    "messages",
    metadata,
    # 32 lowercase hex, time-ordered (ids.new_message_id): inserts stay at the index's right edge.
    Column("id", String(32), primary_key=True),
    Column("seller_id", BigInteger, nullable=False),
    Column("pack_id", BigInteger, nullable=False),
    Column("from_user_id", BigInteger, nullable=False),
    Column("to_user_id", BigInteger, nullable=False),
    Column("client_id", BigInteger, nullable=True),
    Column("site_id", String(3), nullable=False),
    Column("subject", String(255), nullable=True),
    Column("text", Text, nullable=False),
    Column("status", String(24), nullable=False, server_default="available"),
    Column("moderation_status", String(16), nullable=False, server_default="clean"),
    Column("moderation_reason", String(32), nullable=True),
    Column("moderation_source", String(16), nullable=False, server_default="online"),
    Column("moderation_date", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("available_at", UTCDateTime, nullable=True),
    Column("notified_at", UTCDateTime, nullable=True),
    Column("read_at", UTCDateTime, nullable=True),
    Column("attachments", JSON, nullable=True),
    Column("first_message", Boolean, nullable=False, server_default=text("false")),
    # On agent-mediated threads (§12) the buyer side is shown as this AI agent user.
    Column("agent_id", BigInteger, nullable=True),
    ForeignKeyConstraint(
        ["seller_id", "pack_id"], ["conversations.seller_id", "conversations.pack_id"]
    ),
)
# Paging through one conversation in time order.
Index(
    "ix_messages_conversation",
    messages.c.seller_id,
    messages.c.pack_id,
    messages.c.created_at,
    messages.c.id,
)
# Marking read touches only a participant's unread rows.
Index(
    "ix_messages_unread",
    messages.c.seller_id,
    messages.c.pack_id,
    messages.c.to_user_id,
    sqlite_where=messages.c.read_at.is_(None),
    postgresql_where=messages.c.read_at.is_(None),
)

# The sandbox clock's offset from wall-clock time, shared by every server process (one row).
sandbox_clock = Table(
    "sandbox_clock",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("offset_us", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Operator calls made with an Idempotency-Key: the first answer is replayed for a repeat.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Feature modules that add tables to this metadata (imported here so that Alembic, the test
# fixtures and every process see the whole schema).
from postventa.storage import action_guide_tables as _action_guide_tables  # noqa: E402,F401
from postventa.storage import notification_tables as _notification_tables  # noqa: E402,F401
