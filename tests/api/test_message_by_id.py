"""E2 ``GET /messages/{message_id}``: one message, in the new (§5a) or the legacy (§5b) format.

``x-format-new: false`` asks for the legacy flat format; no header or ``true`` gives the new one.
E2 never marks anything read. Demo data: the order without pack 2000004567812345 holds two
messages, the seller's (read by the buyer) and the buyer's answer (still unread by the seller).
"""

from __future__ import annotations

from typing import Any

import httpx

from postventa.errors import Code
from tests.api.bodies import clean_message
from tests.conftest import assert_error, bearer

SELLER_ID = 415458330
BUYER_ID = 618491100
ORDER_WITHOUT_PACK = 2000004567812345
SELLERS_NOTICE = 0  # seller -> buyer, read by the buyer five minutes later
BUYERS_ANSWER = 1  # buyer -> seller, unread by the seller


def message_id(demo: dict[str, Any], index: int) -> str:
    (pack,) = [p for p in demo["packs"] if p["pack_id"] == ORDER_WITHOUT_PACK]
    ids: list[str] = pack["message_ids"]
    return ids[index]


async def get_message(
    client: httpx.AsyncClient, user: dict[str, Any], message_id: str, **headers: str
) -> httpx.Response:
    return await client.get(f"/messages/{message_id}", headers={**bearer(user), **headers})


async def seller_unread_count(client: httpx.AsyncClient, demo: dict[str, Any]) -> int:
    response = await client.get(
        f"/messages/unread/packs/{ORDER_WITHOUT_PACK}/sellers/{SELLER_ID}",
        headers=bearer(demo["users"]["seller"]),
    )
    (result,) = response.json()["results"]
    count: int = result["count"]
    return count


async def unread_state(client: httpx.AsyncClient, demo: dict[str, Any]) -> list[Any]:
    """Every party's unread counts (E6), to show a request changed nothing."""
    users = demo["users"]
    state = []
    for key, role in (("seller", "seller"), ("buyer", "buyer"), ("buyer2", "buyer")):
        response = await client.get(f"/messages/unread?role={role}", headers=bearer(users[key]))
        state.append(response.json())
    return state


def new_format_of_buyers_answer(demo: dict[str, Any]) -> dict[str, Any]:
    at = "2026-10-29T12:34:00.000Z"
    message = clean_message(
        message_id(demo, BUYERS_ANSWER),
        sender=BUYER_ID,
        receiver=SELLER_ID,
        pack_id=2000004567812345,
        seller_id=SELLER_ID,
        text="Buenísimo, paso a buscarlo el sábado a la mañana. ¿Hasta qué hora atienden?",
        at=at,
        notified=at,
    )
    return {"paging": None, "conversation_status": None, "messages": [message]}


# --- formats -------------------------------------------------------------------------------------


