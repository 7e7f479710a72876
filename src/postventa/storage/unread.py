"""Unread counters: how they are kept, and how they are checked and rebuilt.

Design
------
Each conversation row carries one counter per participant (``seller_unread``, ``buyer_unread``):
the number of messages addressed to that participant whose ``read_at`` is NULL and that the
participant may see (moderation did not reject them: a rejected message is hidden from its
receiver, and an unread count that includes messages one cannot open confuses integrators,
§10, §17). The counters are
changed only here, and always in the same transaction as the message rows they describe:

* a new message adds 1 to the receiver's counter (:func:`count_new_message`);
* marking read sets ``read_at`` on the reader's unread rows with one ``UPDATE … WHERE read_at IS
  NULL`` and subtracts exactly the number of rows that statement changed (:func:`mark_read`).

Both updates are relative (``counter = counter ± n``), never read-then-write, so concurrent
transactions compose: on PostgreSQL the ``UPDATE … WHERE read_at IS NULL`` re-checks each row after
waiting for a concurrent marker's lock, so a row is never counted twice; on SQLite writers are
serialised by ``BEGIN IMMEDIATE``.

``GET /messages/unread`` reads only the partial indexes ``ix_conversations_{seller,buyer}_unread``
(rows whose counter is above zero), so its cost grows with the caller's unread conversations,
not with messages or read conversations.

Drift and repair
----------------
The counters can only drift if a row is changed behind the actions' back (manual SQL). Then
:func:`recount` gives the truth from the message rows and :func:`rebuild_counters` rewrites the
counters of a seller's conversations from it. The property test in ``tests/storage`` checks that
random interleavings of send, read and mark-as-read keep counters equal to a recount.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.model import Conversation, Role, UnreadEntry
from postventa.storage.messages import ID_ARRAY
from postventa.storage.sql import Query, Reader, execute, fetch
from postventa.storage.tables import conversations, messages
from postventa.storage.types import UTCDateTime

# Rejected messages are hidden from their receiver, so they are never unread for anyone.
REJECTED = "rejected"


def _counter(role: Role):  # type: ignore[no-untyped-def]
    return conversations.c.seller_unread if role is Role.seller else conversations.c.buyer_unread


def _hidden(role: Role):  # type: ignore[no-untyped-def]
    return conversations.c.seller_hidden if role is Role.seller else conversations.c.buyer_hidden


def _party(role: Role):  # type: ignore[no-untyped-def]
    return conversations.c.seller_id if role is Role.seller else conversations.c.buyer_id


def _count_new_query(receiver: Role, hidden: bool) -> Query:
    counter = _hidden(receiver) if hidden else _counter(receiver)
    last_sender = (
        conversations.c.last_seller_message_at
        if receiver is Role.buyer
        else conversations.c.last_buyer_message_at
    )
    at = bindparam("at", type_=UTCDateTime)
    return Query(
        update(conversations)
        .where(
            conversations.c.seller_id == bindparam("k_seller"),
            conversations.c.pack_id == bindparam("k_pack"),
        )
        .values(
            {
                counter: counter + 1,
                conversations.c.message_count: conversations.c.message_count + 1,
                conversations.c.last_message_at: at,
                last_sender: at,
                conversations.c.opened_by: func.coalesce(
                    conversations.c.opened_by, bindparam("opened_by", type_=String)
                ),
            }
        )
    )


_COUNT_NEW = {
    (receiver, hidden): _count_new_query(receiver, hidden)
    for receiver in Role
    for hidden in (False, True)
}


async def count_new_message(
    conn: Reader,
    conversation: Conversation,
    *,
    receiver: Role,
    at: datetime,
    opened_by: str,
    hidden: bool = False,
) -> None:
    """Count a new message unread for ``receiver`` and note when each side last wrote.

    A message hidden from the receiver (rejected by moderation) is never unread for them: it
    counts in their ``…_hidden`` counter instead, which E1 subtracts from ``paging.total``.
    """
    await execute(
        conn,
        _COUNT_NEW[receiver, hidden],
        k_seller=conversation.seller_id,
        k_pack=conversation.pack_id,
        at=at,
        opened_by=opened_by,
    )


def _unread_of_reader() -> Any:
    return and_(
        messages.c.seller_id == bindparam("k_seller"),
        messages.c.pack_id == bindparam("k_pack"),
        messages.c.to_user_id == bindparam("reader_id"),
        messages.c.read_at.is_(None),
        messages.c.moderation_status != REJECTED,
    )


_MARK_ALL = Query(
    update(messages)
    .where(_unread_of_reader())
    .values(read_at=bindparam("at", type_=UTCDateTime))
    .returning(messages.c.id)
)
_MARK_IDS = Query(
    update(messages)
    .where(_unread_of_reader(), messages.c.id.in_(bindparam("ids", expanding=True)))
    .values(read_at=bindparam("at", type_=UTCDateTime))
    .returning(messages.c.id),
    postgresql=update(messages)
    .where(_unread_of_reader(), messages.c.id == any_(bindparam("ids", type_=ID_ARRAY)))
    .values(read_at=bindparam("at", type_=UTCDateTime))
    .returning(messages.c.id),
)
_DECREMENT = {
    role: Query(
        update(conversations)
        .where(
            conversations.c.seller_id == bindparam("k_seller"),
            conversations.c.pack_id == bindparam("k_pack"),
        )
        .values({_counter(role): _counter(role) - bindparam("n", type_=Integer)})
    )
    for role in Role
}


async def mark_read(
    conn: Reader,
    conversation: Conversation,
    *,
    reader_id: int,
    reader_role: Role,
    at: datetime,
    message_ids: Sequence[str] | None = None,
) -> list[str]:
    """Mark the reader's unread messages read (all of them, or only ``message_ids``).

    Returns the ids that actually changed; the reader's counter drops by exactly that many.
    """
    # Bind names differ from column names: SQLAlchemy reserves those for an UPDATE's SET.
    key = {"k_seller": conversation.seller_id, "k_pack": conversation.pack_id}
    if message_ids is None:
        rows = await fetch(conn, _MARK_ALL, **key, reader_id=reader_id, at=at)
    else:
        rows = await fetch(
            conn, _MARK_IDS, **key, reader_id=reader_id, at=at, ids=list(message_ids)
        )
    changed = [message_id for (message_id,) in rows]
    if changed:
        await execute(conn, _DECREMENT[reader_role], **key, n=len(changed))
    return changed


async def list_unread(
    conn: Reader, *, user_id: int, roles: Sequence[Role], cap: int
) -> list[UnreadEntry]:
    """The caller's conversations with unread messages, newest activity first, at most ``cap``."""
    if len(roles) == 1:  # the usual call (role=seller): already in order, one pass
        rows = await fetch(conn, _UNREAD[roles[0]], user_id=user_id, cap=cap)
        return [
            UnreadEntry(f"/packs/{pack_id}/sellers/{seller_id}", count)
            for pack_id, seller_id, _, count in rows
        ]
    found: list[tuple[datetime | None, UnreadEntry]] = []
    for role in roles:
        for pack_id, seller_id, last_message_at, count in await fetch(
            conn, _UNREAD[role], user_id=user_id, cap=cap
        ):
            entry = UnreadEntry(f"/packs/{pack_id}/sellers/{seller_id}", count)
            found.append((last_message_at, entry))
    found.sort(key=lambda item: item[0] or datetime.min, reverse=True)
    return [entry for _, entry in found[:cap]]


