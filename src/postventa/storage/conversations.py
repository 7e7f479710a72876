"""Reading, locking and updating conversations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.model import Conversation
from postventa.storage.sql import Query, Reader, execute, fetch, fetch_one
from postventa.storage.tables import conversations, orders, users

_buyer = users.alias("buyer")
_seller = users.alias("seller")

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
    conversations.c.facts,
    conversations.c.seller_hidden,
    conversations.c.buyer_hidden,
    conversations.c.last_buyer_message_at,
    conversations.c.last_seller_message_at,
    conversations.c.opened_by,
    _buyer.c.deactivated.label("buyer_deactivated"),
    _seller.c.deactivated.label("seller_deactivated"),
    _buyer.c.restricted.label("buyer_restricted"),
    _seller.c.restricted.label("seller_restricted"),
)


_NAMES = tuple(column.key for column in _COLUMNS)

_BY_KEY = (
    select(*_COLUMNS)
    .join(_buyer, _buyer.c.id == conversations.c.buyer_id)
    .join(_seller, _seller.c.id == conversations.c.seller_id)
    .where(
        conversations.c.seller_id == bindparam("seller_id"),
        conversations.c.pack_id == bindparam("pack_id"),
    )
)
_GET = {False: Query(_BY_KEY), True: Query(_BY_KEY.with_for_update(of=conversations))}

_ORDER_FACTS = Query(
    select(orders.c.facts)
    .where(
        orders.c.seller_id == bindparam("seller_id"),
        orders.c.conversation_pack_id == bindparam("pack_id"),
    )
    .order_by(orders.c.date_created, orders.c.id)
)


def _to_conversation(row: Sequence[Any]) -> Conversation:
    return Conversation(**dict(zip(_NAMES, row, strict=True)))


async def get_conversation(
    conn: Reader, *, seller_id: int, pack_id: int, for_update: bool = False
) -> Conversation | None:
    """One conversation by its key, with its participants' account states.

    ``for_update`` takes the conversation's row lock (PostgreSQL); on SQLite the write
    transaction already holds the database's single write lock.
    """
    row = await fetch_one(conn, _GET[for_update], seller_id=seller_id, pack_id=pack_id)
    return None if row is None else _to_conversation(row)


async def conversation_keys_of_user(conn: AsyncConnection, user_id: int) -> list[tuple[int, int]]:
    query = select(conversations.c.seller_id, conversations.c.pack_id).where(
        (conversations.c.seller_id == user_id) | (conversations.c.buyer_id == user_id)
    )
    return [(row.seller_id, row.pack_id) for row in await conn.execute(query)]


async def order_ids_and_items(
    conn: AsyncConnection, conversation: Conversation
) -> list[tuple[int, list[dict[str, Any]]]]:
    """Each order's id and items, in the same order as :func:`order_facts`."""
    query = (
        select(orders.c.id, orders.c["items"])
        .where(
            orders.c.seller_id == conversation.seller_id,
            orders.c.conversation_pack_id == conversation.pack_id,
        )
        .order_by(orders.c.date_created, orders.c.id)
    )
    return [(order_id, items or []) for order_id, items in await conn.execute(query)]


async def order_facts(conn: Reader, conversation: Conversation) -> list[dict[str, Any]]:
    """The JSON facts of every order of the conversation, oldest first."""
    rows = await fetch(
        conn, _ORDER_FACTS, seller_id=conversation.seller_id, pack_id=conversation.pack_id
    )
    return [facts or {} for (facts,) in rows]


_STORE_STATE = Query(
    update(conversations)
    .where(
        # Bind names differ from column names: SQLAlchemy reserves those for an UPDATE's SET.
        conversations.c.seller_id == bindparam("k_seller"),
        conversations.c.pack_id == bindparam("k_pack"),
    )
    .values(
        status=bindparam("new_status", type_=conversations.c.status.type),
        substatus=bindparam("new_substatus", type_=conversations.c.substatus.type),
        status_date=bindparam("new_status_date", type_=conversations.c.status_date.type),
        claim_ids=bindparam("new_claim_ids", type_=conversations.c.claim_ids.type),
        shipping_id=bindparam("new_shipping_id", type_=conversations.c.shipping_id.type),
    )
)


async def store_state(
    conn: Reader,
    conversation: Conversation,
    *,
    status: str,
    substatus: str | None,
    status_date: datetime,
    claim_ids: list[int] | None,
    shipping_id: int | None,
) -> None:
    """Record the state the rules computed at a write, so reads can tell when it changed."""
    await execute(
        conn,
        _STORE_STATE,
        k_seller=conversation.seller_id,
        k_pack=conversation.pack_id,
        new_status=status,
        new_substatus=substatus,
        new_status_date=status_date,
        new_claim_ids=claim_ids,
        new_shipping_id=shipping_id,
    )
