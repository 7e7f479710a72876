"""E11 ``PUT /messages/mark_as_read/{ids}``: mark given messages read (legacy, §8.3).

Ids are comma-separated, 32 lowercase hex, all of one conversation. Only messages addressed to
the caller change; the answer is ``{"marked": n, "results": [{"id", "read"}]}`` in the order asked.
Demo data: in pack 2000000089077943 messages 26..28 (buyer -> seller) are unread by the seller;
in pack 2000000089077950 messages 1..3 (seller -> buyer) are unread by the buyer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from postventa.clock import FakeClock
from postventa.errors import Code
from tests.conftest import assert_error, bearer

SELLER_ID = 415458330
SOFA = 2000000089077943  # seller: 3 unread (26, 27, 28)
CABLE = 2000000089077950  # buyer: 3 unread (1, 2, 3); message 0 is the buyer's own
TENIS = 2000000089077961  # message 4 (buyer2 -> seller) unread by the seller
NOW = "2026-11-01T12:00:00.000Z"  # the FakeClock's time
UNKNOWN = "019a3f2e5c007aaa8bbbcccdddeeefff"


def ids_of(demo: dict[str, Any], pack_id: int) -> list[str]:
    (pack,) = [p for p in demo["packs"] if p["pack_id"] == pack_id]
    ids: list[str] = pack["message_ids"]
    return ids


async def mark(client: httpx.AsyncClient, user: dict[str, Any], *ids: str) -> httpx.Response:
    return await client.put(f"/messages/mark_as_read/{','.join(ids)}", headers=bearer(user))


async def unread_count(client: httpx.AsyncClient, user: dict[str, Any], pack_id: int) -> int:
    """From E7, which never marks read."""
    response = await client.get(
        f"/messages/unread/packs/{pack_id}/sellers/{SELLER_ID}", headers=bearer(user)
    )
    (result,) = response.json()["results"]
    count: int = result["count"]
    return count


async def read_times(
    client: httpx.AsyncClient, user: dict[str, Any], pack_id: int, offset: int
) -> list[str | None]:
    """``message_date.read`` from ``offset`` on, through E1 without marking read."""
    response = await client.get(
        f"/messages/packs/{pack_id}/sellers/{SELLER_ID}",
        params={"offset": str(offset), "mark_as_read": "false"},
        headers=bearer(user),
    )
    assert response.status_code == 200, response.text
    return [m["message_date"]["read"] for m in response.json()["messages"]]


async def unread_state(client: httpx.AsyncClient, demo: dict[str, Any]) -> list[Any]:
    """Every party's unread counts (E6), to show a refused request changed nothing."""
    users = demo["users"]
    state = []
    for key, role in (("seller", "seller"), ("buyer", "buyer"), ("buyer2", "buyer")):
        response = await client.get(f"/messages/unread?role={role}", headers=bearer(users[key]))
        state.append(response.json())
    return state


# --- success -------------------------------------------------------------------------------------


