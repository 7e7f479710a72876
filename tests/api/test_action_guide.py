"""The action guide (E8–E10, §11) through HTTP, on a sale built from nothing by the operator API.

Options per site and logistic type, the §11.3 texts per site, caps that fall to 0 and reopen when
the buyer answers, and every error row of §11.6 in the guide's own envelope.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, insert, text

from postventa.api.app import create_app
from postventa.clock import FakeClock
from postventa.errors import Code
from postventa.rules import action_guide as guide_rules
from postventa.services import Services
from postventa.storage.action_guide import lock_key
from postventa.storage.action_guide_tables import action_guide_locks
from postventa.storage.db import Database
from tests.conftest import assert_error, make_settings
from tests.operator.test_blocking import OPERATOR, Sale, new_sale

NOW = "2026-11-01T12:00:00.000Z"  # FakeClock's start
ALL = ("REQUEST_VARIANTS", "REQUEST_BILLING_INFO", "SEND_INVOICE_LINK", "DELIVERY_PROMISE", "OTHER")
VARIANTS_ES = (
    "Hola, por favor confirma las características que quieres del producto que compraste, así "
    "podemos concretar el envío."
)
VARIANTS_PT = (
    "Olá! Por favor, confirme as características que quer para o produto que você comprou, "
    "assim, podemos fazer o envio."
)
_packs = itertools.count(7000)


def auth(sale: Sale, as_: str = "seller") -> dict[str, str]:
    return {"Authorization": f"Bearer {sale.tokens[as_]}"}


def guide_path(pack: int | str) -> str:
    return f"/messages/action_guide/packs/{pack}"


async def options(sale: Sale, as_: str = "seller", pack: int | str | None = None) -> httpx.Response:
    return await sale.http.get(
        f"{guide_path(pack or sale.pack)}?tag=post_sale", headers=auth(sale, as_)
    )


async def caps(sale: Sale, as_: str = "seller", pack: int | str | None = None) -> httpx.Response:
    return await sale.http.get(
        f"{guide_path(pack or sale.pack)}/caps_available?tag=post_sale", headers=auth(sale, as_)
    )


async def send_option(
    sale: Sale, body: Any, as_: str = "seller", pack: int | str | None = None
) -> httpx.Response:
    return await sale.http.post(
        f"{guide_path(pack or sale.pack)}/option?tag=post_sale", headers=auth(sale, as_), json=body
    )


async def cap_map(sale: Sale) -> dict[str, int]:
    response = await caps(sale)
    assert response.status_code == 200, response.text
    return {c["option_id"]: c["cap_available"] for c in response.json()}


def enabled_options(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {o["id"] for o in response.json()["options"] if o["enabled"]}


async def snapshot(sale: Sale) -> tuple[Any, ...]:
    """What a refused request must leave alone: messages, caps, the buyer's unread count."""
    read = await sale.read("seller")
    unread = await sale.http.get(
        f"/messages/unread/packs/{sale.pack}/sellers/{sale.seller}?role=buyer",
        headers=auth(sale, "buyer"),
    )
    caps_now = await caps(sale)
    return (
        read.json()["paging"]["total"],
        read.json()["conversation_status"],
        unread.json(),
        caps_now.status_code,
        caps_now.content,
    )


def variants() -> dict[str, str]:
    return {"option_id": "REQUEST_VARIANTS", "template_id": "TEMPLATE___REQUEST_VARIANTS___1"}


def promise(init: Any = 12, limit: Any = 23) -> dict[str, Any]:
    return {
        "option_id": "DELIVERY_PROMISE",
        "template_id": "TEMPLATE___DELIVERY_PROMISE___1",
        "vars": [
            {"id": "TEMPLATE___DELIVERY_PROMISE___1___VAR___INIT", "value": init},
            {"id": "TEMPLATE___DELIVERY_PROMISE___1___VAR___LIMIT", "value": limit},
        ],
    }


