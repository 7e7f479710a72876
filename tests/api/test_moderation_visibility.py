"""Moderated sends: a 200 that says so, visible to the sender only, never unread for anyone."""

from __future__ import annotations

from typing import Any

import httpx

from postventa.errors import Code
from tests.conftest import assert_error, bearer

PACK = 2000000089077988  # the empty demo pack of the seller and buyer
PATH = f"/messages/packs/{PACK}/sellers/415458330"
NOW = "2026-11-01T12:00:00.000Z"


async def _send(client: httpx.AsyncClient, demo: dict[str, Any], who: str, text: str) -> Any:
    users = demo["users"]
    me, other = (
        (users["seller"], users["buyer"])
        if who == "seller"
        else (
            users["buyer"],
            users["seller"],
        )
    )
    response = await client.post(
        PATH,
        headers=bearer(me),
        json={"from": {"user_id": me["id"]}, "to": {"user_id": other["id"]}, "text": text},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _unread(client: httpx.AsyncClient, user: dict[str, Any]) -> int:
    body = (await client.get(f"/messages/unread{PATH[9:]}", headers=bearer(user))).json()
    count: int = body["results"][0]["count"]
    return count


async def test_a_rejected_send_still_succeeds_and_says_why(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    sent = await _send(client, demo, "seller", "Llamame al celular 11 5555-1234 y lo vemos")
    assert sent["status"] == "moderated"
    assert sent["message_moderation"] == {
        "status": "rejected",
        "reason": "personal_data",
        "source": "online",
        "moderation_date": NOW,
    }
    assert sent["message_date"]["available"] is None


async def test_the_receiver_never_sees_it_nor_counts_it(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
    clean = await _send(client, demo, "seller", "¡Hola! Ya despachamos tu pedido.")
    rejected = await _send(client, demo, "seller", "Pagame por fuera: paypal.me/tiendaaurora")
    assert rejected["message_moderation"]["reason"] == "ml_links_paypal"
    assert await _unread(client, buyer) == 1
    as_buyer = (await client.get(f"{PATH}?mark_as_read=false", headers=bearer(buyer))).json()
    assert [m["id"] for m in as_buyer["messages"]] == [clean["id"]]
    assert as_buyer["paging"]["total"] == 1
    as_seller = (await client.get(f"{PATH}?mark_as_read=false", headers=bearer(seller))).json()
    assert [m["id"] for m in as_seller["messages"]] == [clean["id"], rejected["id"]]
    assert as_seller["paging"]["total"] == 2
    assert as_seller["messages"][1]["status"] == "moderated"
    hidden = await client.get(f"/messages/{rejected['id']}", headers=bearer(buyer))
    assert_error(hidden, Code.MESSAGE_ID_NOT_EXISTS)
    own = await client.get(f"/messages/{rejected['id']}", headers=bearer(seller))
    assert own.json()["messages"][0]["text"] == "Pagame por fuera: paypal.me/tiendaaurora"
    marked = await client.put(f"/messages/mark_as_read/{rejected['id']}", headers=bearer(buyer))
    assert_error(marked, Code.MARK_ID_NOT_EXISTS, message_id=rejected["id"])
    # Reading clears exactly the visible message.
    await client.get(PATH, headers=bearer(buyer))
    assert await _unread(client, buyer) == 0


async def test_a_rejected_buyer_message_is_hidden_from_the_seller(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]
    rejected = await _send(client, demo, "buyer", "Sos un pelotudo, devolveme la plata")
    assert rejected["message_moderation"]["reason"] == "out_of_place_language"
    assert await _unread(client, seller) == 0
    body = (await client.get(f"{PATH}?mark_as_read=false", headers=bearer(seller))).json()
    assert (body["messages"], body["paging"]["total"]) == ([], 0)
    unread = (await client.get("/messages/unread", headers=bearer(seller))).json()
    assert f"/packs/{PACK}/sellers/415458330" not in {r["resource"] for r in unread["results"]}


async def test_the_demo_has_a_moderated_conversation(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    pack = next(p for p in demo["packs"] if p["pack_id"] == 2000000089078005)
    path = f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}?mark_as_read=false"
    seller, buyer2 = demo["users"]["seller"], demo["users"]["buyer2"]
    as_seller = (await client.get(path, headers=bearer(seller))).json()["messages"]
    as_buyer = (await client.get(path, headers=bearer(buyer2))).json()["messages"]
    assert [m["message_moderation"]["reason"] for m in as_seller] == [
        None,
        None,
        "personal_data",
        None,
    ]
    assert [m["id"] for m in as_buyer] == [pack["message_ids"][i] for i in (0, 1, 3)]
    assert pack["unread"] == {"seller": 0, "buyer": 1}


REASONS = {
    "personal_data": ("buyer", "Llamame al 11 5555-4444 así coordinamos la entrega."),
    "social_network_link": ("seller", "Seguinos en Instagram @tiendajuan para ver novedades"),
    "link_short_url": ("seller", "Mirá el video del producto: bit.ly/3xYzAbc"),
    "link_mercadopago": ("seller", "Te paso el link de pago por la diferencia: mpago.la/2xYzAb"),
    "ml_links_paypal": ("seller", "Si preferís, pagame por PayPal: paypal.me/tiendajuan"),
    "evasion_claim_seller": ("seller", "Por favor no abras un reclamo, lo solucionamos nosotros."),
    "out_of_place_language": ("buyer", "Sos un pelotudo, me mandaste cualquier cosa."),
    "automatic_message": ("seller", "Este es un mensaje automático. Tu compra fue confirmada."),
}


async def test_every_reason_of_the_reference_is_reached_through_http(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    """The eight §10.4 reasons, each from a send through E3 (lower case, as the example shows)."""
    for reason, (who, text) in REASONS.items():
        sent = await _send(client, demo, who, text)
        assert (sent["status"], sent["message_moderation"]["status"]) == ("moderated", "rejected")
        assert sent["message_moderation"]["reason"] == reason, text
