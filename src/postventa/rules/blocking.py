"""Whether a conversation is open, and why not (§9): one ordered rule table.

Mercado Libre derives a conversation's ``status``/``substatus`` from the state of its orders,
shipment, claims, mediations, accounts and time. :func:`evaluate` does the same from
:class:`BlockingFacts` and "now": the rules are tried in the order of :data:`RULES` and the first
that applies wins (the precedence is written down in docs/compatibility.md). Time-based rules
(30 days, 18 months, 48 business hours) need no event: they are re-evaluated on every read and
send, so moving the sandbox clock is enough.

:func:`check_send` says whether a participant may send into a conversation in a given state, with
the exact refusal of §6.3/§9.3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from postventa.errors import Code, PostventaError
from postventa.model import Role

# Logistic types of Mercado Envíos 2 (§11.1): fulfillment, cross docking, drop off, flex.
ME2_LOGISTIC_TYPES = frozenset(
    {"fulfillment", "cross_docking", "drop_off", "xd_drop_off", "self_service"}
)
LOGISTIC_TYPES = ME2_LOGISTIC_TYPES | {"not_specified", "custom", "me1"}
UNPAID = frozenset({"payment_required", "payment_in_process", "partially_paid"})
PAYMENT_STATUSES = UNPAID | {"paid"}
SHIPMENT_STATUSES = frozenset(
    {"pending", "handling", "ready_to_ship", "shipped", "delivered", "not_delivered"}
)
CANCELLATIONS = frozenset({"normal", "fraud", "hidden"})
REFUNDS = frozenset({"partial", "total"})
MEDIATIONS = frozenset({"normal", "fulfillment"})
PRODUCT_CHANGES = frozenset({"open", "closed"})
AI_ASSISTANT_STATES = frozenset(
    {"enabled", "expired", "contact_closed", "seller_initiated_expired"}
)
# Sites where the supermarket seller-start rule applies (§9.2).
SUPERMARKET_SITES = frozenset({"MLA", "MLM", "MLB"})

TIME_WINDOW = timedelta(days=30)  # blocked_by_time
EXPIRY = timedelta(days=548)  # blocked_by_conversation_expired: 18 months (18 × 365.25 / 12 days)
AGENT_BUSINESS_HOURS = 48  # §12: to resolve an agent-mediated query


@dataclass(frozen=True)
class OrderFacts:
    """One order's side of the story, as the operator API last described it."""

    logistic_type: str = "not_specified"
    payment_status: str = "paid"
    cancellation: str | None = None
    shipment_status: str = "pending"
    refund: str | None = None
    refunded_at: datetime | None = None
    return_to_buyer: bool = False
    supermarket: bool = False
    proximity: bool = False
    resale: bool = False
    guest: bool = False
    manufacturing_days: int = 0
    shipping_id: int | None = None
    # Flex delivery promise (action guide DELIVERY_PROMISE, §11.3); None means "today".
    delivery_promise_at: datetime | None = None
    changed_at: datetime | None = None


@dataclass(frozen=True)
class ConversationFacts:
    """Conversation-level facts: claims, mediation, reviews, AI assistant, buyer's block."""

    claim_ids: tuple[int, ...] = ()
    product_change: str | None = None
    mediation: str | None = None
    buyer_blocked: bool = False
    pending_review: bool = False
    ai_assistant: str | None = None
    agent_thread: bool = False
    agent_thread_type: str = "post_sale"
    changed_at: datetime | None = None


@dataclass(frozen=True)
class BlockingFacts:
    site_id: str
    purchased_at: datetime
    orders: tuple[OrderFacts, ...]
    conversation: ConversationFacts
    buyer_deactivated: bool = False
    seller_deactivated: bool = False
    buyer_restricted: bool = False
    seller_restricted: bool = False
    last_message_at: datetime | None = None
    last_buyer_message_at: datetime | None = None
    opened_by: str | None = None  # "buyer", "seller", "action_guide" or None while empty
    # When a user's or order's state last changed (the status_date of event-based blocks).
    changed_at: datetime | None = None

    @property
    def me2(self) -> bool:
        return any(o.logistic_type in ME2_LOGISTIC_TYPES for o in self.orders)

    @property
    def fulfillment(self) -> bool:
        return any(o.logistic_type == "fulfillment" for o in self.orders)

    @property
    def delivered(self) -> bool:
        return bool(self.orders) and all(o.shipment_status == "delivered" for o in self.orders)

    @property
    def shipping_id(self) -> int | None:
        return next((o.shipping_id for o in self.orders if o.shipping_id is not None), None)