def sent_body(sale: Sale, response: httpx.Response, text: str) -> dict[str, Any]:
    """The §11.5 success body the response must equal (its id is the new message's)."""
    return {
        "id": response.json()["id"],
        "to": {"user_id": sale.buyer},
        "status": "available",
        "text": text,
        "message_date": {
            "received": NOW,
            "available": NOW,
            "notified": None,
            "created": NOW,
            "read": None,
        },
        "message_moderation": {
            "status": "clean",
            "reason": None,
            "source": "online",
            "moderation_date": NOW,
        },
    }


async def assert_sent(sale: Sale, response: httpx.Response, text: str) -> None:
    """200 with the exact body, and the message is in the conversation, unread for the buyer."""
    assert response.status_code == 200, response.text
    assert response.json() == sent_body(sale, response, text)
    assert len(response.json()["id"]) == 32
    read = (await sale.read("buyer")).json()
    assert [(m["id"], m["from"], m["text"]) for m in read["messages"]][-1] == (
        response.json()["id"],
        {"user_id": sale.seller},
        text,
    )
    unread = await sale.http.get(
        f"/messages/unread/packs/{sale.pack}/sellers/{sale.seller}?role=buyer",
        headers=auth(sale, "buyer"),
    )
    assert unread.json()["results"][0]["count"] == 1


# --- E8: options -------------------------------------------------------------------------


async def test_options_of_a_cross_docking_sale_have_the_documented_shape(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    response = await options(sale)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "options": [
            {
                "id": "REQUEST_VARIANTS",
                "internal_description": "Ask the buyer for the product's variant data",
                "enabled": True,
                "type": "template",
                "templates": [{"id": "TEMPLATE___REQUEST_VARIANTS___1", "vars": None}],
                "actionable": True,
                "child_options": None,
                "cap_available": 1,
            },
            {
                "id": "REQUEST_BILLING_INFO",
                "internal_description": "Ask the buyer for billing data",
                "enabled": True,
                "type": "template",
                "templates": [{"id": "TEMPLATE___REQUEST_BILLING_INFO___1", "vars": None}],
                "actionable": True,
                "child_options": None,
                "cap_available": 1,
            },
            {
                "id": "SEND_INVOICE_LINK",
                "internal_description": "Send the invoicing link",
                "enabled": True,
                "type": "free_text",
                "templates": None,
                "actionable": True,
                "char_limit": 350,
                "child_options": None,
                "cap_available": 1,
            },
            {
                "id": "DELIVERY_PROMISE",
                "internal_description": "Inform the delivery promise (Flex)",
                "enabled": False,
                "type": "TEMPLATE",
                "templates": [
                    {
                        "id": "TEMPLATE___DELIVERY_PROMISE___1",
                        "texts": {
                            "mla": {
                                "html": "Hola,Entregaremos tu compra %s entre las %d y las %d hs."
                            },
                            "mlb": {"html": "Olá,Entregaremos sua compra %s entre %d e %d h."},
                            "mlc": {
                                "html": "Hola,Entregaremos tu compra %s entre las %d y las %d hs."
                            },
                            "mco": {
                                "html": "Hola,Entregaremos tu compra %s entre las %d y las %d hs."
                            },
                            "mlu": {
                                "html": "Hola,Entregaremos tu compra %s entre las %d y las %d hs."
                            },
                        },
                        "vars": [
                            {
                                "id": "TEMPLATE___DELIVERY_PROMISE___1___VAR___INIT",
                                "type": "NUMBER",
                            },
                            {
                                "id": "TEMPLATE___DELIVERY_PROMISE___1___VAR___LIMIT",
                                "type": "NUMBER",
                            },
                        ],
                    }
                ],
                "actionable": False,
                "char_limit": None,
                "child_options": [],
                "cap_available": 1,
            },
            {
                "id": "OTHER",
                "internal_description": "Other reason (free text)",
                "enabled": True,
                "type": "free_text",
                "templates": None,
                "actionable": True,
                "char_limit": 350,
                "child_options": None,
                "cap_available": 1,
            },
        ]
    }


