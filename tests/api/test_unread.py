"""E6 ``GET /messages/unread`` and E7 ``GET /messages/unread/{resource}`` (§8.1, §8.2).

E6 lists the caller's conversations with unread messages, newest activity first, capped at
``unread_cap``; a missing or invalid ``role`` means ``seller`` (or both roles with the setting
``unread_default_role=all``). E7 lists the caller's own conversation even at count 0, and answers
``[]`` for anything else. Neither marks anything read.

Demo unread counts: seller 3 (pack ...943), 1 (pack ...961, buyer2), 1 (order ...345); buyer 3
(pack ...950); buyer2 1 (pack ...961).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import insert

from postventa.api.app import create_app
from postventa.clock import FakeClock
from postventa.services import Services
from postventa.storage.db import Database
from postventa.storage.tables import conversations
from tests.conftest import bearer, make_settings

SELLER_ID = 415458330
BUYER_ID = 618491100
BUYER2_ID = 700112233
STRANGER_ID = 812345678
SOFA = "/packs/2000000089077943/sellers/415458330"  # seller 3 unread, buyer 0; oldest activity
CABLE = "/packs/2000000089077950/sellers/415458330"  # buyer 3 unread
TENIS = "/packs/2000000089077961/sellers/415458330"  # buyer2: 1 unread each side
LAMPARA = "/packs/2000000089077977/sellers/415458330"  # buyer2: all read
MATE = "/packs/2000004567812345/sellers/415458330"  # order without pack; seller 1 unread, newest
SELLER_UNREAD = [  # newest activity first
    {"resource": MATE, "count": 1},
    {"resource": TENIS, "count": 1},
    {"resource": SOFA, "count": 3},
]


async def unread(client: httpx.AsyncClient, user: dict[str, Any], **params: str) -> dict[str, Any]:
    response = await client.get("/messages/unread", params=params, headers=bearer(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def unread_of(
    client: httpx.AsyncClient, user: dict[str, Any], resource: str, **params: str
) -> dict[str, Any]:
    response = await client.get(
        f"/messages/unread/{resource.lstrip('/')}", params=params, headers=bearer(user)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def send(
    client: httpx.AsyncClient, sender: dict[str, Any], receiver_id: int, resource: str, text: str
) -> None:
    response = await client.post(
        f"/messages{resource}",
        json={"from": {"user_id": sender["id"]}, "to": {"user_id": receiver_id}, "text": text},
        headers=bearer(sender),
    )
    assert response.status_code == 200, response.text


@asynccontextmanager
async def client_with(
    database_url: str, clock: FakeClock, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app built with non-default settings, over the same (demo) database."""
    settings = make_settings(database_url, **overrides)
    db = Database(settings.database_url, pool_size=2)
    try:
        app = create_app(Services(settings=settings, db=db, clock=clock))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await db.dispose()


# --- E6: roles -----------------------------------------------------------------------------------


