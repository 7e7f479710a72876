"""Reading and locking conversations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.model import Conversation
from postventa.storage.tables import conversations

_COLUMNS = (
    conversations.c.seller_id,
    conversations.c.pack_id,
    conversations.c.buyer_id,
    conversations.c.site_id,
    conversations.c.status,
    conversations.c.substatus,
    conversations.c.status_date,
    conversations.c.claim_ids,
    conversations.c.shipping_id,
    conversations.c.seller_unread,
    conversations.c.buyer_unread,
    conversations.c.message_count,
    conversations.c.last_message_at,
    conversations.c.created_at,
)


def _to_conversation(row: Row[*tuple[Any, ...]]) -> Conversation:
    return Conversation(**row._asdict())


async def get_conversation(
    conn: AsyncConnection, *, seller_id: int, pack_id: int, for_update: bool = False
) -> Conversation | None:
    """One conversation by its key; ``for_update`` takes its row lock (PostgreSQL).

    On SQLite the write transaction already holds the database's single write lock.
    """
    query = select(*_COLUMNS).where(
        conversations.c.seller_id == seller_id, conversations.c.pack_id == pack_id
    )
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else _to_conversation(row)
