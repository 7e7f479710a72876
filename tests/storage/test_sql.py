"""Hot statements give the same values on PostgreSQL's raw asyncpg path as through SQLAlchemy.

``storage/sql.py`` runs each hot statement either way: SQLAlchemy inside transactions (and on
SQLite), plain asyncpg under ``Database.hot_read()`` on PostgreSQL. Types are where the two could
differ (time zones, JSON, booleans, big integers), so every storage function on that path reads
the demo data both ways here and the results must be equal, field by field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import bindparam, select, update

from postventa.ids import hash_token
from postventa.model import Role
from postventa.services import Services
from postventa.storage import conversations, messages, tokens, unread
from postventa.storage.sql import HotConnection, Query
from postventa.storage.tables import conversations as conversation_table
from postventa.storage.tables import messages as message_table


async def _both_ways(services: Services, read: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
    """``read(conn, **kwargs)`` through SQLAlchemy and on the raw path; they must agree."""
    async with services.db.read() as conn:
        through_sqlalchemy = await read(conn, **kwargs)
    async with services.db.hot_read() as hot:
        assert isinstance(hot, HotConnection)
        raw = await read(hot, **kwargs)
    assert raw == through_sqlalchemy
    return raw


async def _compare_demo(services: Services, demo: dict[str, Any]) -> None:
    for pack in demo["packs"]:
        key = {"seller_id": pack["seller_id"], "pack_id": pack["pack_id"]}
        conversation = await _both_ways(services, conversations.get_conversation, **key)
        assert conversation.created_at.utcoffset().total_seconds() == 0
        await _both_ways(services, conversations.order_facts, conversation=conversation)
        for viewer in (pack["seller_id"], pack["buyer_id"]):
            for newest_first in (False, True):
                await _both_ways(
                    services,
                    messages.page_of_conversation,
                    **key,
                    limit=50,
                    offset=0,
                    newest_first=newest_first,
                    viewer_id=viewer,
                )
        for message_id in pack["message_ids"]:
            assert await _both_ways(services, messages.get_message, message_id=message_id)
        # IN over a list: expanded by SQLAlchemy, = ANY($1) over an array on the raw path
        found = await _both_ways(services, messages.get_messages, message_ids=pack["message_ids"])
        assert {m.id for m in found} == set(pack["message_ids"])
    for user in demo["users"].values():
        for roles in ([Role.seller], [Role.buyer], [Role.seller, Role.buyer]):
            await _both_ways(services, unread.list_unread, user_id=user["id"], roles=roles, cap=500)
        if user.get("access_token"):
            token_hash = hash_token(user["access_token"])
            assert await _both_ways(services, tokens.find_token, token_hash=token_hash)


async def test_every_hot_read_gives_the_same_values_both_ways(
    services: Services, demo: dict[str, Any]
) -> None:
    if not services.db.is_postgres:
        pytest.skip("SQLite has one path")
    await _compare_demo(services, demo)


async def test_json_columns_decode_alike_both_ways(
    services: Services, demo: dict[str, Any]
) -> None:
    """Conversation facts, claim ids and attachments are JSON columns: asyncpg hands JSON back as
    text unless the codec of ``init_connection`` decodes it."""
    if not services.db.is_postgres:
        pytest.skip("SQLite has one path")
    pack = demo["packs"][0]
    facts = {"agent_thread": False, "nested": {"list": [1, "dos", None], "ñ": "ü"}}
    attachments = [{"filename": "nota.pdf", "size": 1234, "type": "application/pdf"}]
    async with services.db.write() as conn:
        await conn.execute(
            update(conversation_table)
            .where(
                conversation_table.c.seller_id == pack["seller_id"],
                conversation_table.c.pack_id == pack["pack_id"],
            )
            .values(facts=facts, claim_ids=[5001, 5002])
        )
        await conn.execute(
            update(message_table)
            .where(message_table.c.id == pack["message_ids"][0])
            .values(attachments=attachments)
        )
    conversation = await _both_ways(
        services,
        conversations.get_conversation,
        seller_id=pack["seller_id"],
        pack_id=pack["pack_id"],
    )
    assert (conversation.facts, conversation.claim_ids) == (facts, [5001, 5002])
    message = await _both_ways(services, messages.get_message, message_id=pack["message_ids"][0])
    assert message.attachments == attachments
    await _compare_demo(services, demo)


def test_values_written_into_a_statement_are_bound_by_the_raw_path() -> None:
    query = Query(
        select(message_table.c.id).where(
            message_table.c.moderation_status != "rejected",
            message_table.c.seller_id == bindparam("seller_id"),
        )
    )
    assert query.args({"seller_id": 7}) == ["rejected", 7]