async def test_role_seller_lists_unread_conversations_newest_activity_first(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    body = await unread(client, demo["users"]["seller"], role="seller")

    assert body == {"user_id": SELLER_ID, "results": SELLER_UNREAD}


async def test_role_buyer_lists_the_callers_purchases_with_unread_messages(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    users = demo["users"]

    assert await unread(client, users["buyer"], role="buyer") == {
        "user_id": BUYER_ID,
        "results": [{"resource": CABLE, "count": 3}],
    }
    # Newest activity first: the moderated demo pack's visible answer, then the sneakers.
    assert await unread(client, users["buyer2"], role="buyer") == {
        "user_id": BUYER2_ID,
        "results": [
            {"resource": "/packs/2000000089078005/sellers/415458330", "count": 1},
            {"resource": TENIS, "count": 1},
        ],
    }
    assert await unread(client, users["seller"], role="buyer") == {
        "user_id": SELLER_ID,
        "results": [],
    }


async def test_a_missing_or_invalid_role_means_seller(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    for params in ({}, {"role": ""}, {"role": "Seller"}, {"role": "BUYER"}, {"role": "all"}):
        seller_view = await unread(client, demo["users"]["seller"], **params)
        buyer_view = await unread(client, demo["users"]["buyer"], **params)

        assert seller_view == {"user_id": SELLER_ID, "results": SELLER_UNREAD}, params
        assert buyer_view == {"user_id": BUYER_ID, "results": []}, params


async def test_with_default_role_all_a_missing_role_covers_both_roles_newest_first(
    client: httpx.AsyncClient,
    demo: dict[str, Any],
    services: Services,
    clock: FakeClock,
    database_url: str,
) -> None:
    # The demo buyer also sells something to the stranger, who just wrote to them.
    buyer, stranger = demo["users"]["buyer"], demo["users"]["stranger"]
    own_sale = f"/packs/2000000099999999/sellers/{BUYER_ID}"
    async with services.db.write() as conn:
        await conn.execute(
            insert(conversations).values(
                seller_id=BUYER_ID,
                pack_id=2000000099999999,
                buyer_id=STRANGER_ID,
                site_id="MLA",
                status_date=clock.now(),
                created_at=clock.now(),
            )
        )
    await send(client, stranger, BUYER_ID, own_sale, "Hola, ¿sigue disponible?")

    async with client_with(database_url, clock, unread_default_role="all") as http:
        for params in ({}, {"role": "everything"}):
            assert await unread(http, buyer, **params) == {
                "user_id": BUYER_ID,
                "results": [{"resource": own_sale, "count": 1}, {"resource": CABLE, "count": 3}],
            }
        assert await unread(http, buyer, role="buyer") == {
            "user_id": BUYER_ID,
            "results": [{"resource": CABLE, "count": 3}],
        }
        assert await unread(http, buyer, role="seller") == {
            "user_id": BUYER_ID,
            "results": [{"resource": own_sale, "count": 1}],
        }


async def test_unread_cap_keeps_only_the_newest_conversations(
    demo: dict[str, Any], clock: FakeClock, database_url: str
) -> None:
    async with client_with(database_url, clock, unread_cap=2) as http:
        body = await unread(http, demo["users"]["seller"], role="seller")

    assert body == {"user_id": SELLER_ID, "results": SELLER_UNREAD[:2]}


async def test_a_user_without_conversations_gets_empty_results(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    for role in ("seller", "buyer"):
        body = await unread(client, demo["users"]["stranger"], role=role)

        assert body == {"user_id": STRANGER_ID, "results": []}


# --- E7 ------------------------------------------------------------------------------------------


async def test_unread_of_an_own_conversation_gives_its_count(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    body = await unread_of(client, demo["users"]["seller"], SOFA)

    assert body == {"user_id": SELLER_ID, "results": [{"resource": SOFA, "count": 3}]}


async def test_an_own_conversation_is_listed_even_when_all_read(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    users = demo["users"]

    assert await unread_of(client, users["seller"], LAMPARA) == {
        "user_id": SELLER_ID,
        "results": [{"resource": LAMPARA, "count": 0}],
    }
    assert await unread_of(client, users["buyer"], SOFA) == {
        "user_id": BUYER_ID,
        "results": [{"resource": SOFA, "count": 0}],
    }


async def test_each_party_sees_its_own_count_of_the_same_conversation(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    users = demo["users"]

    seller_view = await unread_of(client, users["seller"], CABLE)
    buyer_view = await unread_of(client, users["buyer"], CABLE)

    assert seller_view["results"] == [{"resource": CABLE, "count": 0}]
    assert buyer_view["results"] == [{"resource": CABLE, "count": 3}]


async def test_the_singular_seller_segment_names_the_same_conversation(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    body = await unread_of(client, demo["users"]["seller"], SOFA.replace("/sellers/", "/seller/"))

    assert body == {"user_id": SELLER_ID, "results": [{"resource": SOFA, "count": 3}]}


async def test_someone_elses_conversation_gives_no_results(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    users = demo["users"]

    assert await unread_of(client, users["buyer2"], SOFA) == {
        "user_id": BUYER2_ID,
        "results": [],
    }
    assert await unread_of(client, users["stranger"], SOFA) == {
        "user_id": STRANGER_ID,
        "results": [],
    }


async def test_an_unknown_or_garbage_resource_gives_no_results(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    for resource in [
        "packs/2000000000000001/sellers/415458330",  # unknown pack
        "packs/2000000089077943/sellers/618491100",  # right pack, wrong seller
        "packs/abc/sellers/415458330",
        "packs/99999999999999999999/sellers/415458330",  # past 64 bits
        "packs/2000000089077943",
        "orders/2000004000000001",
        "foo",
    ]:
        body = await unread_of(client, demo["users"]["seller"], resource)

        assert body == {"user_id": SELLER_ID, "results": []}, resource


# --- no side effects, and the tag ----------------------------------------------------------------


async def test_asking_for_unread_counts_never_marks_anything_read(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]

    for _ in range(2):
        await unread(client, seller)
        await unread(client, seller, role="seller")
        await unread_of(client, seller, SOFA)

    assert await unread(client, seller, role="seller") == {
        "user_id": SELLER_ID,
        "results": SELLER_UNREAD,
    }
    page = await client.get(f"/messages{SOFA}?offset=26&mark_as_read=false", headers=bearer(seller))
    assert [m["message_date"]["read"] for m in page.json()["messages"]] == [None, None, None]


async def test_tag_post_sale_is_accepted(client: httpx.AsyncClient, demo: dict[str, Any]) -> None:
    seller = demo["users"]["seller"]

    assert await unread(client, seller, role="seller", tag="post_sale") == await unread(
        client, seller, role="seller"
    )
    assert await unread_of(client, seller, SOFA, tag="post_sale") == await unread_of(
        client, seller, SOFA
    )


# --- counts follow sends and reads ---------------------------------------------------------------


async def test_a_new_message_counts_for_the_receiver_only_and_moves_to_the_top(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, buyer2 = demo["users"]["seller"], demo["users"]["buyer2"]

    await send(client, buyer2, SELLER_ID, LAMPARA, "Hola, ¿tienen la misma lámpara en negro?")

    assert (await unread_of(client, seller, LAMPARA))["results"] == [
        {"resource": LAMPARA, "count": 1}
    ]
    assert (await unread_of(client, buyer2, LAMPARA))["results"] == [
        {"resource": LAMPARA, "count": 0}
    ]
    assert (await unread(client, seller, role="seller"))["results"] == [
        {"resource": LAMPARA, "count": 1},
        *SELLER_UNREAD,
    ]


async def test_a_second_message_adds_to_the_count(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]

    await send(client, buyer, SELLER_ID, SOFA, "¿Confirmado el martes?")
    await send(client, buyer, SELLER_ID, SOFA, "Avísenme, gracias.")

    assert (await unread_of(client, seller, SOFA))["results"] == [{"resource": SOFA, "count": 5}]
    assert (await unread(client, seller, role="seller"))["results"][0] == {
        "resource": SOFA,
        "count": 5,
    }


async def test_reading_a_conversation_drops_it_from_the_unread_list(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]

    response = await client.get(f"/messages{SOFA}", headers=bearer(seller))
    assert response.status_code == 200

    assert (await unread_of(client, seller, SOFA))["results"] == [{"resource": SOFA, "count": 0}]
    assert (await unread(client, seller, role="seller"))["results"] == SELLER_UNREAD[:2]