@dataclass(frozen=True)
class ConversationState:
    status: str  # "active" or "blocked"
    substatus: str | None
    # When the winning time-based rule started to apply; None for event-based rules, whose
    # status_date is the time of the change that was stored with the conversation.
    since: datetime | None = None

    @property
    def blocked(self) -> bool:
        return self.status == "blocked"


ACTIVE = ConversationState("active", None)


@dataclass(frozen=True)
class ResolvedState:
    """A conversation's state as shown in ``conversation_status``."""

    state: ConversationState
    status_date: datetime
    facts: BlockingFacts
    path: str

    @property
    def claim_ids(self) -> list[int] | None:
        return list(self.facts.conversation.claim_ids) or None

    @property
    def agent_thread(self) -> bool:
        return self.facts.conversation.agent_thread

    @property
    def hides_messages(self) -> bool:
        return self.state.substatus in HIDES_MESSAGES


def _all_cancelled(f: BlockingFacts, kind: str) -> bool:
    return (
        bool(f.orders)
        and all(o.cancellation is not None for o in f.orders)
        and any(o.cancellation == kind for o in f.orders)
    )


def _refund_block(f: BlockingFacts) -> bool:
    refunded = [o.refunded_at for o in f.orders if o.refund is not None and o.refunded_at]
    if not refunded:
        return False
    # Reopens only when the buyer writes after the refund (§9.2).
    return f.last_buyer_message_at is None or f.last_buyer_message_at <= max(refunded)


def _time_block(f: BlockingFacts, now: datetime) -> datetime | None:
    if f.last_message_at is None:
        return None
    closes = f.last_message_at + TIME_WINDOW
    return closes if now >= closes else None


