"""E1 ``GET /messages/packs/{pack_id}/sellers/{seller_id}``: a conversation's messages (§3).

Reading marks every unread message addressed to the caller read, unless ``mark_as_read=false``.
Demo data: pack 2000000089077943 holds 29 messages, the last three (from the buyer) unread by the
seller; pack 2000000089077961 (buyer2) has one unread message on each side.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from postventa.clock import FakeClock
from postventa.errors import Code
from tests.api.bodies import clean_message
from tests.conftest import assert_error, bearer

SELLER_ID = 415458330
BUYER_ID = 618491100
SOFA = 2000000089077943  # 29 messages; messages 26..28 (buyer -> seller) unread by the seller
TENIS = 2000000089077961  # buyer2; message 3 unread by buyer2, message 4 unread by the seller
ORDER_WITHOUT_PACK = 2000004567812345  # addressed by its order id under /packs/
EMPTY = 2000000089077988
NOW = "2026-11-01T12:00:00.000Z"  # the FakeClock's time


async def read(
    client: httpx.AsyncClient,
    user: dict[str, Any],
    pack_id: int | str,
    seller_id: int | str = SELLER_ID,
    **params: str,
) -> httpx.Response:
    return await client.get(
        f"/messages/packs/{pack_id}/sellers/{seller_id}", params=params, headers=bearer(user)
    )


async def read_ok(
    client: httpx.AsyncClient, user: dict[str, Any], pack_id: int, **params: str
) -> dict[str, Any]:
    response = await read(client, user, pack_id, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def unread_count(client: httpx.AsyncClient, user: dict[str, Any], pack_id: int) -> int:
    """The caller's unread count in one conversation, from E7 (which never marks read)."""
    response = await client.get(
        f"/messages/unread/packs/{pack_id}/sellers/{SELLER_ID}", headers=bearer(user)
    )
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    count: int = result["count"]
    return count


async def unread_state(client: httpx.AsyncClient, demo: dict[str, Any]) -> list[Any]:
    """Every party's unread counts (E6), to show a refused request changed nothing."""
    users = demo["users"]
    state = []
    for key, role in (("seller", "seller"), ("buyer", "buyer"), ("buyer2", "buyer")):
        response = await client.get(f"/messages/unread?role={role}", headers=bearer(users[key]))
        assert response.status_code == 200, response.text
        state.append(response.json())
    return state


def message_ids(demo: dict[str, Any], pack_id: int) -> list[str]:
    (pack,) = [p for p in demo["packs"] if p["pack_id"] == pack_id]
    ids: list[str] = pack["message_ids"]
    return ids


def read_times(body: dict[str, Any]) -> list[str | None]:
    return [m["message_date"]["read"] for m in body["messages"]]


# --- the response body ---------------------------------------------------------------------------