async def test_the_sender_gets_the_new_format_by_default(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    response = await get_message(client, demo["users"]["buyer"], message_id(demo, BUYERS_ANSWER))

    assert response.status_code == 200
    assert response.json() == new_format_of_buyers_answer(demo)


async def test_the_receiver_gets_the_same_body(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    response = await get_message(client, demo["users"]["seller"], message_id(demo, BUYERS_ANSWER))

    assert response.status_code == 200
    assert response.json() == new_format_of_buyers_answer(demo)


async def test_x_format_new_true_gives_the_new_format(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    for value in ("true", "TRUE"):
        response = await get_message(
            client,
            demo["users"]["seller"],
            message_id(demo, BUYERS_ANSWER),
            **{"x-format-new": value},
        )

        assert response.status_code == 200
        assert response.json() == new_format_of_buyers_answer(demo)


async def test_a_read_first_message_shows_its_read_time_and_first_flag(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    response = await get_message(client, demo["users"]["buyer"], message_id(demo, SELLERS_NOTICE))

    (message,) = response.json()["messages"]
    assert (message["from"], message["to"]) == ({"user_id": SELLER_ID}, {"user_id": BUYER_ID})
    assert message["message_date"] == {
        "received": "2026-10-29T12:17:00.000Z",
        "available": "2026-10-29T12:17:00.000Z",
        "notified": "2026-10-29T12:17:00.000Z",
        "created": "2026-10-29T12:17:00.000Z",
        "read": "2026-10-29T12:22:00.000Z",
    }
    assert message["conversation_first_message"] is True


async def test_x_format_new_false_gives_the_legacy_flat_format(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    notice_id = message_id(demo, SELLERS_NOTICE)

    response = await get_message(
        client, demo["users"]["seller"], notice_id, **{"x-format-new": "false"}
    )

    assert response.status_code == 200
    at = "2026-10-29T12:17:00.000Z"
    assert response.json() == {
        "message_id": notice_id,
        "date_received": at,
        "date": at,
        "date_available": at,
        "date_notified": at,
        "date_read": "2026-10-29T12:22:00.000Z",
        "from": {"user_id": SELLER_ID},
        "to": {"user_id": BUYER_ID},
        "subject": None,
        "text": {
            "plain": "¡Hola! Tu mate de calabaza con bombilla de alpaca ya está listo para retirar."
        },
        "attachments": [],
        "attachments_validations": {
            "invalid_size": [],
            "invalid_extension": [],
            "forbidden": [],
            "internal_error": [],
        },
        "site_id": "MLA",
        "resource": "packs",
        "resource_id": "2000004567812345",
        "status": "available",
        "moderation": {"status": "clean", "date_moderated": at, "source": "online"},
    }


async def test_the_legacy_format_shows_an_unread_message_with_a_null_read_date(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    response = await get_message(
        client,
        demo["users"]["buyer"],
        message_id(demo, BUYERS_ANSWER),
        **{"x-format-new": "FALSE"},
    )

    body = response.json()
    assert body["date_read"] is None
    assert (body["from"], body["to"]) == ({"user_id": BUYER_ID}, {"user_id": SELLER_ID})


# --- no side effect ------------------------------------------------------------------------------


async def test_getting_a_message_never_marks_it_read(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]
    answer_id = message_id(demo, BUYERS_ANSWER)
    before = await unread_state(client, demo)

    for header in ("true", "false"):
        response = await get_message(client, seller, answer_id, **{"x-format-new": header})
        assert response.status_code == 200
    again = await get_message(client, seller, answer_id)

    assert again.json()["messages"][0]["message_date"]["read"] is None
    assert await seller_unread_count(client, demo) == 1
    assert await unread_state(client, demo) == before


# --- errors --------------------------------------------------------------------------------------


async def test_a_malformed_id_does_not_exist(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    real = message_id(demo, BUYERS_ANSWER)

    for malformed in ("abc", real.upper(), real[:-1], real + "0", "g" * 32, "1234567890"):
        response = await get_message(client, demo["users"]["seller"], malformed)

        assert_error(response, Code.MESSAGE_ID_NOT_EXISTS)


async def test_an_unknown_well_formed_id_does_not_exist(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    for unknown in ("0" * 32, "019a3f2e5c007aaa8bbbcccdddeeefff"):
        for user in ("seller", "stranger"):
            response = await get_message(client, demo["users"][user], unknown)

            assert_error(response, Code.MESSAGE_ID_NOT_EXISTS)


async def test_someone_elses_message_is_access_denied(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    answer_id = message_id(demo, BUYERS_ANSWER)
    before = await unread_state(client, demo)

    for user in ("stranger", "buyer2"):
        caller = demo["users"][user]
        for header in ({}, {"x-format-new": "false"}):
            response = await get_message(client, caller, answer_id, **header)

            assert_error(
                response, Code.MESSAGE_ACCESS_DENIED, user_id=caller["id"], message_id=answer_id
            )
    assert await unread_state(client, demo) == before


async def test_the_access_denied_body_byte_for_byte(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    answer_id = message_id(demo, BUYERS_ANSWER)

    response = await get_message(client, demo["users"]["stranger"], answer_id)

    assert response.status_code == 403
    assert response.content == (
        b'{"message":"Access denied for user 812345678 to message with id '
        + answer_id.encode()
        + b'","error":"forbidden","status":403,"cause":[]}'
    )
