"""Tables of the action guide (E8–E10), on the shared ``MetaData`` (migration 0004).

* ``action_guide_uses``: one row per message sent through an option. Caps are derived from it
  (uses of an option since the buyer last wrote), so nothing has to be reset when the buyer
  answers, and the per-seller throttle counts the seller's recent rows.
* ``action_guide_locks``: the per seller+sale lock on SQLite, a row with a lease (PostgreSQL uses
  a transaction-scoped advisory lock instead and never writes here); see storage/action_guide.py.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKeyConstraint, Index, String, Table

from postventa.storage.tables import metadata
from postventa.storage.types import UTCDateTime

action_guide_uses = Table(
    "action_guide_uses",
    metadata,
    Column("seller_id", BigInteger, primary_key=True),
    Column("pack_id", BigInteger, primary_key=True, autoincrement=False),
    Column("message_id", String(32), primary_key=True),
    Column("option_id", String(32), nullable=False),
    Column("used_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(
        ["seller_id", "pack_id"], ["conversations.seller_id", "conversations.pack_id"]
    ),
)
# The throttle: a seller's executions in the last minute.
Index(
    "ix_action_guide_uses_seller_used_at",
    action_guide_uses.c.seller_id,
    action_guide_uses.c.used_at,
)

action_guide_locks = Table(
    "action_guide_locks",
    metadata,
    Column("seller_id", BigInteger, primary_key=True, autoincrement=False),
    Column("pack_id", BigInteger, primary_key=True, autoincrement=False),
    # Who holds it (a random token), and until when (wall-clock time: a crashed holder's lock
    # expires on its own).
    Column("holder", String(32), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