async def test_marks_the_given_messages_read_and_answers_their_read_times(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, sofa = demo["users"]["seller"], ids_of(demo, SOFA)

    response = await mark(client, seller, sofa[26], sofa[27])

    assert response.status_code == 200
    assert response.json() == {
        "marked": 2,
        "results": [{"id": sofa[26], "read": NOW}, {"id": sofa[27], "read": NOW}],
    }
    assert await read_times(client, seller, SOFA, 26) == [NOW, NOW, None]


async def test_the_callers_counter_drops_by_exactly_the_number_marked(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, sofa = demo["users"]["seller"], ids_of(demo, SOFA)

    await mark(client, seller, sofa[28])
    assert await unread_count(client, seller, SOFA) == 2

    await mark(client, seller, sofa[26], sofa[27])
    assert await unread_count(client, seller, SOFA) == 0


async def test_results_follow_the_order_of_the_ids_asked(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    sofa = ids_of(demo, SOFA)

    response = await mark(client, demo["users"]["seller"], sofa[28], sofa[26], sofa[27])

    assert [r["id"] for r in response.json()["results"]] == [sofa[28], sofa[26], sofa[27]]


async def test_a_repeated_id_is_marked_once(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, sofa = demo["users"]["seller"], ids_of(demo, SOFA)

    response = await mark(client, seller, sofa[26], sofa[26])

    assert response.json() == {"marked": 1, "results": [{"id": sofa[26], "read": NOW}]}
    assert await unread_count(client, seller, SOFA) == 2


async def test_messages_the_caller_sent_are_left_unread_for_their_receiver(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    users, sofa = demo["users"], ids_of(demo, SOFA)

    response = await mark(client, users["buyer"], sofa[28])

    assert response.json() == {"marked": 0, "results": [{"id": sofa[28], "read": None}]}
    assert await unread_count(client, users["seller"], SOFA) == 3
    assert await read_times(client, users["seller"], SOFA, 28) == [None]


async def test_only_the_messages_addressed_to_the_caller_change(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    users, cable = demo["users"], ids_of(demo, CABLE)

    # Message 0 is the buyer's own question (read by the seller at 13:22); 1 is the answer.
    response = await mark(client, users["buyer"], cable[0], cable[1])

    assert response.json() == {
        "marked": 1,
        "results": [
            {"id": cable[0], "read": "2026-10-26T12:22:00.000Z"},
            {"id": cable[1], "read": NOW},
        ],
    }
    assert await unread_count(client, users["buyer"], CABLE) == 2
    assert await unread_count(client, users["seller"], CABLE) == 0


async def test_an_already_read_message_keeps_its_read_time(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    sofa = ids_of(demo, SOFA)

    response = await mark(client, demo["users"]["seller"], sofa[24])

    assert response.json() == {
        "marked": 0,
        "results": [{"id": sofa[24], "read": "2026-10-25T19:10:00.000Z"}],
    }


async def test_marking_again_later_marks_nothing_and_keeps_the_first_time(
    client: httpx.AsyncClient, demo: dict[str, Any], clock: FakeClock
) -> None:
    seller, sofa = demo["users"]["seller"], ids_of(demo, SOFA)
    await mark(client, seller, sofa[26], sofa[27])
    clock.advance(timedelta(hours=1))

    again = await mark(client, seller, sofa[26], sofa[27])

    assert again.status_code == 200
    assert again.json() == {
        "marked": 0,
        "results": [{"id": sofa[26], "read": NOW}, {"id": sofa[27], "read": NOW}],
    }
    assert await unread_count(client, seller, SOFA) == 1


async def test_up_to_one_hundred_ids_are_accepted(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    sofa = ids_of(demo, SOFA)

    response = await mark(client, demo["users"]["seller"], *sofa[:26], *[sofa[26]] * 74)

    assert response.status_code == 200
    assert response.json()["marked"] == 1


# --- errors: nothing changes after any of them ---------------------------------------------------


async def test_an_empty_or_invalid_id_list_is_refused(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, sofa = demo["users"]["seller"], ids_of(demo, SOFA)
    before = await unread_state(client, demo)

    for raw in [
        "",  # PUT /messages/mark_as_read/
        ",",
        "%20",
        "abc",
        sofa[26].upper(),
        sofa[26][:-1],
        sofa[26] + "0",
        f"{sofa[26]},",  # a trailing empty id
        f"{sofa[26]},{sofa[27].upper()}",  # one bad id spoils the list
        f"{sofa[26]};{sofa[27]}",
        ",".join([sofa[26]] * 101),  # too many ids, even repeated
    ]:
        response = await client.put(f"/messages/mark_as_read/{raw}", headers=bearer(seller))

        assert_error(response, Code.MARK_IDS_INVALID)
    assert await unread_state(client, demo) == before
    assert await read_times(client, seller, SOFA, 26) == [None, None, None]


async def test_an_empty_id_list_still_needs_a_token(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    response = await client.put("/messages/mark_as_read/")

    assert_error(response, Code.ACCESS_TOKEN_REQUIRED)


async def test_an_unknown_id_is_refused_by_name(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, sofa = demo["users"]["seller"], ids_of(demo, SOFA)
    before = await unread_state(client, demo)

    response = await mark(client, seller, sofa[26], UNKNOWN, sofa[27])

    assert response.status_code == 400
    assert response.content == (
        b'{"message":"The specified message id: 019a3f2e5c007aaa8bbbcccdddeeefff does not exists"'
        b',"error":"bad_request","status":400,"cause":[]}'
    )
    assert_error(response, Code.MARK_ID_NOT_EXISTS, message_id=UNKNOWN)
    assert await unread_state(client, demo) == before
    assert await read_times(client, seller, SOFA, 26) == [None, None, None]


async def test_someone_elses_message_answers_like_an_unknown_one(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    users, sofa = demo["users"], ids_of(demo, SOFA)
    before = await unread_state(client, demo)

    for intruder in ("buyer2", "stranger"):
        response = await mark(client, users[intruder], sofa[26])

        assert_error(response, Code.MARK_ID_NOT_EXISTS, message_id=sofa[26])
    assert await unread_state(client, demo) == before
    assert await read_times(client, users["seller"], SOFA, 26) == [None, None, None]


async def test_ids_from_two_conversations_are_refused(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]
    sofa, tenis = ids_of(demo, SOFA), ids_of(demo, TENIS)
    before = await unread_state(client, demo)

    response = await mark(client, seller, sofa[26], tenis[4])

    assert_error(response, Code.MARK_MULTIPLE_ORDERS)
    assert await unread_state(client, demo) == before
    assert await unread_count(client, seller, SOFA) == 3
    assert await unread_count(client, seller, TENIS) == 1
