"""The action guide: options of a sale (E8), caps (E9), sending through an option (E10).

Who may use it (the same checks, in this order, for E8, E9 and E10):

1. the caller is the seller of the pack, else 403 "You are not allowed to access the information
   of the pack …" (a buyer, a stranger and an unknown pack all answer the same);
2. the buyer's account is deactivated: 451 ``Unavailable``;
3. a product with manufacturing time: 400 with cause ``blocked_by_excepted_case`` (use E3);
4. (E8, E10) the conversation is blocked for any reason other than the ME2 seller-start rule
   (``blocked_by_conversation_initiated_by_seller_limited``, the very case the guide exists
   for): 403 "The conversation is blocked";
5. (E8, E10) the buyer has written: 403 "This package has the conversation blocked, please check
   blocked messages" with cause ``blocked_by_conversation_use_message_api`` (§9.2, §11.1).

E9 stops after 3: caps stay readable, so an integrator can see them reopen once the buyer answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.actions.send import record_new_message
from postventa.actions.state import load_facts, resolve
from postventa.errors import Code, PostventaError
from postventa.model import Caller, Conversation, Message, Role
from postventa.rules import action_guide as rules
from postventa.rules import moderation
from postventa.rules.blocking import BlockingFacts, ResolvedState
from postventa.services import Services
from postventa.storage import action_guide as store
from postventa.storage import conversations

# The only block the action guide may pass: an ME2 sale the seller may not start by E3.
GUIDE_OPENS = frozenset({"blocked_by_conversation_initiated_by_seller_limited"})
THROTTLE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Guide:
    conversation: Conversation
    facts: BlockingFacts
    resolved: ResolvedState
    caps: dict[str, int]


async def _open_guide(
    conn: AsyncConnection,
    *,
    caller: Caller,
    pack_id: int,
    now: datetime,
    for_update: bool = False,
    require_open: bool = True,
) -> Guide:
    conversation = await conversations.get_conversation(
        conn, seller_id=caller.user_id, pack_id=pack_id, for_update=for_update
    )
    if conversation is None:
        raise PostventaError(Code.AG_PACK_FORBIDDEN, pack_id=pack_id)
    facts = await load_facts(conn, conversation)
    if facts.buyer_deactivated:
        raise PostventaError(Code.AG_UNAVAILABLE)
    if rules.excepted_case(facts):
        raise PostventaError(Code.AG_EXCEPTED_CASE)
    resolved = resolve(conversation, facts, now=now)
    if require_open:
        state = resolved.state
        if state.blocked and state.substatus not in GUIDE_OPENS:
            raise PostventaError(Code.AG_BLOCKED)
        if conversation.last_buyer_message_at is not None:
            raise PostventaError(Code.AG_USE_MESSAGE_API)
    uses = await store.option_uses(conn, seller_id=conversation.seller_id, pack_id=pack_id)
    caps = rules.caps_available(uses, last_buyer_message_at=conversation.last_buyer_message_at)
    return Guide(conversation, facts, resolved, caps)


async def get_options(services: Services, *, caller: Caller, pack_id: int) -> dict[str, Any]:
    """E8: every option of the catalogue, ``enabled`` when this sale offers it (§11.2)."""
    now = services.clock.now()
    async with services.db.read() as conn:
        guide = await _open_guide(conn, caller=caller, pack_id=pack_id, now=now)
    return {
        "options": [
            rules.option_json(option_id, guide.facts, guide.caps[option_id])
            for option_id in rules.OPTION_IDS
        ]
    }


async def get_caps(services: Services, *, caller: Caller, pack_id: int) -> list[dict[str, Any]]:
    """E9: remaining uses per option (§11.4)."""
    now = services.clock.now()
    async with services.db.read() as conn:
        guide = await _open_guide(conn, caller=caller, pack_id=pack_id, now=now, require_open=False)
    return [
        {"option_id": option_id, "cap_available": guide.caps[option_id]}
        for option_id in rules.OPTION_IDS
    ]


def moderate(text: str, *, site_id: str, now: datetime) -> moderation.ModerationVerdict:
    """THE moderation call site of the action guide (free-text options only, §10.4).

    Fixed templates are not moderated; free text goes through the same rule as a plain send
    (rules/moderation.py). A rejected verdict is rendered as §11.5 shows (``status: moderated``,
    ``available: null``, ``message_moderation.status: rejected``) and hidden from the buyer.
    """
    return moderation.moderate(text, site_id=site_id, sender_role=Role.seller, now=now)


async def do_send_option(services: Services, *, caller: Caller, pack_id: int, body: Any) -> Message:
    """E10: validate, then insert the message, count it unread for the buyer and use the cap.

    Everything happens in one write transaction under the seller+sale lock (409 when another
    execution holds it, storage/action_guide.py), committed before this returns.
    """
    if caller.application_id is None:
        raise PostventaError(Code.APPLICATION_ID_REQUIRED)
    try:
        async with store.option_transaction(
            services.db, seller_id=caller.user_id, pack_id=pack_id
        ) as conn:
            return await _send_option(services, conn, caller=caller, pack_id=pack_id, body=body)
    except store.OperationLocked:
        raise PostventaError(Code.AG_LOCKED) from None


async def _send_option(
    services: Services, conn: AsyncConnection, *, caller: Caller, pack_id: int, body: Any
) -> Message:
    now = services.clock.now()
    recent = await store.uses_since(conn, seller_id=caller.user_id, since=now - THROTTLE_WINDOW)
    if recent >= services.settings.action_guide_rate_limit_per_minute:
        raise PostventaError(Code.AG_TOO_MANY_REQUESTS)
    guide = await _open_guide(conn, caller=caller, pack_id=pack_id, now=now, for_update=True)
    conversation, facts = guide.conversation, guide.facts
    request = rules.parse_request(body)
    option_id = rules.check_option(request, facts)
    text = rules.render(request, facts, now)
    if guide.caps[option_id] <= 0:
        raise PostventaError(Code.AG_CAP_EXHAUSTED, option_id=option_id)
    verdict = (
        moderate(text, site_id=conversation.site_id, now=now)
        if option_id in rules.FREE_TEXT
        else moderation.clean(now)
    )
    message = await record_new_message(
        conn,
        conversation=conversation,
        facts=facts,
        before=guide.resolved.state,
        sender=Role.seller,
        text=text,
        verdict=verdict,
        client_id=caller.application_id,
        opened_by="action_guide",
        now=now,
    )
    await store.record_use(
        conn,
        seller_id=conversation.seller_id,
        pack_id=conversation.pack_id,
        option_id=option_id,
        message_id=message.id,
        at=now,
    )
    return message
