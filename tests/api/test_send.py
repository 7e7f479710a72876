"""E3 ``POST /messages/packs/{pack_id}/sellers/{seller_id}?tag=post_sale``: sending a message.

Success: the body, where the message shows up afterwards (E1, E2) and whose unread count moves
(E7). Refusals: every error of the §20 validation order, byte for byte, the earlier check winning
when a body breaks two rules, and nothing stored or counted after any of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest

from postventa.clock import FakeClock
from postventa.demo.data import BUYER, BUYER2, SELLER, STRANGER
from postventa.errors import Code
from postventa.services import Services
from postventa.storage.tokens import insert_token
from tests.api.bodies import clean_message
from tests.conftest import assert_error, bearer

SOFA_PACK = 2000000089077943  # buyer BUYER, 29 messages, 3 unread for the seller
ORDER_WITHOUT_PACK = 2000004567812345  # addressed by its order id
EMPTY_PACK = 2000000089077988  # buyer BUYER, no message yet
UNKNOWN_PACK = 2000000000000001

MESSAGE_ID = re.compile(r"[0-9a-f]{32}")
START = "2026-11-01T12:00:00.000Z"  # FakeClock's first instant


def conversation_path(pack_id: int, seller_id: int = SELLER.id) -> str:
    return f"/messages/packs/{pack_id}/sellers/{seller_id}"


def body_from(sender: object, to: object, text: object = "Hola", **extra: Any) -> bytes:
    """An E3 body; ``None`` for ``sender`` leaves ``from`` without ``user_id``."""
    from_ = {} if sender is None else {"user_id": sender}
    return orjson.dumps({"from": from_, "to": {"user_id": to}, "text": text, **extra})


async def send(
    client: httpx.AsyncClient,
    user: dict[str, Any],
    pack_id: int,
    body: bytes,
) -> httpx.Response:
    return await client.post(
        f"{conversation_path(pack_id)}?tag=post_sale",
        content=body,
        headers={**bearer(user), "Content-Type": "application/json"},
    )


async def unread_count(client: httpx.AsyncClient, user: dict[str, Any], pack_id: int) -> int:
    """The user's unread count in one conversation, from E7."""
    response = await client.get(
        f"/messages/unread/packs/{pack_id}/sellers/{SELLER.id}", headers=bearer(user)
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 1, results
    count: int = results[0]["count"]
    return count


async def snapshot(client: httpx.AsyncClient, demo: dict[str, Any]) -> dict[str, Any]:
    """What a send could change: the sofa conversation (unmarked) and everyone's unread lists.

    Every stored message counts as unread for its receiver, so a message stored in any
    conversation shows up in one of the unread lists.
    """
    users = demo["users"]
    conversation = await client.get(
        f"{conversation_path(SOFA_PACK)}?mark_as_read=false&limit=100",
        headers=bearer(users["seller"]),
    )
    assert conversation.status_code == 200, conversation.text
    state: dict[str, Any] = {"sofa": conversation.json()}
    for key, role in (("seller", "seller"), ("buyer", "buyer"), ("buyer2", "buyer")):
        unread = await client.get(f"/messages/unread?role={role}", headers=bearer(users[key]))
        assert unread.status_code == 200, unread.text
        state[f"unread:{key}"] = unread.json()
    return state


def stored_message(
    sent: dict[str, Any], *, sender: int, receiver: int, pack_id: int, first: bool, at: str
) -> dict[str, Any]:
    """The full message shape E1 and E2 show for a message just sent through E3."""
    return clean_message(
        sent["id"],
        sender=sender,
        receiver=receiver,
        pack_id=pack_id,
        seller_id=SELLER.id,
        text=sent["text"],
        at=at,
        notified=None,
        first=first,
    )


# --- success ------------------------------------------------------------------------------------


async def test_success_body_is_the_stored_message_at_clock_time(
    client: httpx.AsyncClient, demo: dict[str, Any], clock: FakeClock
) -> None:
    clock.advance(timedelta(seconds=90, milliseconds=500))
    text = "¡Hola! Tu paquete fue despachado."
    response = await send(
        client, demo["users"]["seller"], EMPTY_PACK, body_from(SELLER.id, BUYER.id, text)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert MESSAGE_ID.fullmatch(body["id"])
    at = "2026-11-01T12:01:30.500Z"
    assert body == {
        "id": body["id"],
        "to": {"user_id": BUYER.id},
        "status": "available",
        "text": text,
        "message_date": {
            "received": at,
            "available": at,
            "notified": None,
            "created": at,
            "read": None,
        },
        "message_moderation": {
            "status": "clean",
            "reason": None,
            "source": "online",
            "moderation_date": at,
        },
    }


async def test_sent_message_appears_in_the_conversation_and_by_id(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
    sent = (await send(client, seller, EMPTY_PACK, body_from(SELLER.id, BUYER.id, "Hola"))).json()
    expected = stored_message(
        sent, sender=SELLER.id, receiver=BUYER.id, pack_id=EMPTY_PACK, first=True, at=START
    )

    conversation = await client.get(conversation_path(EMPTY_PACK), headers=bearer(seller))
    assert conversation.status_code == 200, conversation.text
    assert conversation.json()["paging"] == {"limit": 10, "offset": 0, "total": 1}
    assert conversation.json()["messages"] == [expected]

    by_id = await client.get(f"/messages/{sent['id']}", headers=bearer(buyer))
    assert by_id.status_code == 200, by_id.text
    assert by_id.json() == {"paging": None, "conversation_status": None, "messages": [expected]}


async def test_only_the_first_message_of_a_conversation_is_marked_first(
    client: httpx.AsyncClient, demo: dict[str, Any], clock: FakeClock
) -> None:
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
    first = (await send(client, seller, EMPTY_PACK, body_from(SELLER.id, BUYER.id, "Hola"))).json()
    clock.advance(timedelta(minutes=3))
    reply = (
        await send(client, buyer, EMPTY_PACK, body_from(BUYER.id, SELLER.id, "Gracias"))
    ).json()

    response = await client.get(
        f"{conversation_path(EMPTY_PACK)}?mark_as_read=false", headers=bearer(seller)
    )
    assert response.json()["messages"] == [
        stored_message(
            first, sender=SELLER.id, receiver=BUYER.id, pack_id=EMPTY_PACK, first=True, at=START
        ),
        stored_message(
            reply,
            sender=BUYER.id,
            receiver=SELLER.id,
            pack_id=EMPTY_PACK,
            first=False,
            at="2026-11-01T12:03:00.000Z",
        ),
    ]


async def test_a_message_added_to_an_existing_conversation_is_not_first(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]
    sent = (await send(client, seller, SOFA_PACK, body_from(SELLER.id, BUYER.id))).json()
    response = await client.get(
        f"{conversation_path(SOFA_PACK)}?mark_as_read=false&offset=29", headers=bearer(seller)
    )
    assert response.json()["paging"] == {"limit": 10, "offset": 29, "total": 30}
    assert response.json()["messages"] == [
        stored_message(
            sent, sender=SELLER.id, receiver=BUYER.id, pack_id=SOFA_PACK, first=False, at=START
        )
    ]


async def test_receiver_unread_count_rises_by_one_and_sender_count_does_not(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]

    async def unread_of_buyer_and_seller() -> tuple[int, int]:
        return (
            await unread_count(client, buyer, SOFA_PACK),
            await unread_count(client, seller, SOFA_PACK),
        )

    assert await unread_of_buyer_and_seller() == (0, 3)
    await send(client, seller, SOFA_PACK, body_from(SELLER.id, BUYER.id))
    assert await unread_of_buyer_and_seller() == (1, 3)
    await send(client, buyer, SOFA_PACK, body_from(BUYER.id, SELLER.id))
    assert await unread_of_buyer_and_seller() == (1, 4)


async def test_user_ids_are_accepted_as_numbers_or_numeric_strings(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    seller = demo["users"]["seller"]
    for sender, receiver in [
        (SELLER.id, BUYER.id),
        (str(SELLER.id), str(BUYER.id)),
        (str(SELLER.id), BUYER.id),
        (SELLER.id, str(BUYER.id)),
    ]:
        with subtests.test(sender=sender, receiver=receiver):
            response = await send(client, seller, SOFA_PACK, body_from(sender, receiver))
            assert response.status_code == 200, response.text
            assert response.json()["to"] == {"user_id": BUYER.id}


async def test_buyer_can_write_to_the_seller(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    buyer, seller = demo["users"]["buyer"], demo["users"]["seller"]
    response = await send(client, buyer, SOFA_PACK, body_from(BUYER.id, SELLER.id, "¿Llega hoy?"))
    assert response.status_code == 200, response.text
    assert response.json()["to"] == {"user_id": SELLER.id}
    assert response.json()["text"] == "¿Llega hoy?"
    assert await unread_count(client, seller, SOFA_PACK) == 4


async def test_an_order_without_pack_is_addressed_by_its_order_id(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    buyer = demo["users"]["buyer"]
    response = await send(client, buyer, ORDER_WITHOUT_PACK, body_from(BUYER.id, SELLER.id))
    assert response.status_code == 200, response.text
    assert await unread_count(client, demo["users"]["seller"], ORDER_WITHOUT_PACK) == 2


# --- text length and charset --------------------------------------------------------------------

# (caller, from, to, maximum length)
SENDERS = [("seller", SELLER.id, BUYER.id, 350), ("buyer", BUYER.id, SELLER.id, 3500)]


async def test_text_of_the_senders_maximum_length_is_accepted(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    for key, sender, receiver, length in SENDERS:
        with subtests.test(sender=key, length=length):
            text = "ñ" * length  # characters are counted, not UTF-8 bytes
            body = body_from(sender, receiver, text)
            response = await send(client, demo["users"][key], SOFA_PACK, body)
            assert response.status_code == 200, response.text
            assert response.json()["text"] == text


async def test_text_one_character_over_the_senders_maximum_is_refused(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    before = await snapshot(client, demo)
    for key, sender, receiver, length in SENDERS:
        with subtests.test(sender=key, length=length + 1):
            body = body_from(sender, receiver, "a" * (length + 1))
            response = await send(client, demo["users"][key], SOFA_PACK, body)
            assert_error(response, Code.TEXT_TOO_LONG, max=length)
            assert await snapshot(client, demo) == before


async def test_latin_1_and_emoji_text_is_accepted_verbatim(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    seller = demo["users"]["seller"]
    for text in [
        "¡Hola! ¿Cómo está? Niño, pingüino, Ñandú.",
        "Açúcar, pão, ação, você, Über, Straße, 25°, 1ª, «ok», £5 ©",
        "Listo 👍",
        "Listo 👍🏽👋🏿",  # skin tones
        "Familia 👨‍👩‍👧‍👦 y 🏳️‍🌈",  # ZWJ sequences
        "Envío a 🇦🇷 y 🇧🇷",  # flags
        "Gracias ❤️ 1️⃣ ☺️",  # variation selectors, keycap
        '<a href="https://x.test/rastreo">Tu link de rastreo</a>',
    ]:
        with subtests.test(text=text):
            response = await send(client, seller, SOFA_PACK, body_from(SELLER.id, BUYER.id, text))
            assert response.status_code == 200, response.text
            by_id = await client.get(f"/messages/{response.json()['id']}", headers=bearer(seller))
            assert by_id.json()["messages"][0]["text"] == text


async def test_text_outside_latin_1_and_emoji_is_refused(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    before = await snapshot(client, demo)
    for text in [
        "Precio: 10 €",  # the euro sign is not latin-1
        "你好",
        "Привет",
        "“Comillas” tipográficas…",
        "Hola \u200d",  # a joiner outside any emoji sequence
        "Hola\x00",  # NUL is latin-1, but no database column can keep it
    ]:
        with subtests.test(text=text):
            body = body_from(SELLER.id, BUYER.id, text)
            response = await send(client, demo["users"]["seller"], SOFA_PACK, body)
            assert_error(response, Code.TEXT_UNSUPPORTED_CHARS)
            assert await snapshot(client, demo) == before


# --- attachments --------------------------------------------------------------------------------


async def test_empty_or_null_attachments_are_accepted(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    for attachments in ([], None):
        with subtests.test(attachments=attachments):
            body = body_from(SELLER.id, BUYER.id, attachments=attachments)
            response = await send(client, demo["users"]["seller"], SOFA_PACK, body)
            assert response.status_code == 200, response.text


async def test_attachments_are_refused_until_uploads_exist(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    before = await snapshot(client, demo)
    for attachments in (["x"], ["415460047_a96d8dea-38cd-4402-938e-80a1c134fc5d.pdf"], "x"):
        with subtests.test(attachments=attachments):
            body = body_from(SELLER.id, BUYER.id, attachments=attachments)
            response = await send(client, demo["users"]["seller"], SOFA_PACK, body)
            assert_error(response, Code.ATTACHMENT_INVALID)
            assert await snapshot(client, demo) == before


# --- refusals, in the validation order ----------------------------------------------------------

S, B, B2, X = SELLER.id, BUYER.id, BUYER2.id, STRANGER.id
LONG = "a" * 351


@dataclass(frozen=True)
class Refusal:
    name: str
    body: bytes
    code: Code
    fields: dict[str, Any] = field(default_factory=dict)
    caller: str = "seller"
    pack_id: int = SOFA_PACK


def denied(user_id: int, pack_id: int = SOFA_PACK) -> dict[str, Any]:
    return {"user_id": user_id, "resource_id": pack_id}


ONE_RULE_BROKEN = [
    Refusal("empty body", b"", Code.JSON_BODY_REQUIRED),
    Refusal("form-encoded body", b"from=1&to=2", Code.JSON_BODY_REQUIRED),
    Refusal("no from", orjson.dumps({"to": {"user_id": B}, "text": "Hola"}), Code.FROM_REQUIRED),
    Refusal("from without user_id", body_from(None, B), Code.FROM_REQUIRED),
    Refusal("from.user_id 0", body_from(0, B), Code.FROM_REQUIRED),
    Refusal(
        "no to", orjson.dumps({"from": {"user_id": S}, "text": "Hola"}), Code.TO_USER_ID_REQUIRED
    ),
    Refusal("to.user_id null", body_from(S, None), Code.TO_USER_ID_REQUIRED),
    Refusal("to.user_id not numeric", body_from(S, "12a"), Code.INVALID_TO_USER_ID),
    Refusal("to.user_id 0", body_from(S, 0), Code.TO_EMAIL_NOT_SECURE),
    Refusal("to.user_id '0'", body_from(S, "0"), Code.TO_EMAIL_NOT_SECURE),
    Refusal("from equals to", body_from(S, S), Code.SENDER_EQUALS_RECEIVER),
    Refusal("stranger", body_from(X, S), Code.SEND_ACCESS_DENIED, denied(X), caller="stranger"),
    Refusal(
        "buyer of another pack",
        body_from(B2, S),
        Code.SEND_ACCESS_DENIED,
        denied(B2),
        caller="buyer2",
    ),
    Refusal("seller writes as the buyer", body_from(B, S), Code.SEND_ACCESS_DENIED, denied(B)),
    Refusal(
        "unknown pack",
        body_from(S, B),
        Code.SEND_ACCESS_DENIED,
        denied(S, UNKNOWN_PACK),
        pack_id=UNKNOWN_PACK,
    ),
    Refusal(
        "receiver of another pack",
        body_from(S, B2),
        Code.RECEIVER_NOT_IN_ORDER,
        {"resource_id": SOFA_PACK},
    ),
    Refusal(
        "receiver is a stranger",
        body_from(B, X),
        Code.RECEIVER_NOT_IN_ORDER,
        {"resource_id": SOFA_PACK},
        caller="buyer",
    ),
    Refusal(
        "no text",
        orjson.dumps({"from": {"user_id": S}, "to": {"user_id": B}}),
        Code.TEXT_REQUIRED,
    ),
    Refusal("empty text", body_from(S, B, ""), Code.TEXT_REQUIRED),
    Refusal("blank text", body_from(S, B, " \n\t "), Code.TEXT_REQUIRED),
    Refusal("null text", body_from(S, B, None), Code.TEXT_REQUIRED),
    Refusal("legacy text object", body_from(S, B, {"plain": "Hola"}), Code.TEXT_REQUIRED),
]

TWO_RULES_BROKEN = [
    Refusal("no from and no to", b'{"text":"Hola"}', Code.FROM_REQUIRED),
    Refusal("bad from and bad to", body_from("x", "y"), Code.FROM_REQUIRED),
    Refusal("invalid to and empty text", body_from(S, "x", ""), Code.INVALID_TO_USER_ID),
    Refusal("to 0 from a stranger", body_from(X, 0), Code.TO_EMAIL_NOT_SECURE, caller="stranger"),
    Refusal(
        "from equals to with bad text",
        body_from(S, S, "€" * 400),
        Code.SENDER_EQUALS_RECEIVER,
    ),
    Refusal(
        "stranger writes to himself",
        body_from(X, X),
        Code.SENDER_EQUALS_RECEIVER,
        caller="stranger",
    ),
    Refusal(
        "stranger with too long text",
        body_from(X, S, LONG),
        Code.SEND_ACCESS_DENIED,
        denied(X),
        caller="stranger",
    ),
    Refusal(
        "unknown pack and wrong receiver",
        body_from(S, X),
        Code.SEND_ACCESS_DENIED,
        denied(S, UNKNOWN_PACK),
        pack_id=UNKNOWN_PACK,
    ),
    Refusal(
        "wrong receiver and empty text",
        body_from(S, B2, ""),
        Code.RECEIVER_NOT_IN_ORDER,
        {"resource_id": SOFA_PACK},
    ),
    Refusal(
        "blank text and an attachment",
        body_from(S, B, " ", attachments=["x"]),
        Code.TEXT_REQUIRED,
    ),
    Refusal(
        "unsupported characters and too long",
        body_from(S, B, "Привет" * 100),
        Code.TEXT_UNSUPPORTED_CHARS,
    ),
    Refusal(
        "too long and an attachment",
        body_from(S, B, LONG, attachments=["x"]),
        Code.TEXT_TOO_LONG,
        {"max": 350},
    ),
]


async def check_refusals(
    client: httpx.AsyncClient,
    demo: dict[str, Any],
    subtests: pytest.Subtests,
    cases: list[Refusal],
) -> None:
    before = await snapshot(client, demo)
    for case in cases:
        with subtests.test(case.name):
            response = await send(client, demo["users"][case.caller], case.pack_id, case.body)
            assert_error(response, case.code, **case.fields)
            assert await snapshot(client, demo) == before


async def test_each_rule_refuses_with_its_own_error_and_changes_nothing(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    await check_refusals(client, demo, subtests, ONE_RULE_BROKEN)


async def test_when_two_rules_are_broken_the_earlier_check_answers(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    await check_refusals(client, demo, subtests, TWO_RULES_BROKEN)


async def test_missing_token_is_checked_before_the_body(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    before = await snapshot(client, demo)
    response = await client.post(f"{conversation_path(SOFA_PACK)}?tag=post_sale", content=b"{")
    assert_error(response, Code.ACCESS_TOKEN_REQUIRED)
    assert await snapshot(client, demo) == before


async def test_token_without_application_is_refused_before_the_body(
    client: httpx.AsyncClient, demo: dict[str, Any], services: Services, clock: FakeClock
) -> None:
    token = "APP_USR-0-110112-00000000000000000000000000000000-415458330"
    async with services.db.write() as conn:
        await insert_token(
            conn,
            token=token,
            user_id=SELLER.id,
            application_id=None,
            created_at=clock.now(),
            expires_at=clock.now() + timedelta(hours=6),
        )
    before = await snapshot(client, demo)
    for body in (body_from(S, B), b"{"):
        response = await send(client, {"access_token": token}, SOFA_PACK, body)
        assert_error(response, Code.APPLICATION_ID_REQUIRED)
    assert await snapshot(client, demo) == before


@pytest.mark.parametrize(
    ("path", "name"),
    [
        pytest.param(f"/messages/packs/abc/sellers/{SELLER.id}", "pack_id", id="pack-id"),
        pytest.param(f"/messages/packs/{SOFA_PACK}/sellers/-1", "seller_id", id="seller-id"),
    ],
)
async def test_non_numeric_path_ids_are_refused(
    client: httpx.AsyncClient, demo: dict[str, Any], path: str, name: str
) -> None:
    before = await snapshot(client, demo)
    response = await client.post(
        path, content=body_from(S, B), headers=bearer(demo["users"]["seller"])
    )
    assert_error(response, Code.INVALID_PARAM, location="path", name=name)
    assert await snapshot(client, demo) == before
