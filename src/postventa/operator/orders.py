"""Orders, packs and the facts that decide whether their conversation is open.

Every change validates the transition (no delivering a cancelled order), stores the new facts,
and recomputes the affected conversation's state in the same transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.actions.state import load_facts, recompute, resolve
from postventa.errors import Code, PostventaError
from postventa.model import Conversation
from postventa.operator.users import check_site, require_user
from postventa.rules import blocking
from postventa.rules.blocking import (
    ConversationFacts,
    OrderFacts,
    ResolvedState,
    conversation_facts_from_json,
    facts_to_json,
    order_facts_from_json,
)
from postventa.services import Services
from postventa.storage import conversations as conversation_store
from postventa.storage.tables import conversations, idempotency_keys, orders

_ORDER_CHOICES: dict[str, frozenset[str]] = {
    "logistic_type": blocking.LOGISTIC_TYPES,
    "payment_status": blocking.PAYMENT_STATUSES,
    "shipment_status": blocking.SHIPMENT_STATUSES,
    "cancellation": blocking.CANCELLATIONS,
    "refund": blocking.REFUNDS,
}
_CONVERSATION_CHOICES: dict[str, frozenset[str]] = {
    "product_change": blocking.PRODUCT_CHANGES,
    "mediation": blocking.MEDIATIONS,
    "ai_assistant": blocking.AI_ASSISTANT_STATES,
}

# What each substatus means in facts, for the shortcut that blocks a conversation by name.
_SUBSTATUS_CONVERSATION_FACTS: dict[str, dict[str, Any]] = {
    "blocked_by_buyer": {"buyer_blocked": True},
    "blocked_by_mediation": {"mediation": "normal"},
    "blocked_by_mediation_fbm": {"mediation": "fulfillment"},
    "blocked_by_claim_change_open": {"product_change": "open"},
    "blocked_by_claim_change_closed": {"product_change": "closed"},
    "blocked_by_message_pending_review": {"pending_review": True},
    "blocked_by_ai_assistant_contact_closed": {"ai_assistant": "contact_closed"},
    "blocked_by_ai_assistant_expired": {"ai_assistant": "expired"},
    "block_by_ai_assistant_initiated_by_seller_expired": {
        "ai_assistant": "seller_initiated_expired"
    },
}
_SUBSTATUS_ORDER_FACTS: dict[str, dict[str, Any]] = {
    "blocked_by_payment": {"payment_status": "payment_required"},
    "blocked_by_cancelled_order": {"cancellation": "normal"},
    "blocked_by_cancelled_order_by_fraud": {"cancellation": "fraud"},
    "blocked_by_cancelled_order_hidden": {"cancellation": "hidden"},
    "blocked_by_refund": {"refund": "total"},
    "blocked_by_return_to_buyer_fulfillment": {"return_to_buyer": True},
}


def _check_choices(changes: dict[str, Any], choices: dict[str, frozenset[str]]) -> None:
    for name, allowed in choices.items():
        value = changes.get(name)
        if value is not None and value not in allowed:
            raise PostventaError(
                Code.OPERATOR_INVALID, field=name, reason=f"one of {', '.join(sorted(allowed))}"
            )


# --- idempotency ------------------------------------------------------------------------


def request_hash(kind: str, payload: Any) -> str:
    return hashlib.sha256(orjson.dumps([kind, payload], option=orjson.OPT_SORT_KEYS)).hexdigest()


async def replayed(conn: AsyncConnection, key: str | None, digest: str) -> dict[str, Any] | None:
    """The stored answer of an earlier call with this key, or None when it is new."""
    if key is None:
        return None
    row = (
        await conn.execute(
            select(idempotency_keys.c.request_hash, idempotency_keys.c.response).where(
                idempotency_keys.c.key == key
            )
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise PostventaError(Code.IDEMPOTENCY_KEY_REUSED, key=key)
    stored: dict[str, Any] = row.response
    return stored


async def remember(
    conn: AsyncConnection, key: str | None, digest: str, response: dict[str, Any], now: datetime
) -> None:
    if key is not None:
        await conn.execute(
            insert(idempotency_keys).values(
                key=key, request_hash=digest, status_code=200, response=response, created_at=now
            )
        )


# --- reading -----------------------------------------------------------------------------


def state_json(resolved: ResolvedState) -> dict[str, Any]:
    from postventa.api.serializers import conversation_status_json

    return conversation_status_json(resolved)


async def _locked_conversation(
    conn: AsyncConnection, *, seller_id: int, pack_id: int
) -> Conversation:
    conversation = await conversation_store.get_conversation(
        conn, seller_id=seller_id, pack_id=pack_id, for_update=True
    )
    if conversation is None:
        raise PostventaError(
            Code.OPERATOR_NOT_FOUND, kind="Conversation", id=f"/packs/{pack_id}/sellers/{seller_id}"
        )
    return conversation


async def do_describe_conversation(
    services: Services, *, seller_id: int, pack_id: int
) -> dict[str, Any]:
    async with services.db.read() as conn:
        conversation = await conversation_store.get_conversation(
            conn, seller_id=seller_id, pack_id=pack_id
        )
        if conversation is None:
            raise PostventaError(
                Code.OPERATOR_NOT_FOUND,
                kind="Conversation",
                id=f"/packs/{pack_id}/sellers/{seller_id}",
            )
        facts = await load_facts(conn, conversation)
        order_rows = await conversation_store.order_ids_and_items(conn, conversation)
    resolved = resolve(conversation, facts, now=services.clock.now())
    return {
        "conversation_status": state_json(resolved),
        "facts": facts_to_json(facts.conversation),
        "orders": [
            {"id": order_id, "items": items, **facts_to_json(order)}
            for (order_id, items), order in zip(order_rows, facts.orders, strict=True)
        ],
        "unread": {"seller": conversation.seller_unread, "buyer": conversation.buyer_unread},
    }


# --- orders ------------------------------------------------------------------------------


async def do_create_order(
    services: Services,
    *,
    order_id: int,
    pack_id: int | None,
    seller_id: int,
    buyer_id: int,
    site_id: str,
    facts: dict[str, Any],
    date_created: datetime | None,
    items: list[dict[str, Any]] | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Create an order, and its conversation unless its pack already has one."""
    check_site(site_id)
    _check_choices(facts, _ORDER_CHOICES)
    if seller_id == buyer_id:
        raise PostventaError(
            Code.OPERATOR_INVALID, field="buyer_id", reason="must not be the seller"
        )
    now = services.clock.now()
    order = OrderFacts(**facts, changed_at=now)
    if order.return_to_buyer and order.logistic_type != "fulfillment":
        raise PostventaError(
            Code.OPERATOR_INVALID, field="return_to_buyer", reason="only for fulfillment orders"
        )
    conversation_key = pack_id if pack_id is not None else order_id
    digest = request_hash(
        "order",
        [order_id, pack_id, seller_id, buyer_id, site_id, facts, str(date_created), items],
    )
    async with services.db.write() as conn:
        if (stored := await replayed(conn, idempotency_key, digest)) is not None:
            return stored
        for user_id in (seller_id, buyer_id):
            await require_user(conn, user_id)
        if await conn.scalar(select(orders.c.id).where(orders.c.id == order_id)) is not None:
            raise PostventaError(Code.OPERATOR_ALREADY_EXISTS, kind="Order", id=order_id)
        conversation = await conversation_store.get_conversation(
            conn, seller_id=seller_id, pack_id=conversation_key, for_update=True
        )
        if conversation is None:
            await conn.execute(
                insert(conversations).values(
                    seller_id=seller_id,
                    pack_id=conversation_key,
                    buyer_id=buyer_id,
                    site_id=site_id,
                    is_order=pack_id is None,
                    status="active",
                    status_date=date_created or now,
                    created_at=date_created or now,
                )
            )
        elif conversation.buyer_id != buyer_id or pack_id is None:
            raise PostventaError(
                Code.OPERATOR_ALREADY_EXISTS,
                kind="Conversation",
                id=f"/packs/{conversation_key}/sellers/{seller_id}",
            )
        await conn.execute(
            insert(orders).values(
                id=order_id,
                seller_id=seller_id,
                pack_id=pack_id,
                buyer_id=buyer_id,
                site_id=site_id,
                status="cancelled" if order.cancellation else "paid",
                date_created=date_created or now,
                conversation_pack_id=conversation_key,
                facts=facts_to_json(order),
                items=items or [],
            )
        )
        resolved = await recompute(conn, seller_id=seller_id, pack_id=conversation_key, now=now)
        response = {
            "order_id": order_id,
            "pack_id": pack_id,
            "resource": f"/packs/{conversation_key}/sellers/{seller_id}",
            "conversation_status": state_json(resolved),
        }
        await remember(conn, idempotency_key, digest, response, now)
    return response


