"""Message rows: insert, one conversation's page, lookups by id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, String, any_, bindparam, insert, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.model import Message
from postventa.storage.sql import Query, Reader, execute, fetch, fetch_one
from postventa.storage.tables import messages

_COLUMNS = tuple(messages.c)
_NAMES = tuple(column.key for column in _COLUMNS)
ID_ARRAY = ARRAY(String(32))  # message ids, for PostgreSQL's = ANY($n)


def _to_message(row: Sequence[Any]) -> Message:
    return Message(**dict(zip(_NAMES, row, strict=True)))


def _page_query(*, newest_first: bool) -> Query:
    order = (
        (messages.c.created_at.desc(), messages.c.id.desc())
        if newest_first
        else (messages.c.created_at.asc(), messages.c.id.asc())
    )
    return Query(
        select(*_COLUMNS)
        .where(
            messages.c.seller_id == bindparam("seller_id"),
            messages.c.pack_id == bindparam("pack_id"),
            or_(
                messages.c.from_user_id == bindparam("viewer_id"),
                messages.c.moderation_status != "rejected",
            ),
        )
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


_PAGE = {False: _page_query(newest_first=False), True: _page_query(newest_first=True)}
_BY_ID = Query(select(*_COLUMNS).where(messages.c.id == bindparam("message_id")))
_BY_IDS = Query(
    select(*_COLUMNS).where(messages.c.id.in_(bindparam("ids", expanding=True))),
    postgresql=select(*_COLUMNS).where(messages.c.id == any_(bindparam("ids", type_=ID_ARRAY))),
)


_INSERT = Query(insert(messages))  # every column, each a bind parameter of its name


async def insert_message(conn: Reader, message: Message) -> None:
    await execute(conn, _INSERT, **{name: getattr(message, name) for name in _NAMES})


async def page_of_conversation(
    conn: Reader,
    *,
    seller_id: int,
    pack_id: int,
    limit: int,
    offset: int,
    newest_first: bool,
    viewer_id: int,
    total: int | None = None,
) -> list[Message]:
    """One page in time order, read from ``ix_messages_conversation``.

    The other side's rejected messages are skipped: their receiver never sees them (§3.1).
    With ``total`` (the viewer's visible count) an offset past the middle is served by reading
    the index from the other end and reversing the page, so no page reads more than half the
    thread (an OFFSET reads every row it skips).
    """
    if total is not None and offset >= total:
        return []
    reverse = total is not None and offset > total // 2
    if reverse:
        assert total is not None
        limit, offset = min(limit, total - offset), max(total - offset - limit, 0)
        newest_first = not newest_first
    rows = await fetch(
        conn,
        _PAGE[newest_first],
        seller_id=seller_id,
        pack_id=pack_id,
        viewer_id=viewer_id,
        limit=limit,
        offset=offset,
    )
    page = [_to_message(row) for row in rows]
    return page[::-1] if reverse else page


async def get_message(conn: Reader, message_id: str) -> Message | None:
    row = await fetch_one(conn, _BY_ID, message_id=message_id)
    return None if row is None else _to_message(row)


async def get_messages(conn: Reader, message_ids: Sequence[str]) -> list[Message]:
    rows = await fetch(conn, _BY_IDS, ids=list(message_ids))
    return [_to_message(row) for row in rows]


async def conversation_message_ids(
    conn: AsyncConnection, *, seller_id: int, pack_id: int
) -> list[str]:
    """Every id of one conversation, oldest first (demo data and repair tools)."""
    query = (
        select(messages.c.id)
        .where(messages.c.seller_id == seller_id, messages.c.pack_id == pack_id)
        .order_by(messages.c.created_at, messages.c.id)
    )
    return list((await conn.execute(query)).scalars())
