"""Every substatus of §9.2 is reachable through the operator API, and sends answer as §6.3 says.

Each case builds a sale from nothing (users, application, tokens, order) through HTTP, changes
the facts or the clock, reads ``conversation_status`` through E1 and tries E3 as both sides.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from postventa.clock import FakeClock
from postventa.config import DEMO_OPERATOR_KEY
from postventa.errors import Code
from postventa.operator.users import AGENT_USER_IDS
from postventa.rules.blocking import SUBSTATUSES
from tests.conftest import assert_error

OPERATOR = {"X-Postventa-Operator-Key": DEMO_OPERATOR_KEY}
_ids = itertools.count(1000)


@dataclass
class Sale:
    http: httpx.AsyncClient
    clock: FakeClock
    seller: int
    buyer: int
    pack: int
    order: int
    tokens: dict[str, str]

    @property
    def path(self) -> str:
        return f"/messages/packs/{self.pack}/sellers/{self.seller}"

    async def status(self, as_: str = "seller") -> dict[str, Any]:
        response = await self.read(as_)
        assert response.status_code == 200, response.text
        status: dict[str, Any] = response.json()["conversation_status"]
        return status

    async def read(self, as_: str = "seller") -> httpx.Response:
        return await self.http.get(
            f"{self.path}?mark_as_read=false",
            headers={"Authorization": f"Bearer {self.tokens[as_]}"},
        )

    async def send(self, as_: str, text: str = "Hola", to: int | None = None) -> httpx.Response:
        me, other = (self.seller, self.buyer) if as_ == "seller" else (self.buyer, self.seller)
        return await self.http.post(
            self.path,
            headers={"Authorization": f"Bearer {self.tokens[as_]}"},
            json={"from": {"user_id": me}, "to": {"user_id": to or other}, "text": text},
        )

    async def order_state(self, **changes: Any) -> httpx.Response:
        return await self.http.post(
            f"/_postventa/orders/{self.order}/state", headers=OPERATOR, json=changes
        )

    async def conversation_state(self, **changes: Any) -> httpx.Response:
        return await self.http.post(
            f"/_postventa/packs/{self.pack}/sellers/{self.seller}/state",
            headers=OPERATOR,
            json=changes,
        )

    async def user_state(self, user: int, **changes: Any) -> None:
        response = await self.http.post(
            f"/_postventa/users/{user}/state", headers=OPERATOR, json=changes
        )
        assert response.status_code == 200, response.text


async def new_sale(
    http: httpx.AsyncClient, clock: FakeClock, *, site_id: str = "MLA", **order: Any
) -> Sale:
    seller, buyer, app = next(_ids), next(_ids), next(_ids)
    for user in (seller, buyer):
        created = await http.post(
            "/_postventa/users",
            headers=OPERATOR,
            json={"id": user, "nickname": f"U{user}", "site_id": site_id},
        )
        assert created.status_code == 201, created.text
    await http.post(
        "/_postventa/applications",
        headers=OPERATOR,
        json={"id": app, "owner_user_id": seller, "name": "Integrator"},
    )
    tokens = {}
    for role, user in (("seller", seller), ("buyer", buyer)):
        issued = await http.post(
            "/_postventa/tokens",
            headers=OPERATOR,
            json={"user_id": user, "application_id": app, "expires_in": 10 * 365 * 86400},
        )
        tokens[role] = issued.json()["access_token"]
    pack, order_id = 2000000000000 + next(_ids), 2000000500000 + next(_ids)
    created = await http.post(
        "/_postventa/orders",
        headers=OPERATOR,
        json={
            "id": order_id,
            "pack_id": pack,
            "seller_id": seller,
            "buyer_id": buyer,
            "site_id": site_id,
            **order,
        },
    )
    assert created.status_code == 201, created.text
    return Sale(http, clock, seller, buyer, pack, order_id, tokens)


def _ts(clock: FakeClock, delta: timedelta = timedelta(0)) -> str:
    at = clock.now() + delta
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


Step = Callable[[Sale], Awaitable[Any]]


async def _nothing(sale: Sale) -> None:
    return None


async def _buyer_writes(sale: Sale) -> None:
    assert (await sale.send("buyer")).status_code == 200


def _conv(**changes: Any) -> Step:
    async def step(sale: Sale) -> None:
        response = await sale.conversation_state(**changes)
        assert response.status_code == 200, response.text

    return step


def _order(**changes: Any) -> Step:
    async def step(sale: Sale) -> None:
        response = await sale.order_state(**changes)
        assert response.status_code == 200, response.text

    return step


def _then(*steps: Step) -> Step:
    async def step(sale: Sale) -> None:
        for each in steps:
            await each(sale)

    return step


def _advance(delta: timedelta) -> Step:
    async def step(sale: Sale) -> None:
        sale.clock.advance(delta)

    return step


def _user(which: str, **changes: Any) -> Step:
    async def step(sale: Sale) -> None:
        await sale.user_state(sale.seller if which == "seller" else sale.buyer, **changes)

    return step


# substatus -> (order fields, steps, seller's send refusal, may the buyer write?)
CASES: dict[str, tuple[dict[str, Any], Step, Code, bool]] = {
    "blocked_by_time": (
        {},
        _then(_buyer_writes, _advance(timedelta(days=30, seconds=1))),
        Code.SEND_BLOCKED,
        True,
    ),
    "blocked_by_buyer": ({}, _conv(buyer_blocked=True), Code.SEND_BLOCKED, False),
    "blocked_by_mediation": ({}, _conv(mediation="normal"), Code.SEND_MEDIATION_IN_PROCESS, False),
    "blocked_by_fulfillment": (
        {"logistic_type": "fulfillment"},
        _nothing,
        Code.SEND_FULFILLMENT_NOT_DELIVERED,
        False,
    ),
    "blocked_by_payment": (
        {"payment_status": "payment_in_process"},
        _nothing,
        Code.SEND_BLOCKED,
        False,
    ),
    "blocked_by_conversation_initiated_by_seller": (
        {"supermarket": True},
        _nothing,
        Code.SEND_BLOCKED,
        True,
    ),
    "blocked_by_conversation_initiated_by_seller_limited": (
        {"logistic_type": "cross_docking"},
        _nothing,
        Code.BLOCKED_STARTED_BY_SELLER,
        True,
    ),
    "blocked_by_cancelled_order": ({}, _order(cancellation="normal"), Code.SEND_BLOCKED, False),
    "blocked_by_cancelled_order_by_fraud": (
        {},
        _then(_buyer_writes, _order(cancellation="fraud")),
        Code.SEND_BLOCKED,
        False,
    ),
    "blocked_by_mediation_fbm": (
        {},
        _conv(mediation="fulfillment"),
        Code.SEND_MEDIATION_IN_PROCESS,
        False,
    ),
    "blocked_by_guest_shops": ({"guest": True}, _nothing, Code.SEND_BLOCKED, False),
    "blocked_by_conversation_expired": (
        {},
        _then(_buyer_writes, _advance(timedelta(days=549))),
        Code.SEND_BLOCKED,
        False,
    ),
    "blocked_by_refund": ({}, _order(refund="partial"), Code.SEND_BLOCKED, True),
    "blocked_by_claim_change_closed": (
        {},
        _conv(product_change="closed"),
        Code.SEND_BLOCKED,
        False,
    ),
    "blocked_by_deactivated_account": (
        {},
        _user("buyer", deactivated=True),
        Code.SEND_BLOCKED,
        False,
    ),
    "blocked_by_restrictions": ({}, _user("seller", restricted=True), Code.SEND_BLOCKED, False),
    "blocked_by_cancelled_order_hidden": (
        {},
        _order(cancellation="hidden"),
        Code.SEND_BLOCKED,
        False,
    ),
    "blocked_by_claim_change_open": ({}, _conv(product_change="open"), Code.SEND_BLOCKED, False),
    "blocked_by_message_pending_review": ({}, _conv(pending_review=True), Code.SEND_BLOCKED, False),
    "blocked_by_return_to_buyer_fulfillment": (
        {"logistic_type": "fulfillment", "shipment_status": "delivered"},
        _order(return_to_buyer=True),
        Code.SEND_BLOCKED,
        False,
    ),
    "blocked_by_ai_assistant": (
        {"logistic_type": "fulfillment"},
        _conv(ai_assistant="enabled"),
        Code.SEND_BLOCKED,
        False,
    ),
    "blocked_by_ai_assistant_expired": ({}, _conv(ai_assistant="expired"), Code.SEND_BLOCKED, True),
    "blocked_by_ai_assistant_contact_closed": (
        {},
        _conv(ai_assistant="contact_closed"),
        Code.SEND_BLOCKED,
        False,
    ),
    "block_by_ai_assistant_initiated_by_seller_expired": (
        {},
        _conv(ai_assistant="seller_initiated_expired"),
        Code.SEND_BLOCKED,
        False,
    ),
    "blocked_by_resale": ({"resale": True}, _nothing, Code.SEND_BLOCKED, False),
    "blocked_by_proximity_groceries": ({"proximity": True}, _nothing, Code.SEND_BLOCKED, False),
}


def test_every_substatus_of_the_rule_table_has_a_case() -> None:
    assert set(SUBSTATUSES) == set(CASES)


@pytest.mark.parametrize("substatus", list(CASES))
async def test_substatus_is_reached_and_enforced(
    client: httpx.AsyncClient, clock: FakeClock, substatus: str
) -> None:
    order, step, seller_refusal, buyer_may_write = CASES[substatus]
    sale = await new_sale(client, clock, **order)
    await step(sale)
    status = await sale.status()
    assert (status["status"], status["substatus"]) == ("blocked", substatus)
    messages_before = (await sale.read()).json()["paging"]["total"]
    assert_error(await sale.send("seller", "Hola, ¿cómo va todo?"), seller_refusal)
    assert (await sale.read()).json()["paging"]["total"] == messages_before
    buyer_try = await sale.send("buyer", "Hola, necesito ayuda")
    if buyer_may_write:
        assert buyer_try.status_code == 200, buyer_try.text
    else:
        # The mediation and Full refusals name their reason to either side (§6.3).
        named = (Code.SEND_MEDIATION_IN_PROCESS, Code.SEND_FULFILLMENT_NOT_DELIVERED)
        assert_error(buyer_try, seller_refusal if seller_refusal in named else Code.SEND_BLOCKED)


async def test_time_block_dates_from_when_the_window_closed_and_buyer_reopens_it(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock)
    await _buyer_writes(sale)
    last = _ts(clock)
    clock.advance(timedelta(days=30) - timedelta(seconds=1))
    assert (await sale.status())["status"] == "active"
    assert (await sale.send("seller", "Respuesta a tiempo")).status_code == 200
    clock.advance(timedelta(days=30, seconds=1))
    status = await sale.status()
    assert status["substatus"] == "blocked_by_time"
    assert status["status_date"] == _ts(clock, -timedelta(seconds=1))
    assert last < status["status_date"]
    assert (await sale.send("buyer", "¿Siguen ahí?")).status_code == 200
    reopened = await sale.status()
    assert (reopened["status"], reopened["substatus"], reopened["status_date"]) == (
        "active",
        None,
        _ts(clock),
    )
    assert (await sale.send("seller", "¡Sí! Perdón la demora.")).status_code == 200


async def test_fraud_and_expiry_withhold_the_messages(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock)
    await _buyer_writes(sale)
    assert (await sale.read()).json()["paging"]["total"] == 1
    await sale.order_state(cancellation="fraud")
    for role in ("seller", "buyer"):
        body = (await sale.read(role)).json()
        assert (body["messages"], body["paging"]["total"]) == ([], 0)


async def test_mediation_accepts_the_odd_spelling_and_emits_the_right_one(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock)
    blocked = await client.post(
        f"/_postventa/packs/{sale.pack}/sellers/{sale.seller}/block",
        headers=OPERATOR,
        json={"substatus": "bloqued_by_mediation"},
    )
    assert blocked.status_code == 200, blocked.text
    assert blocked.json()["conversation_status"]["substatus"] == "blocked_by_mediation"
    assert (await sale.status())["substatus"] == "blocked_by_mediation"
    await sale.conversation_state(mediation=None)
    assert (await sale.status())["status"] == "active"


async def test_fulfillment_opens_on_delivery_then_waits_for_the_buyer(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="fulfillment", shipping_id=4455)
    assert (await sale.status())["shipping_id"] == 4455
    await sale.order_state(shipment_status="shipped")
    assert (await sale.status())["substatus"] == "blocked_by_fulfillment"
    await sale.order_state(shipment_status="delivered")
    # Delivered: an ME2 sale the seller may not start by plain send.
    assert (await sale.status())[
        "substatus"
    ] == "blocked_by_conversation_initiated_by_seller_limited"
    assert (await sale.send("buyer", "Llegó perfecto, gracias")).status_code == 200
    assert (await sale.status())["status"] == "active"
    assert (await sale.send("seller", "¡Gracias a vos!")).status_code == 200


async def test_claims_are_listed_in_both_spellings(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock)
    await sale.conversation_state(claim={"id": 5301234567, "status": "opened"})
    status = await sale.status()
    assert (status["claim_id"], status["claim_ids"]) == (5301234567, [5301234567])


async def test_nonsense_transitions_are_refused_and_change_nothing(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock)
    await sale.order_state(cancellation="normal")
    before = await sale.status()
    refused = await sale.order_state(shipment_status="delivered")
    assert_error(
        refused,
        Code.OPERATOR_TRANSITION_REFUSED,
        kind="Order",
        id=sale.order,
        reason="a cancelled order cannot be shipped or delivered",
    )
    assert_error(
        await sale.order_state(cancellation="fraud"),
        Code.OPERATOR_TRANSITION_REFUSED,
        kind="Order",
        id=sale.order,
        reason="a cancelled order stays cancelled",
    )
    unpaid = await new_sale(client, clock, payment_status="payment_required")
    assert_error(
        await unpaid.order_state(refund="total"),
        Code.OPERATOR_TRANSITION_REFUSED,
        kind="Order",
        id=unpaid.order,
        reason="only a paid order can be refunded",
    )
    assert await sale.status() == before
    unknown = await client.post("/_postventa/orders/1/state", headers=OPERATOR, json={})
    assert_error(unknown, Code.OPERATOR_NOT_FOUND, kind="Order", id=1)
    bad = await sale.order_state(payment_status="maybe")
    assert bad.status_code == 400


async def test_state_changes_are_idempotent_by_key(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock)
    headers = {**OPERATOR, "Idempotency-Key": f"refund-{sale.order}"}
    first = await client.post(
        f"/_postventa/orders/{sale.order}/state", headers=headers, json={"refund": "total"}
    )
    clock.advance(timedelta(minutes=5))
    again = await client.post(
        f"/_postventa/orders/{sale.order}/state", headers=headers, json={"refund": "total"}
    )
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    other = await client.post(
        f"/_postventa/orders/{sale.order}/state", headers=headers, json={"refund": "partial"}
    )
    assert_error(other, Code.IDEMPOTENCY_KEY_REUSED, key=f"refund-{sale.order}")


async def test_agent_threads_route_through_the_site_agent_one_message_at_a_time(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, site_id="MLB", logistic_type="not_specified")
    agent = AGENT_USER_IDS["MLB"]
    await sale.conversation_state(agent_thread=True)
    assert (await sale.send("buyer", "Olá, quando chega?")).status_code == 200
    status = await sale.status()
    assert status["path"] == f"/packs/{sale.pack}/sellers/{sale.seller}/conversations/post_sale"
    inbound = (await sale.read()).json()["messages"][0]
    assert (inbound["from"], inbound["to"]) == ({"user_id": agent}, {"user_id": sale.seller})
    assert_error(
        await sale.send("seller", "Chega amanhã", to=sale.buyer),
        Code.RECEIVER_NOT_IN_ORDER,
        resource_id=sale.pack,
    )
    clock.advance(timedelta(seconds=1))
    sent = await sale.send("seller", "Chega amanhã", to=agent)
    assert sent.status_code == 200, sent.text
    assert sent.json()["to"] == {"user_id": agent}
    assert_error(
        await sale.send("seller", "Mais uma coisa", to=agent), Code.AGENT_ONE_MESSAGE_AT_A_TIME
    )
    clock.advance(timedelta(seconds=1))
    assert (await sale.send("buyer", "Obrigado!")).status_code == 200
    clock.advance(timedelta(seconds=1))
    assert (await sale.send("seller", "De nada", to=agent)).status_code == 200


async def test_agent_thread_expires_after_48_business_hours(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, site_id="MLC")
    await sale.conversation_state(agent_thread=True)
    # FakeClock starts on Sunday 2026-11-01 12:00: the 48 business hours run Mon 00:00 - Wed 00:00.
    await _buyer_writes(sale)
    clock.advance(timedelta(hours=59, minutes=59))
    assert (await sale.status())["status"] == "active"
    clock.advance(timedelta(minutes=1))
    status = await sale.status()
    assert (status["substatus"], status["status_date"]) == (
        "blocked_by_ai_assistant_expired",
        "2026-11-04T00:00:00.000Z",
    )


async def test_orders_carry_their_items(client: httpx.AsyncClient, clock: FakeClock) -> None:
    items = [
        {
            "id": "MLA1234567890",
            "title": "Sillón 3 cuerpos gris",
            "quantity": 1,
            "unit_price": "459999.90",
            "currency_id": "ARS",
        }
    ]
    sale = await new_sale(client, clock, items=items)
    described = await client.get(
        f"/_postventa/packs/{sale.pack}/sellers/{sale.seller}", headers=OPERATOR
    )
    order = described.json()["orders"][0]
    assert (order["id"], order["items"]) == (sale.order, items)
    bad = [{**items[0], "quantity": 0}]
    refused = await client.post(
        "/_postventa/orders",
        headers=OPERATOR,
        json={"id": 1, "seller_id": sale.seller, "buyer_id": sale.buyer, "items": bad},
    )
    assert refused.status_code == 400