def add_business_hours(start: datetime, hours: int) -> datetime:
    """``start`` plus ``hours`` business hours, counting Monday–Friday around the clock.

    Site holidays are not modelled; "horas útiles" is read as weekday hours (§12).
    """
    current = start
    remaining = timedelta(hours=hours)
    while remaining > timedelta(0):
        if current.weekday() >= 5:
            current = (current + timedelta(days=7 - current.weekday())).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            continue
        day_end = (current + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        step = min(remaining, day_end - current)
        current += step
        remaining -= step
    return current


def _agent_expired(f: BlockingFacts, now: datetime) -> datetime | None:
    """Agent-mediated threads: 48 business hours from the buyer's query to the seller's answer."""
    if not f.conversation.agent_thread or f.last_buyer_message_at is None:
        return None
    if f.last_message_at is not None and f.last_message_at > f.last_buyer_message_at:
        return None  # the seller already answered the latest query
    deadline = add_business_hours(f.last_buyer_message_at, AGENT_BUSINESS_HOURS)
    return deadline if now >= deadline else None


Rule = Callable[[BlockingFacts, datetime], "bool | datetime | None"]

# The rule table, in precedence order: the first rule that applies names the substatus.
# A rule returns True (applies; an event-based block) or the datetime it started to apply
# (time-based), or False/None.
RULES: tuple[tuple[str, Rule], ...] = (
    (
        "blocked_by_conversation_expired",
        lambda f, now: f.purchased_at + EXPIRY if now >= f.purchased_at + EXPIRY else None,
    ),
    ("blocked_by_cancelled_order_by_fraud", lambda f, now: _all_cancelled(f, "fraud")),
    ("blocked_by_cancelled_order_hidden", lambda f, now: _all_cancelled(f, "hidden")),
    ("blocked_by_deactivated_account", lambda f, now: f.buyer_deactivated or f.seller_deactivated),
    ("blocked_by_restrictions", lambda f, now: f.buyer_restricted or f.seller_restricted),
    ("blocked_by_cancelled_order", lambda f, now: _all_cancelled(f, "normal")),
    ("blocked_by_payment", lambda f, now: any(o.payment_status in UNPAID for o in f.orders)),
    ("blocked_by_buyer", lambda f, now: f.conversation.buyer_blocked),
    ("blocked_by_message_pending_review", lambda f, now: f.conversation.pending_review),
    ("blocked_by_mediation_fbm", lambda f, now: f.conversation.mediation == "fulfillment"),
    ("blocked_by_mediation", lambda f, now: f.conversation.mediation == "normal"),
    ("blocked_by_claim_change_open", lambda f, now: f.conversation.product_change == "open"),
    ("blocked_by_claim_change_closed", lambda f, now: f.conversation.product_change == "closed"),
    (
        "blocked_by_return_to_buyer_fulfillment",
        lambda f, now: any(o.return_to_buyer for o in f.orders),
    ),
    (
        "blocked_by_ai_assistant_contact_closed",
        lambda f, now: f.conversation.ai_assistant == "contact_closed",
    ),
    ("blocked_by_ai_assistant_expired", lambda f, now: f.conversation.ai_assistant == "expired"),
    (
        "block_by_ai_assistant_initiated_by_seller_expired",
        lambda f, now: f.conversation.ai_assistant == "seller_initiated_expired",
    ),
    (
        "blocked_by_ai_assistant",
        lambda f, now: f.conversation.ai_assistant == "enabled" and f.fulfillment,
    ),
    ("blocked_by_ai_assistant_expired", _agent_expired),
    ("blocked_by_fulfillment", lambda f, now: f.fulfillment and not f.delivered),
    ("blocked_by_guest_shops", lambda f, now: any(o.guest for o in f.orders)),
    ("blocked_by_resale", lambda f, now: any(o.resale for o in f.orders)),
    ("blocked_by_proximity_groceries", lambda f, now: any(o.proximity for o in f.orders)),
    ("blocked_by_refund", lambda f, now: _refund_block(f)),
    (
        "blocked_by_conversation_initiated_by_seller",
        lambda f, now: (
            f.opened_by is None
            and f.site_id in SUPERMARKET_SITES
            and bool(f.orders)
            and all(o.supermarket for o in f.orders)
        ),
    ),
    (
        "blocked_by_conversation_initiated_by_seller_limited",
        # Until the buyer answers: a conversation the seller opened through the action guide
        # stays closed to the seller's plain sends (§11.1).
        lambda f, now: (
            f.me2 and f.opened_by in (None, "action_guide") and f.last_buyer_message_at is None
        ),
    ),
    ("blocked_by_time", _time_block),
)

SUBSTATUSES = tuple(dict.fromkeys(name for name, _ in RULES))
# Spellings accepted on input and the one emitted (§9.2: EN/GS pages print "bloqued_…").
SUBSTATUS_ALIASES = {"bloqued_by_mediation": "blocked_by_mediation"}

# Blocks that stop only the seller: the buyer may always write, and writing reopens them.
BUYER_MAY_WRITE = frozenset(
    {
        "blocked_by_time",
        "blocked_by_refund",
        "blocked_by_conversation_initiated_by_seller",
        "blocked_by_conversation_initiated_by_seller_limited",
        "blocked_by_ai_assistant_expired",
    }
)
# Blocks under which the messages themselves are withheld (§3.1, §9.2).
HIDES_MESSAGES = frozenset(
    {"blocked_by_conversation_expired", "blocked_by_cancelled_order_by_fraud"}
)


def evaluate(facts: BlockingFacts, now: datetime) -> ConversationState:
    for substatus, rule in RULES:
        verdict = rule(facts, now)
        if verdict:
            since = verdict if isinstance(verdict, datetime) else None
            return ConversationState("blocked", substatus, since)
    return ACTIVE


def check_send(state: ConversationState, facts: BlockingFacts, *, sender: Role) -> None:
    """Refuse a plain send (E3) into a conversation in ``state``, with the exact §6.3 answer."""
    if not state.blocked:
        return
    substatus = state.substatus
    if sender is Role.buyer and substatus in BUYER_MAY_WRITE:
        return
    if sender is Role.seller and substatus == "blocked_by_conversation_initiated_by_seller_limited":
        raise PostventaError(Code.BLOCKED_STARTED_BY_SELLER)
    if substatus in ("blocked_by_mediation", "blocked_by_mediation_fbm"):
        raise PostventaError(Code.SEND_MEDIATION_IN_PROCESS)
    if substatus == "blocked_by_fulfillment":
        raise PostventaError(Code.SEND_FULFILLMENT_NOT_DELIVERED)
    raise PostventaError(Code.SEND_BLOCKED)


# --- facts <-> JSON (storage keeps them as JSON objects) ---------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def facts_to_json(facts: OrderFacts | ConversationFacts) -> dict[str, Any]:
    return {f.name: _encode(getattr(facts, f.name)) for f in fields(facts)}


def _decode(cls: type[Any], data: dict[str, Any] | None) -> Any:
    if not data:
        return cls()
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if value is not None and f.name.endswith("_at"):
            value = datetime.fromisoformat(value)
        elif f.name == "claim_ids":
            value = tuple(value or ())
        values[f.name] = value
    return cls(**values)


def order_facts_from_json(data: dict[str, Any] | None) -> OrderFacts:
    result: OrderFacts = _decode(OrderFacts, data)
    return result


def conversation_facts_from_json(data: dict[str, Any] | None) -> ConversationFacts:
    result: ConversationFacts = _decode(ConversationFacts, data)
    return result


def with_changes(facts: Any, changed_at: datetime, **changes: Any) -> Any:
    return replace(facts, changed_at=changed_at, **changes)
