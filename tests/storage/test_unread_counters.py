"""Unread counters always equal a recount of the message rows.

Hypothesis generates batches of sends, reads (marking or not) and mark-as-read calls by the demo
users, valid or not; each batch runs *concurrently* (on PostgreSQL the transactions truly
interleave), and after every batch every counter must equal a recount. Refused operations must
leave everything as it was.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from postventa.actions.mark_as_read import do_mark_messages_read
from postventa.actions.read import do_read_conversation
from postventa.actions.send import do_send_message
from postventa.clock import FakeClock
from postventa.demo import data as demo_data
from postventa.errors import PostventaError
from postventa.model import Caller, Page
from postventa.services import Services
from postventa.storage import conversations as conversation_store
from postventa.storage import messages as message_store
from postventa.storage.db import Database
from postventa.storage.tables import conversations, messages
from postventa.storage.unread import rebuild_counters, recount
from tests.conftest import make_settings

ACTORS = [demo_data.SELLER, demo_data.BUYER, demo_data.BUYER2, demo_data.STRANGER]
PACKS = [p.pack_id for p in demo_data.PACKS]


@dataclass(frozen=True)
class Send:
    actor: int
    pack: int


@dataclass(frozen=True)
class Read:
    actor: int
    pack: int
    mark: bool
    offset: int


@dataclass(frozen=True)
class MarkIds:
    actor: int
    pack: int
    picks: tuple[int, ...]


actor = st.integers(0, len(ACTORS) - 1)
pack = st.integers(0, len(PACKS) - 1)
operation = st.one_of(
    st.builds(Send, actor, pack),
    st.builds(Read, actor, pack, st.booleans(), st.integers(0, 40)),
    st.builds(
        MarkIds, actor, pack, st.lists(st.integers(0, 60), min_size=1, max_size=4).map(tuple)
    ),
)
batches = st.lists(st.lists(operation, min_size=1, max_size=4), min_size=1, max_size=6)


def _caller(index: int) -> Caller:
    return Caller(user_id=ACTORS[index].id, application_id=demo_data.APP_ID)


async def _apply(services: Services, op: Send | Read | MarkIds) -> None:
    seller_id = demo_data.SELLER.id
    pack_id = PACKS[op.pack]
    caller = _caller(op.actor)
    try:
        if isinstance(op, Send):
            async with services.db.read() as conn:
                conversation = await conversation_store.get_conversation(
                    conn, seller_id=seller_id, pack_id=pack_id
                )
            to = conversation.counterpart_of(caller.user_id) if conversation else 1
            body = (
                f'{{"from":{{"user_id":{caller.user_id}}},"to":{{"user_id":{to}}},"text":"hola"}}'
            )
            await do_send_message(
                services, caller=caller, pack_id=pack_id, seller_id=seller_id, body=body.encode()
            )
        elif isinstance(op, Read):
            await do_read_conversation(
                services,
                caller=caller,
                pack_id=pack_id,
                seller_id=seller_id,
                page=Page(limit=10, offset=op.offset),
                mark_as_read=op.mark,
            )
        else:
            async with services.db.read() as conn:
                ids = await message_store.conversation_message_ids(
                    conn, seller_id=seller_id, pack_id=pack_id
                )
            if not ids:
                return
            chosen = ",".join(ids[i % len(ids)] for i in op.picks)
            await do_mark_messages_read(services, caller=caller, raw_ids=chosen)
    except PostventaError:
        pass  # refusals are part of the game; the invariant must hold after them too


async def _assert_counters_exact(services: Services) -> None:
    async with services.db.read() as conn:
        for pack_id in PACKS:
            conversation = await conversation_store.get_conversation(
                conn, seller_id=demo_data.SELLER.id, pack_id=pack_id
            )
            assert conversation is not None
            truth = await recount(conn, conversation)
            assert (conversation.seller_unread, conversation.buyer_unread) == (
                truth[conversation.role_of(conversation.seller_id)],  # type: ignore[index]
                truth[conversation.role_of(conversation.buyer_id)],  # type: ignore[index]
            ), conversation.resource
            stored = await conn.scalar(
                select(func.count())
                .select_from(messages)
                .where(messages.c.seller_id == demo_data.SELLER.id, messages.c.pack_id == pack_id)
            )
            assert conversation.message_count == stored


async def _run(database_url: str, plan: list[list[Any]]) -> None:
    services = Services(
        settings=make_settings(database_url),
        db=Database(database_url, pool_size=5),
        clock=FakeClock(),
    )
    try:
        await demo_data.load(services)
        for batch in plan:
            await asyncio.gather(*(_apply(services, op) for op in batch))
            await _assert_counters_exact(services)
    finally:
        await services.db.dispose()


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=batches)
def test_counters_equal_recount_after_any_interleaving(
    database_url: str, plan: list[list[Any]]
) -> None:
    # The database persists across examples: the invariant holds from any reachable state.
    asyncio.run(_run(database_url, plan))


async def test_rebuild_repairs_drifted_counters(services: Services) -> None:
    await demo_data.load(services)
    async with services.db.write() as conn:
        conversation = await conversation_store.get_conversation(
            conn, seller_id=demo_data.SELLER.id, pack_id=PACKS[0]
        )
        assert conversation is not None
        await conn.execute(
            conversations.update()
            .where(conversations.c.pack_id == PACKS[0])
            .values(seller_unread=99, buyer_unread=7)
        )
    async with services.db.write() as conn:
        assert await rebuild_counters(conn, seller_id=demo_data.SELLER.id) == 1
        assert await rebuild_counters(conn, seller_id=demo_data.SELLER.id) == 0
    await _assert_counters_exact(services)