async def test_a_page_has_the_documented_body_field_for_field(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    ids = message_ids(demo, SOFA)
    body = await read_ok(
        client, demo["users"]["seller"], SOFA, limit="2", offset="27", mark_as_read="false"
    )

    def buyer_message(index: int, at: str, text: str) -> dict[str, Any]:
        return clean_message(
            ids[index],
            sender=BUYER_ID,
            receiver=SELLER_ID,
            pack_id=SOFA,
            seller_id=SELLER_ID,
            text=text,
            at=at,
            notified=at,
        )

    assert body == {
        "paging": {"limit": 2, "offset": 27, "total": 29},
        "conversation_status": {
            "path": "/packs/2000000089077943/sellers/415458330",
            "status": "active",
            "substatus": None,
            "status_date": "2026-10-25T20:13:00.000Z",
            "status_update_allowed": False,
            "claim_id": None,
            "claim_ids": None,
            "shipping_id": None,
        },
        "messages": [
            buyer_message(
                27,
                "2026-10-25T19:56:00.000Z",
                "Ah, y si pueden traer también los protectores de fieltro para las patas, mejor.",
            ),
            buyer_message(28, "2026-10-25T20:13:00.000Z", "¡Gracias por la atención, de verdad!"),
        ],
        "seller_max_message_length": 350,
        "buyer_max_message_length": 3500,
    }


async def test_only_the_first_message_of_a_conversation_is_flagged_first(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    body = await read_ok(client, demo["users"]["buyer"], SOFA, limit="100")

    flags = [m["conversation_first_message"] for m in body["messages"]]

    assert flags == [True] + [False] * 28


async def test_an_empty_conversation_answers_an_empty_page(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    body = await read_ok(client, demo["users"]["seller"], EMPTY)

    assert body["paging"] == {"limit": 10, "offset": 0, "total": 0}
    assert body["messages"] == []
    assert body["conversation_status"]["path"] == "/packs/2000000089077988/sellers/415458330"


async def test_an_order_without_pack_is_addressed_by_its_order_id_under_packs(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    body = await read_ok(client, demo["users"]["buyer"], ORDER_WITHOUT_PACK)

    assert body["paging"] == {"limit": 10, "offset": 0, "total": 2}
    assert body["conversation_status"]["path"] == "/packs/2000004567812345/sellers/415458330"
    assert [m["id"] for m in body["messages"]] == message_ids(demo, ORDER_WITHOUT_PACK)
    assert [m["message_resources"] for m in body["messages"]] == [
        [{"id": "2000004567812345", "name": "packs"}, {"id": "415458330", "name": "sellers"}]
    ] * 2
    assert [(m["from"], m["to"]) for m in body["messages"]] == [
        ({"user_id": SELLER_ID}, {"user_id": BUYER_ID}),
        ({"user_id": BUYER_ID}, {"user_id": SELLER_ID}),
    ]


# --- paging --------------------------------------------------------------------------------------


async def test_default_page_is_the_ten_oldest_messages(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    body = await read_ok(client, demo["users"]["seller"], SOFA, mark_as_read="false")

    assert body["paging"] == {"limit": 10, "offset": 0, "total": 29}
    assert [m["id"] for m in body["messages"]] == message_ids(demo, SOFA)[:10]


async def test_messages_are_oldest_first(client: httpx.AsyncClient, demo: dict[str, Any]) -> None:
    body = await read_ok(client, demo["users"]["seller"], SOFA, limit="100")

    created = [m["message_date"]["created"] for m in body["messages"]]

    assert created[0] == "2026-10-25T12:17:00.000Z"
    assert created[-1] == "2026-10-25T20:13:00.000Z"
    assert created == sorted(created)
    assert len(set(created)) == 29


async def test_limit_and_offset_walk_the_conversation_without_overlap_or_gap(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]
    walked: list[str] = []
    for offset, size in ((0, 7), (7, 7), (14, 7), (21, 7), (28, 1)):
        body = await read_ok(client, seller, SOFA, limit="7", offset=str(offset))
        assert body["paging"] == {"limit": 7, "offset": offset, "total": 29}
        assert len(body["messages"]) == size
        walked += [m["id"] for m in body["messages"]]

    assert walked == message_ids(demo, SOFA)


async def test_an_offset_past_the_end_answers_no_messages(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    for offset in (29, 30, 2147483647):
        body = await read_ok(client, demo["users"]["seller"], SOFA, offset=str(offset))

        assert body["paging"] == {"limit": 10, "offset": offset, "total": 29}
        assert body["messages"] == []


async def test_a_limit_above_the_maximum_is_clamped_to_100(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    for limit in ("101", "500", "2147483647"):
        body = await read_ok(client, demo["users"]["seller"], SOFA, limit=limit)

        assert body["paging"] == {"limit": 100, "offset": 0, "total": 29}
        assert [m["id"] for m in body["messages"]] == message_ids(demo, SOFA)


@pytest.mark.parametrize(
    ("param", "values", "code"),
    [
        ("limit", ["0", "-3"], Code.LIMIT_NOT_POSITIVE),
        ("limit", ["abc", "1.5", "99999999999999", "", "2147483648", "--5"], Code.INVALID_LIMIT),
        ("offset", ["-1", "x", "1.5", "99999999999999", "", "--1"], Code.INVALID_OFFSET),
    ],
)
async def test_bad_limit_or_offset_is_refused_without_marking_anything_read(
    client: httpx.AsyncClient, demo: dict[str, Any], param: str, values: list[str], code: Code
) -> None:
    before = await unread_state(client, demo)

    for value in values:
        response = await read(client, demo["users"]["seller"], SOFA, **{param: value})

        assert_error(response, code)
    assert await unread_state(client, demo) == before
    assert await unread_count(client, demo["users"]["seller"], SOFA) == 3


# --- the read side effect ------------------------------------------------------------------------


async def test_reading_marks_the_callers_unread_messages_read_in_the_same_response(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]

    body = await read_ok(client, seller, SOFA, offset="25")

    # Message 25 was read long ago (five minutes after it arrived); 26..28 are read now.
    assert read_times(body) == ["2026-10-25T19:27:00.000Z", NOW, NOW, NOW]
    assert await unread_count(client, seller, SOFA) == 0


async def test_reading_the_first_page_marks_the_whole_conversation_read(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]

    await read_ok(client, seller, SOFA)

    assert await unread_count(client, seller, SOFA) == 0
    tail = await read_ok(client, seller, SOFA, offset="26", mark_as_read="false")
    assert read_times(tail) == [NOW, NOW, NOW]


async def test_reading_leaves_the_counterparts_unread_messages_alone(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, buyer2 = demo["users"]["seller"], demo["users"]["buyer2"]

    body = await read_ok(client, seller, TENIS)

    # Message 3 is the seller's own, still unread by buyer2; message 4 is buyer2's, read now.
    assert read_times(body)[3:] == [None, NOW]
    assert await unread_count(client, seller, TENIS) == 0
    assert await unread_count(client, buyer2, TENIS) == 1


async def test_the_buyer_reading_marks_only_the_buyers_messages(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, buyer2 = demo["users"]["seller"], demo["users"]["buyer2"]

    body = await read_ok(client, buyer2, TENIS)

    assert read_times(body)[3:] == [NOW, None]
    assert await unread_count(client, buyer2, TENIS) == 0
    assert await unread_count(client, seller, TENIS) == 1


async def test_mark_as_read_false_in_any_case_leaves_everything_unread(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]
    before = await unread_state(client, demo)

    for value in ("false", "FALSE", "False"):
        body = await read_ok(client, seller, SOFA, offset="26", mark_as_read=value)

        assert read_times(body) == [None, None, None]
    assert await unread_count(client, seller, SOFA) == 3
    assert await unread_state(client, demo) == before


async def test_mark_as_read_true_marks_as_by_default(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]

    body = await read_ok(client, seller, SOFA, offset="26", mark_as_read="true")

    assert read_times(body) == [NOW, NOW, NOW]
    assert await unread_count(client, seller, SOFA) == 0


async def test_reading_again_later_keeps_the_first_read_times(
    client: httpx.AsyncClient, demo: dict[str, Any], clock: FakeClock
) -> None:
    seller = demo["users"]["seller"]
    first = await read_ok(client, seller, SOFA, offset="20")
    clock.advance(timedelta(hours=1))

    second = await read_ok(client, seller, SOFA, offset="20")

    assert second == first
    assert read_times(second)[-3:] == [NOW, NOW, NOW]
    assert await unread_count(client, seller, SOFA) == 0


# --- who may read --------------------------------------------------------------------------------


async def test_a_conversation_that_is_not_the_callers_is_forbidden(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    unknown_pack = 2000000000000001
    before = await unread_state(client, demo)

    for user, pack_id, seller_id in [
        ("stranger", SOFA, SELLER_ID),  # not a party
        ("buyer2", SOFA, SELLER_ID),  # a buyer of the same seller, in another pack
        ("seller", SOFA, BUYER_ID),  # the right pack under the wrong seller id
        ("buyer", SOFA, BUYER_ID),
        ("seller", unknown_pack, SELLER_ID),  # an unknown pack answers the same
        ("stranger", unknown_pack, SELLER_ID),
    ]:
        response = await read(client, demo["users"][user], pack_id, seller_id)

        assert_error(response, Code.RESOURCE_FORBIDDEN, resource_id=pack_id)
    assert await unread_state(client, demo) == before


async def test_a_non_numeric_id_in_the_path_is_an_invalid_param(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    before = await unread_state(client, demo)

    for pack_id, seller_id, name in [
        ("abc", SELLER_ID, "pack_id"),
        ("-1", SELLER_ID, "pack_id"),
        ("9223372036854775808", SELLER_ID, "pack_id"),  # past a signed 64-bit integer
        (SOFA, "seller", "seller_id"),
        (SOFA, "1e9", "seller_id"),
    ]:
        response = await read(client, demo["users"]["seller"], pack_id, seller_id)

        assert_error(response, Code.INVALID_PARAM, location="path", name=name)
    assert await unread_state(client, demo) == before