def unread_query(role: Role) -> Select[Any]:
    """Served by the partial index ``ix_conversations_{role}_unread`` (checked in tests).

    Bind parameters ``user_id`` and ``cap``.
    """
    counter = _counter(role)
    return (
        select(
            conversations.c.pack_id,
            conversations.c.seller_id,
            conversations.c.last_message_at,
            counter.label("unread"),
        )
        # A literal 0, not a bound parameter: PostgreSQL's generic plan for a prepared statement
        # can only use the partial index when the predicate matches its "> 0" verbatim.
        .where(_party(role) == bindparam("user_id"), counter > literal_column("0"))
        .order_by(conversations.c.last_message_at.desc())
        .limit(bindparam("cap", type_=Integer))
    )


_UNREAD = {role: Query(unread_query(role)) for role in Role}


async def recount(conn: AsyncConnection, conversation: Conversation) -> dict[Role, int]:
    """The counters as the message rows say they should be."""
    query = (
        select(messages.c.to_user_id, func.count())
        .where(
            messages.c.seller_id == conversation.seller_id,
            messages.c.pack_id == conversation.pack_id,
            messages.c.read_at.is_(None),
            messages.c.moderation_status != REJECTED,
        )
        .group_by(messages.c.to_user_id)
    )
    counts = {to_user_id: n for to_user_id, n in await conn.execute(query)}
    return {
        Role.seller: counts.get(conversation.seller_id, 0),
        Role.buyer: counts.get(conversation.buyer_id, 0),
    }


async def rebuild_counters(conn: AsyncConnection, *, seller_id: int) -> int:
    """Rewrite the counters of one seller's conversations from the message rows.

    Returns how many conversations had drifted.
    """
    unread = (
        select(func.count())
        .where(
            messages.c.seller_id == conversations.c.seller_id,
            messages.c.pack_id == conversations.c.pack_id,
            messages.c.read_at.is_(None),
            messages.c.moderation_status != REJECTED,
        )
        .scalar_subquery()
    )
    seller_truth = unread.where(messages.c.to_user_id == conversations.c.seller_id)
    buyer_truth = unread.where(messages.c.to_user_id == conversations.c.buyer_id)
    result = await conn.execute(
        update(conversations)
        .where(
            conversations.c.seller_id == seller_id,
            (conversations.c.seller_unread != seller_truth)
            | (conversations.c.buyer_unread != buyer_truth),
        )
        .values(seller_unread=seller_truth, buyer_unread=buyer_truth)
    )
    return result.rowcount