@pytest.mark.parametrize(
    ("logistic_type", "expected"),
    [
        (
            "cross_docking",
            {"REQUEST_VARIANTS", "REQUEST_BILLING_INFO", "SEND_INVOICE_LINK", "OTHER"},
        ),
        ("drop_off", {"REQUEST_VARIANTS", "REQUEST_BILLING_INFO", "SEND_INVOICE_LINK", "OTHER"}),
        ("xd_drop_off", {"REQUEST_VARIANTS", "REQUEST_BILLING_INFO", "SEND_INVOICE_LINK", "OTHER"}),
        (
            "self_service",
            {"REQUEST_BILLING_INFO", "SEND_INVOICE_LINK", "DELIVERY_PROMISE", "OTHER"},
        ),
        ("not_specified", {"REQUEST_BILLING_INFO", "SEND_INVOICE_LINK", "OTHER"}),
    ],
)
async def test_variants_only_for_cross_docking_and_drop_off_and_promise_only_for_flex(
    client: httpx.AsyncClient, clock: FakeClock, logistic_type: str, expected: set[str]
) -> None:
    sale = await new_sale(client, clock, logistic_type=logistic_type)
    assert enabled_options(await options(sale)) == expected
    for option_id in set(ALL) - expected:
        body = {"option_id": option_id, "template_id": f"TEMPLATE___{option_id}___1"}
        assert_error(await send_option(sale, body), Code.AG_OPTION_INVALID)


async def test_fulfillment_sale_once_delivered_offers_the_guide_without_other(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="fulfillment")
    assert_error(await options(sale), Code.AG_BLOCKED)  # blocked_by_fulfillment until delivered
    await sale.order_state(shipment_status="delivered")
    assert enabled_options(await options(sale)) == {"REQUEST_BILLING_INFO", "SEND_INVOICE_LINK"}


async def test_other_is_unavailable_once_the_shipment_is_delivered(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="drop_off")
    assert "OTHER" in enabled_options(await options(sale))
    await sale.order_state(shipment_status="delivered")
    other = next(o for o in (await options(sale)).json()["options"] if o["id"] == "OTHER")
    assert (other["enabled"], other["actionable"], other["cap_available"]) == (False, False, 1)
    before = await snapshot(sale)
    assert_error(
        await send_option(sale, {"option_id": "OTHER", "text": "Hola"}), Code.AG_OPTION_INVALID
    )
    assert await snapshot(sale) == before


# --- E10: every option, the texts per site ---------------------------------------------------


@pytest.mark.parametrize("site_id", ["MLA", "MLM", "MCO", "MLC", "MPE", "MEC", "MLU", "MLB"])
async def test_request_variants_sends_the_site_text(
    client: httpx.AsyncClient, clock: FakeClock, site_id: str
) -> None:
    sale = await new_sale(client, clock, site_id=site_id, logistic_type="cross_docking")
    response = await send_option(sale, variants())
    await assert_sent(sale, response, VARIANTS_PT if site_id == "MLB" else VARIANTS_ES)


BILLING = {
    "MLA": ["Nombre y apellido", "DNI", "Domicilio", "Código postal"],
    "MLM": ["Nombre y apellido", "RFC", "Domicilio", "Código postal"],
    "MCO": [
        "Nombre y apellido",
        "Tipo y número de documento",
        "Email",
        "Domicilio",
        "Código postal",
        "Código de municipio",
        "Código de departamento",
    ],
    "MLU": ["Nombre y apellido", "Cédula"],
    "MPE": ["Nombre y apellido", "DNI", "Domicilio", "Código postal"],
    "MEC": ["Nombre y apellido", "Tipo y número de documento", "Domicilio", "Código postal"],
}


@pytest.mark.parametrize("site_id", sorted(BILLING))
async def test_request_billing_info_sends_the_site_list(
    client: httpx.AsyncClient, clock: FakeClock, site_id: str
) -> None:
    sale = await new_sale(client, clock, site_id=site_id, logistic_type="drop_off")
    response = await send_option(
        sale,
        {"option_id": "REQUEST_BILLING_INFO", "template_id": "TEMPLATE___REQUEST_BILLING_INFO___1"},
    )
    header = "Para adjuntarte la factura de tu compra necesito los siguientes datos:"
    await assert_sent(sale, response, "\n".join([header, *(f"- {f}" for f in BILLING[site_id])]))