def _check_order_transition(before: OrderFacts, changes: dict[str, Any], order_id: int) -> None:
    def refuse(reason: str) -> None:
        raise PostventaError(
            Code.OPERATOR_TRANSITION_REFUSED, kind="Order", id=order_id, reason=reason
        )

    if before.cancellation is not None:
        if "cancellation" in changes and changes["cancellation"] != before.cancellation:
            refuse("a cancelled order stays cancelled")
        if changes.get("shipment_status") in ("shipped", "delivered"):
            refuse("a cancelled order cannot be shipped or delivered")
        if changes.get("payment_status") == "paid" and before.payment_status != "paid":
            refuse("a cancelled order cannot be paid")
    unpaid = changes.get("payment_status", before.payment_status) != "paid"
    if changes.get("refund") and unpaid:
        refuse("only a paid order can be refunded")
    if changes.get("shipment_status") in ("shipped", "delivered") and unpaid:
        refuse("an unpaid order cannot be shipped or delivered")
    if before.refund is not None and "refund" in changes and changes["refund"] is None:
        refuse("a refund cannot be undone")
    if changes.get("return_to_buyer") and before.logistic_type != "fulfillment":
        refuse("only fulfillment orders are returned to the buyer after triage")


async def do_change_order(
    services: Services,
    *,
    order_id: int,
    changes: dict[str, Any],
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    _check_choices(changes, _ORDER_CHOICES)
    now = services.clock.now()
    digest = request_hash("order-state", [order_id, changes])
    async with services.db.write() as conn:
        if (stored := await replayed(conn, idempotency_key, digest)) is not None:
            return stored
        row = (
            await conn.execute(
                select(orders.c.seller_id, orders.c.conversation_pack_id, orders.c.facts)
                .where(orders.c.id == order_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise PostventaError(Code.OPERATOR_NOT_FOUND, kind="Order", id=order_id)
        before = order_facts_from_json(row.facts)
        _check_order_transition(before, changes, order_id)
        extra: dict[str, Any] = {}
        if changes.get("refund") and before.refund is None:
            extra["refunded_at"] = now
        after = replace(before, **changes, **extra, changed_at=now)
        await conn.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(
                facts=facts_to_json(after),
                status="cancelled" if after.cancellation else after.payment_status,
            )
        )
        resolved = await recompute(
            conn, seller_id=row.seller_id, pack_id=row.conversation_pack_id, now=now
        )
        response = {
            "order_id": order_id,
            "facts": facts_to_json(after),
            "conversation_status": state_json(resolved),
        }
        await remember(conn, idempotency_key, digest, response, now)
    return response


# --- conversations ----------------------------------------------------------------------


def _apply_conversation_changes(
    before: ConversationFacts, changes: dict[str, Any]
) -> dict[str, Any]:
    values = dict(changes)
    claim = values.pop("claim", None)
    if claim is not None:
        claim_ids = list(before.claim_ids)
        if claim["status"] == "opened" and claim["id"] not in claim_ids:
            claim_ids.append(claim["id"])
        values["claim_ids"] = tuple(claim_ids)
    return values


async def do_change_conversation(
    services: Services,
    *,
    seller_id: int,
    pack_id: int,
    changes: dict[str, Any],
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    _check_choices(changes, _CONVERSATION_CHOICES)
    now = services.clock.now()
    digest = request_hash("conversation-state", [seller_id, pack_id, changes])
    async with services.db.write() as conn:
        if (stored := await replayed(conn, idempotency_key, digest)) is not None:
            return stored
        conversation = await _locked_conversation(conn, seller_id=seller_id, pack_id=pack_id)
        before = conversation_facts_from_json(conversation.facts)
        after = replace(before, **_apply_conversation_changes(before, changes), changed_at=now)
        await conn.execute(
            update(conversations)
            .where(conversations.c.seller_id == seller_id, conversations.c.pack_id == pack_id)
            .values(facts=facts_to_json(after))
        )
        resolved = await recompute(conn, seller_id=seller_id, pack_id=pack_id, now=now)
        response = {"facts": facts_to_json(after), "conversation_status": state_json(resolved)}
        await remember(conn, idempotency_key, digest, response, now)
    return response


async def do_block_conversation(
    services: Services, *, seller_id: int, pack_id: int, substatus: str
) -> dict[str, Any]:
    """Reach a substatus by name: sets the fact that produces it (aliases accepted, §9.2)."""
    substatus = blocking.SUBSTATUS_ALIASES.get(substatus, substatus)
    if substatus in _SUBSTATUS_CONVERSATION_FACTS:
        return await do_change_conversation(
            services,
            seller_id=seller_id,
            pack_id=pack_id,
            changes=_SUBSTATUS_CONVERSATION_FACTS[substatus],
        )
    if substatus in _SUBSTATUS_ORDER_FACTS:
        async with services.db.read() as conn:
            order_ids = list(
                (
                    await conn.execute(
                        select(orders.c.id).where(
                            orders.c.seller_id == seller_id,
                            orders.c.conversation_pack_id == pack_id,
                        )
                    )
                ).scalars()
            )
        if not order_ids:
            raise PostventaError(
                Code.OPERATOR_NOT_FOUND,
                kind="Conversation",
                id=f"/packs/{pack_id}/sellers/{seller_id}",
            )
        result: dict[str, Any] = {}
        for order_id in order_ids:
            result = await do_change_order(
                services, order_id=order_id, changes=_SUBSTATUS_ORDER_FACTS[substatus]
            )
        return {"conversation_status": result["conversation_status"]}
    raise PostventaError(
        Code.OPERATOR_INVALID,
        field="substatus",
        reason="not reachable by a single fact: set the order, user or clock state instead",
    )
