"""A conversation's state, resolved from stored facts by the blocking rules (rules/blocking.py).

Used by every action that reads or writes a conversation, inside its transaction, so the state
it acts on is the state it shows. The state is evaluated on every read (time-based rules need no
event) and recorded at every write (so ``status_date`` can say when it last changed).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.model import Conversation
from postventa.rules.blocking import (
    BlockingFacts,
    ConversationState,
    ResolvedState,
    conversation_facts_from_json,
    evaluate,
    order_facts_from_json,
)
from postventa.storage import conversations as conversation_store
from postventa.storage.sql import Reader


async def load_facts(conn: Reader, conversation: Conversation) -> BlockingFacts:
    orders = await conversation_store.order_facts(conn, conversation)
    return BlockingFacts(
        site_id=conversation.site_id,
        purchased_at=conversation.created_at,
        orders=tuple(order_facts_from_json(f) for f in orders),
        conversation=conversation_facts_from_json(conversation.facts),
        buyer_deactivated=conversation.buyer_deactivated,
        seller_deactivated=conversation.seller_deactivated,
        buyer_restricted=conversation.buyer_restricted,
        seller_restricted=conversation.seller_restricted,
        last_message_at=conversation.last_message_at,
        last_buyer_message_at=conversation.last_buyer_message_at,
        opened_by=conversation.opened_by,
    )


def resolve(conversation: Conversation, facts: BlockingFacts, *, now: datetime) -> ResolvedState:
    state = evaluate(facts, now)
    # A time-based block dates from when its window closed; anything else from the write that
    # last recorded the state (record_state).
    status_date = state.since or conversation.status_date
    path = conversation.resource
    if facts.conversation.agent_thread:
        path = f"{path}/conversations/{facts.conversation.agent_thread_type}"
    return ResolvedState(state=state, status_date=status_date, facts=facts, path=path)


async def resolve_state(
    conn: Reader, conversation: Conversation, *, now: datetime
) -> ResolvedState:
    return resolve(conversation, await load_facts(conn, conversation), now=now)


async def recompute(
    conn: AsyncConnection, *, seller_id: int, pack_id: int, now: datetime
) -> ResolvedState:
    """Re-record one conversation's state after its facts changed (operator calls)."""
    conversation = await conversation_store.get_conversation(
        conn, seller_id=seller_id, pack_id=pack_id, for_update=True
    )
    assert conversation is not None
    return await record_state(conn, conversation, await load_facts(conn, conversation), now=now)


async def recompute_user_conversations(
    conn: AsyncConnection, *, user_id: int, now: datetime
) -> int:
    """After an account change: re-record the state of every conversation of the user.

    One transaction for all of them: an operator call on an account, not a hot path.
    """
    keys = await conversation_store.conversation_keys_of_user(conn, user_id)
    for seller_id, pack_id in keys:
        await recompute(conn, seller_id=seller_id, pack_id=pack_id, now=now)
    return len(keys)


async def record_state(
    conn: Reader,
    conversation: Conversation,
    facts: BlockingFacts,
    *,
    now: datetime,
    before: ConversationState | None = None,
) -> ResolvedState:
    """After a write changed ``facts``: re-evaluate and store the result if it changed.

    ``before`` is the state the write saw (it may differ from the stored one when a time-based
    block began with no write since); a change from it dates from now.
    """
    resolved = resolve(conversation, facts, now=now)
    state = resolved.state
    seen = (
        (before.status, before.substatus)
        if before
        else (conversation.status, conversation.substatus)
    )
    changed = (state.status, state.substatus) != seen
    stale = (state.status, state.substatus) != (conversation.status, conversation.substatus)
    stored_claims = conversation.claim_ids or None
    if changed:
        resolved = replace(resolved, status_date=state.since or now)
    if (
        changed
        or stale
        or stored_claims != resolved.claim_ids
        or (conversation.shipping_id != facts.shipping_id)
    ):
        await conversation_store.store_state(
            conn,
            conversation,
            status=state.status,
            substatus=state.substatus,
            status_date=resolved.status_date,
            claim_ids=resolved.claim_ids,
            shipping_id=facts.shipping_id,
        )
    return resolved