@pytest.mark.parametrize("site_id", ["MLB", "MLC"])
async def test_billing_info_is_not_offered_where_the_reference_lists_no_template(
    client: httpx.AsyncClient, clock: FakeClock, site_id: str
) -> None:
    sale = await new_sale(client, clock, site_id=site_id, logistic_type="drop_off")
    assert "REQUEST_BILLING_INFO" not in enabled_options(await options(sale))


@pytest.mark.parametrize("option_id", ["OTHER", "SEND_INVOICE_LINK"])
async def test_free_text_options_send_the_text_up_to_350_characters(
    client: httpx.AsyncClient, clock: FakeClock, option_id: str
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    too_long = await send_option(sale, {"option_id": option_id, "text": "á" * 351})
    assert_error(too_long, Code.AG_TEXT_INVALID)
    text = "Cómo estás María, " + "x" * 332
    assert len(text) == 350
    await assert_sent(sale, await send_option(sale, {"option_id": option_id, "text": text}), text)


@pytest.mark.parametrize("bad_text", [None, "", "   ", 42, "Привет"])
async def test_free_text_that_is_missing_blank_or_unsupported_is_invalid(
    client: httpx.AsyncClient, clock: FakeClock, bad_text: Any
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    before = await snapshot(sale)
    assert_error(
        await send_option(sale, {"option_id": "OTHER", "text": bad_text}), Code.AG_TEXT_INVALID
    )
    assert await snapshot(sale) == before


@pytest.mark.parametrize(
    ("site_id", "promise_at", "expected"),
    [
        ("MLA", None, "Hola,Entregaremos tu compra hoy entre las 12 y las 23 hs."),
        (
            "MLA",
            "2026-11-02T15:00:00Z",
            "Hola,Entregaremos tu compra mañana entre las 12 y las 23 hs.",
        ),
        (
            "MCO",
            "2026-11-04T15:00:00Z",
            "Hola,Entregaremos tu compra el próximo día hábil entre las 12 y las 23 hs.",
        ),
        ("MLB", "2026-11-02T15:00:00Z", "Olá,Entregaremos sua compra amanhã entre 12 e 23 h."),
    ],
)
async def test_delivery_promise_renders_the_day_and_hours(
    client: httpx.AsyncClient,
    clock: FakeClock,
    site_id: str,
    promise_at: str | None,
    expected: str,
) -> None:
    sale = await new_sale(
        client, clock, site_id=site_id, logistic_type="self_service", delivery_promise_at=promise_at
    )
    await assert_sent(sale, await send_option(sale, promise()), expected)


async def test_delivery_promise_is_not_offered_on_sites_without_its_text(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, site_id="MLM", logistic_type="self_service")
    assert "DELIVERY_PROMISE" not in enabled_options(await options(sale))
    assert_error(await send_option(sale, promise()), Code.AG_OPTION_INVALID)


async def test_delivery_promise_before_today_is_refused(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(
        client, clock, logistic_type="self_service", delivery_promise_at="2026-11-02T15:00:00Z"
    )
    clock.advance(timedelta(days=2))
    before = await snapshot(sale)
    assert_error(await send_option(sale, promise()), Code.AG_PROMISE_BEFORE_TODAY)
    assert await snapshot(sale) == before


@pytest.mark.parametrize(
    "body",
    [
        promise(init=23, limit=12),
        promise(init=-1),
        promise(limit=24),
        promise(init="doce"),
        promise(init=True),
        {**promise(), "vars": None},
        {**promise(), "vars": promise()["vars"][:1]},
    ],
)
async def test_delivery_promise_with_bad_hours_is_an_invalid_template(
    client: httpx.AsyncClient, clock: FakeClock, body: dict[str, Any]
) -> None:
    sale = await new_sale(client, clock, logistic_type="self_service")
    before = await snapshot(sale)
    assert_error(
        await send_option(sale, body),
        Code.AG_TEMPLATE_INVALID,
        template_id="TEMPLATE___DELIVERY_PROMISE___1",
    )
    assert await snapshot(sale) == before


@pytest.mark.parametrize(
    ("template_id", "shown"),
    [("TEMPLATE___REQUEST_VARIANTS___2", "TEMPLATE___REQUEST_VARIANTS___2"), (None, "null")],
)
async def test_wrong_or_missing_template_id_is_refused(
    client: httpx.AsyncClient, clock: FakeClock, template_id: str | None, shown: str
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    before = await snapshot(sale)
    body = {"option_id": "REQUEST_VARIANTS", "template_id": template_id}
    assert_error(await send_option(sale, body), Code.AG_TEMPLATE_INVALID, template_id=shown)
    assert await snapshot(sale) == before


@pytest.mark.parametrize("body", [{"option_id": "SAY_HELLO"}, {"text": "Hola"}, [1, 2], "OTHER"])
async def test_unknown_option_is_not_valid(
    client: httpx.AsyncClient, clock: FakeClock, body: Any
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    before = await snapshot(sale)
    assert_error(await send_option(sale, body), Code.AG_OPTION_INVALID)
    assert await snapshot(sale) == before


async def test_a_body_that_is_not_json_is_refused(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    response = await sale.http.post(
        f"{guide_path(sale.pack)}/option", headers=auth(sale), content=b"{option"
    )
    assert_error(response, Code.JSON_BODY_REQUIRED)


async def test_a_rejected_free_text_is_sent_moderated_as_the_reference_shows(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    text = "Sos un pelotudo, confirmame el talle"
    response = await send_option(sale, {"option_id": "OTHER", "text": text})
    assert response.status_code == 200, response.text
    expected = sent_body(sale, response, text)
    expected["status"] = "moderated"
    expected["message_date"]["available"] = None
    expected["message_moderation"].update(status="rejected", reason="out_of_place_language")
    assert response.json() == expected


async def test_templates_are_not_moderated(client: httpx.AsyncClient, clock: FakeClock) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    body = {"option_id": "REQUEST_VARIANTS", "template_id": "TEMPLATE___REQUEST_VARIANTS___1"}
    response = await send_option(sale, body)
    assert response.json()["message_moderation"]["status"] == "clean"


# --- caps: fall to 0, reopen when the buyer answers ------------------------------------------


async def test_caps_start_at_one_for_every_option(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    response = await caps(sale)
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"option_id": "REQUEST_VARIANTS", "cap_available": 1},
        {"option_id": "REQUEST_BILLING_INFO", "cap_available": 1},
        {"option_id": "SEND_INVOICE_LINK", "cap_available": 1},
        {"option_id": "DELIVERY_PROMISE", "cap_available": 1},
        {"option_id": "OTHER", "cap_available": 1},
    ]


async def test_using_an_option_spends_its_cap_and_a_second_use_is_refused(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    assert (await send_option(sale, {"option_id": "OTHER", "text": "¿Color?"})).status_code == 200
    assert await cap_map(sale) == {**dict.fromkeys(ALL, 1), "OTHER": 0}
    other = next(o for o in (await options(sale)).json()["options"] if o["id"] == "OTHER")
    assert (other["enabled"], other["actionable"], other["cap_available"]) == (True, False, 0)
    before = await snapshot(sale)
    again = await send_option(sale, {"option_id": "OTHER", "text": "¿Me contestás?"})
    assert_error(again, Code.AG_CAP_EXHAUSTED, option_id="OTHER")
    assert await snapshot(sale) == before
    # The other options keep their own caps.
    assert (await send_option(sale, variants())).status_code == 200
    assert await cap_map(sale) == {**dict.fromkeys(ALL, 1), "OTHER": 0, "REQUEST_VARIANTS": 0}


async def test_seller_cannot_follow_up_by_plain_send_until_the_buyer_answers(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    assert (await send_option(sale, variants())).status_code == 200
    status = await sale.status()
    assert (status["status"], status["substatus"]) == (
        "blocked",
        "blocked_by_conversation_initiated_by_seller_limited",
    )
    assert_error(await sale.send("seller", "¿Y?"), Code.BLOCKED_STARTED_BY_SELLER)


async def test_caps_reopen_when_the_buyer_answers_and_the_seller_then_uses_messages(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    assert (await send_option(sale, variants())).status_code == 200
    assert (await cap_map(sale))["REQUEST_VARIANTS"] == 0
    clock.advance(timedelta(minutes=5))
    assert (await sale.send("buyer", "Lo quiero en azul")).status_code == 200
    assert await cap_map(sale) == dict.fromkeys(ALL, 1)
    assert (await sale.status())["status"] == "active"
    # The conversation is open: further messages go through E3 (§11.1, §9.2).
    before = await snapshot(sale)
    assert_error(await send_option(sale, variants()), Code.AG_USE_MESSAGE_API)
    assert_error(await options(sale), Code.AG_USE_MESSAGE_API)
    assert await snapshot(sale) == before
    assert (await sale.send("seller", "¡Perfecto, sale hoy!")).status_code == 200


async def test_guide_on_a_conversation_the_buyer_started_says_use_the_message_api(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="drop_off")
    assert (await sale.send("buyer", "¿Cuándo llega?")).status_code == 200
    before = await snapshot(sale)
    response = await send_option(sale, {"option_id": "OTHER", "text": "Mañana"})
    assert_error(response, Code.AG_USE_MESSAGE_API)
    assert response.json()["cause"] == "blocked_by_conversation_use_message_api"
    assert await snapshot(sale) == before


# --- who may use the guide, and when ---------------------------------------------------------


@pytest.mark.parametrize("who", ["buyer", "stranger_pack", "non_numeric"])
async def test_only_the_pack_seller_may_use_the_guide(
    client: httpx.AsyncClient, clock: FakeClock, who: str
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    as_, pack = {
        "buyer": ("buyer", str(sale.pack)),
        "stranger_pack": ("seller", "2000000999999999"),
        "non_numeric": ("seller", "abc"),
    }[who]
    before = await snapshot(sale)
    for response in (
        await options(sale, as_, pack),
        await caps(sale, as_, pack),
        await send_option(sale, variants(), as_, pack),
    ):
        assert_error(response, Code.AG_PACK_FORBIDDEN, pack_id=pack)
    assert await snapshot(sale) == before


async def test_guide_needs_a_token(client: httpx.AsyncClient, clock: FakeClock) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    response = await client.get(guide_path(sale.pack))
    assert_error(response, Code.ACCESS_TOKEN_REQUIRED)


async def test_manufacturing_time_is_an_excepted_case_and_e3_is_free(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking", manufacturing_days=10)
    before = await snapshot(sale)
    for response in (await options(sale), await caps(sale), await send_option(sale, variants())):
        assert_error(response, Code.AG_EXCEPTED_CASE)
        assert response.json()["cause"] == "blocked_by_excepted_case"
    assert await snapshot(sale) == before


async def test_blocked_conversation_refuses_the_guide(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    assert (await sale.conversation_state(mediation="normal")).status_code == 200
    before = await snapshot(sale)
    assert_error(await options(sale), Code.AG_BLOCKED)
    assert_error(await send_option(sale, variants()), Code.AG_BLOCKED)
    assert await snapshot(sale) == before


async def test_buyer_with_a_deactivated_account_is_unavailable(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    await sale.user_state(sale.buyer, deactivated=True)
    before = await snapshot(sale)
    for response in (await options(sale), await caps(sale), await send_option(sale, variants())):
        assert_error(response, Code.AG_UNAVAILABLE)
    assert await snapshot(sale) == before


@asynccontextmanager
async def held_lock(services: Services, sale: Sale) -> AsyncIterator[None]:
    """Another request holding the seller+sale lock, as it would while its option runs."""
    db = services.db
    if db.is_postgres:
        async with db.write() as conn:
            key = lock_key(sale.seller, sale.pack)
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            yield
        return
    async with db.write() as conn:
        await conn.execute(
            insert(action_guide_locks).values(
                seller_id=sale.seller,
                pack_id=sale.pack,
                holder="another-request",
                expires_at=datetime.now(UTC) + timedelta(seconds=30),
            )
        )
    yield
    async with db.write() as conn:
        await conn.execute(delete(action_guide_locks))


async def test_an_execution_in_progress_on_the_sale_locks_out_another(
    client: httpx.AsyncClient, clock: FakeClock, services: Services
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    before = await snapshot(sale)
    async with held_lock(services, sale):
        assert_error(await send_option(sale, variants()), Code.AG_LOCKED)
        assert await snapshot(sale) == before
    assert (await send_option(sale, variants())).status_code == 200


async def test_a_lease_left_by_a_dead_process_expires(
    client: httpx.AsyncClient, clock: FakeClock, services: Services
) -> None:
    if services.db.is_postgres:
        pytest.skip("PostgreSQL releases advisory locks with the session; no lease to expire")
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    async with services.db.write() as conn:
        await conn.execute(
            insert(action_guide_locks).values(
                seller_id=sale.seller,
                pack_id=sale.pack,
                holder="crashed",
                expires_at=datetime.now(UTC) - timedelta(seconds=1),
            )
        )
    assert (await send_option(sale, variants())).status_code == 200


async def test_too_many_executions_per_minute_are_throttled(
    database_url: str, clock: FakeClock
) -> None:
    settings = make_settings(database_url, action_guide_rate_limit_per_minute=1)
    services = Services(settings=settings, db=Database(database_url), clock=clock)
    try:
        transport = httpx.ASGITransport(app=create_app(services))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            sale = await new_sale(http, clock, logistic_type="cross_docking")
            second_pack, second_order = next(_packs) + 3000000000000, next(_packs) + 3000000500000
            created = await http.post(
                "/_postventa/orders",
                headers=OPERATOR,
                json={
                    "id": second_order,
                    "pack_id": second_pack,
                    "seller_id": sale.seller,
                    "buyer_id": sale.buyer,
                    "logistic_type": "cross_docking",
                },
            )
            assert created.status_code == 201, created.text
            assert (await send_option(sale, variants())).status_code == 200
            throttled = await send_option(sale, variants(), pack=second_pack)
            assert_error(throttled, Code.AG_TOO_MANY_REQUESTS)
            clock.advance(timedelta(seconds=61))
            assert (await send_option(sale, variants(), pack=second_pack)).status_code == 200
    finally:
        await services.db.dispose()


async def test_an_unexpected_failure_answers_the_guides_500_and_writes_nothing(
    client: httpx.AsyncClient, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sale = await new_sale(client, clock, logistic_type="cross_docking")
    before = await snapshot(sale)

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("template store unreachable")

    monkeypatch.setattr(guide_rules, "render", broken)
    assert_error(await send_option(sale, variants()), Code.AG_INTERNAL)
    assert await snapshot(sale) == before


# --- the demo's action-guide conversation ------------------------------------------------

DEMO_GUIDE_PACK = 2000000089078004


async def test_demo_has_a_cross_docking_sale_opened_through_request_variants(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
    as_seller = {"Authorization": f"Bearer {seller['access_token']}"}
    (pack,) = [p for p in demo["packs"] if p["pack_id"] == DEMO_GUIDE_PACK]
    assert (pack["buyer_id"], pack["unread"], len(pack["message_ids"])) == (
        buyer["id"],
        {"seller": 0, "buyer": 0},
        1,
    )
    path = f"/messages/packs/{DEMO_GUIDE_PACK}/sellers/{seller['id']}"
    read = (await client.get(f"{path}?mark_as_read=false", headers=as_seller)).json()
    assert (read["conversation_status"]["status"], read["conversation_status"]["substatus"]) == (
        "blocked",
        "blocked_by_conversation_initiated_by_seller_limited",
    )
    assert [(m["from"]["user_id"], m["text"]) for m in read["messages"]] == [
        (seller["id"], VARIANTS_ES)
    ]
    caps_now = await client.get(f"{guide_path(DEMO_GUIDE_PACK)}/caps_available", headers=as_seller)
    assert {c["option_id"]: c["cap_available"] for c in caps_now.json()} == {
        **dict.fromkeys(ALL, 1),
        "REQUEST_VARIANTS": 0,
    }
    again = await client.post(
        f"{guide_path(DEMO_GUIDE_PACK)}/option", headers=as_seller, json=variants()
    )
    assert_error(again, Code.AG_CAP_EXHAUSTED, option_id="REQUEST_VARIANTS")
