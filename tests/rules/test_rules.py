"""The pure rules (``postventa.rules``): paging, message text, who may send, unread roles.

No database, no HTTP: each rule is called with plain values and either answers or raises the
:class:`PostventaError` of the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from postventa.config import UnreadDefaultRole
from postventa.errors import Code, PostventaError
from postventa.model import Conversation, Page, Role
from postventa.rules.paging import parse_page
from postventa.rules.send import (
    SendRequest,
    check_attachments,
    check_parties,
    parse_json_object,
    parse_send_request,
    parse_user_id,
)
from postventa.rules.text import check_text, has_only_supported_characters, max_length_for
from postventa.rules.unread import roles_for

SELLER, BUYER, OTHER = 415458330, 618491100, 812345678
PACK = 2000000089077943


@contextmanager
def raises(code: Code, **fields: Any) -> Iterator[None]:
    """The block raises exactly this error of the table, with these fields."""
    with pytest.raises(PostventaError) as info:
        yield
    assert (info.value.code, info.value.fields) == (code, fields)


# --- paging -------------------------------------------------------------------------------------


def page(limit: str | None = None, offset: str | None = None) -> Page:
    return parse_page(limit, offset, default_limit=10, max_limit=100)


def test_page_defaults_to_the_configured_limit_and_offset_zero() -> None:
    assert page() == Page(limit=10, offset=0)


@pytest.mark.parametrize(
    ("limit", "offset", "expected"),
    [
        ("5", "7", Page(5, 7)),
        (" 5 ", " 7 ", Page(5, 7)),
        ("+5", "+0", Page(5, 0)),
        ("1", "0", Page(1, 0)),
        ("100", "2147483647", Page(100, 2147483647)),
        ("0005", "-0", Page(5, 0)),
    ],
)
def test_page_accepts_plain_integers(limit: str, offset: str, expected: Page) -> None:
    assert page(limit, offset) == expected


@pytest.mark.parametrize("limit", ["101", "500", "2147483647"])
def test_limit_above_the_maximum_is_clamped(limit: str) -> None:
    assert page(limit) == Page(limit=100, offset=0)


@pytest.mark.parametrize("limit", ["0", "-1", "-0", "-2147483648"])
def test_limit_zero_or_negative_has_its_own_message(limit: str) -> None:
    with raises(Code.LIMIT_NOT_POSITIVE):
        page(limit)


@pytest.mark.parametrize(
    "limit",
    ["", " ", "abc", "1.5", "1e3", "5a", "--5", "+-5", "-+5", "- 5", "1_000", "٣", "²",
     "2147483648", "99999999999", "000000000001", "\x00"],
)  # fmt: skip
def test_malformed_limit_is_invalid(limit: str) -> None:
    with raises(Code.INVALID_LIMIT):
        page(limit)


@pytest.mark.parametrize(
    "offset", ["", "abc", "-1", "--1", "1.0", "٣", "2147483648", "99999999999"]
)
def test_negative_or_malformed_offset_is_invalid(offset: str) -> None:
    with raises(Code.INVALID_OFFSET):
        page("5", offset)


def test_limit_is_checked_before_offset() -> None:
    with raises(Code.INVALID_LIMIT):
        page("x", "y")


# --- message text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Hola, ¿cómo estás? ¡Gracias!",
        "Açúcar, pão, ação; Über; Straße; 25°; «ok»; £ ¥ © ®",
        "línea 1\nlínea 2\ttab",
        "👍",
        "👍🏽",  # skin tone modifier
        "👨‍👩‍👧‍👦",  # ZWJ family
        "🇦🇷",  # flag
        "❤️",  # emoji + variation selector 16
        "1️⃣",  # keycap
        "ok 😀 ñ",
    ],
)
def test_latin_1_and_emoji_are_supported(text: str) -> None:
    assert has_only_supported_characters(text)


@pytest.mark.parametrize(
    "text",
    [
        "€",
        "你好",
        "Привет",
        "שלום",
        "“quotes”",
        "…",
        "–",
        "\u200d",  # joiner outside an emoji
        "\U0001f1e6",  # half a flag
        "a\u0301",  # combining accent (decomposed á)
        "\x00",
        "ok \x00 ok",
    ],
)
def test_other_characters_are_not_supported(text: str) -> None:
    assert not has_only_supported_characters(text)


def test_maximum_length_depends_on_the_senders_role() -> None:
    assert max_length_for(Role.seller, seller_max=350, buyer_max=3500) == 350
    assert max_length_for(Role.buyer, seller_max=350, buyer_max=3500) == 3500


@pytest.mark.parametrize("text", [None, "", " ", " \n\t ", 5, 0, True, ["Hola"], {"plain": "Hola"}])
def test_missing_blank_or_non_string_text_is_required(text: object) -> None:
    with raises(Code.TEXT_REQUIRED):
        check_text(text, max_length=350)


def test_text_at_the_maximum_length_is_returned_unchanged() -> None:
    text = " ñ" * 175  # 350 characters (525 UTF-8 bytes), leading space kept
    assert check_text(text, max_length=350) == text


def test_text_over_the_maximum_length_names_the_maximum() -> None:
    with raises(Code.TEXT_TOO_LONG, max=350):
        check_text("a" * 351, max_length=350)


def test_charset_is_checked_before_length() -> None:
    with raises(Code.TEXT_UNSUPPORTED_CHARS):
        check_text("€" * 351, max_length=350)


# --- user ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (415458330, 415458330),
        ("415458330", 415458330),
        ("00042", 42),
        (0, 0),
        ("0", 0),
        (2**63 - 1, 2**63 - 1),
        (str(2**63 - 1), 2**63 - 1),
    ],
)
def test_user_id_is_a_json_number_or_a_numeric_string(value: object, expected: int) -> None:
    assert parse_user_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [None, True, False, -1, 1.5, 415458330.0, 2**63, str(2**63), "9" * 20, "", " 1", "1 ",
     "-1", "+1", "1e3", "12a", "１２", "٣", [], {}, [415458330]],
)  # fmt: skip
def test_anything_else_is_not_a_user_id(value: object) -> None:
    assert parse_user_id(value) is None


# --- the send request, in the validation order --------------------------------------------------


def body(**fields: Any) -> bytes:
    return orjson.dumps(fields)


def valid(**overrides: Any) -> dict[str, Any]:
    return {"from": {"user_id": SELLER}, "to": {"user_id": BUYER}, "text": "Hola", **overrides}


def test_a_valid_request_is_parsed_with_text_and_attachments_untouched() -> None:
    raw = orjson.dumps(valid(attachments=["a.pdf"], text=5))
    assert parse_send_request(raw) == SendRequest(
        from_user_id=SELLER, to_user_id=BUYER, text=5, attachments=["a.pdf"]
    )


def test_string_ids_are_parsed_as_numbers() -> None:
    raw = orjson.dumps(valid(**{"from": {"user_id": str(SELLER)}, "to": {"user_id": str(BUYER)}}))
    request = parse_send_request(raw)
    assert (request.from_user_id, request.to_user_id) == (SELLER, BUYER)


@pytest.mark.parametrize(
    "raw",
    [b"", b"  \n", b"{", b"[]", b'"x"', b"1", b"null", b"true", b"\xff", b'{"a":"\xff"}',
     b"\xef\xbb\xbf{}", b"[" * 10_000, b"{}{}"],
)  # fmt: skip
def test_anything_but_a_json_object_is_refused(raw: bytes) -> None:
    with raises(Code.JSON_BODY_REQUIRED):
        parse_json_object(raw)


def test_a_json_object_is_returned_as_a_dict() -> None:
    assert parse_json_object(b' {"a": [1, "\xc3\xb1"]} ') == {"a": [1, "ñ"]}


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        # each rule alone (None leaves the top-level field out)
        ({"from": None}, Code.FROM_REQUIRED),
        ({"from": {}}, Code.FROM_REQUIRED),
        ({"from": "415458330"}, Code.FROM_REQUIRED),
        ({"from": {"user_id": 0}}, Code.FROM_REQUIRED),
        ({"from": {"user_id": "x"}}, Code.FROM_REQUIRED),
        ({"to": None}, Code.TO_USER_ID_REQUIRED),
        ({"to": {}}, Code.TO_USER_ID_REQUIRED),
        ({"to": {"user_id": None}}, Code.TO_USER_ID_REQUIRED),
        ({"to": [BUYER]}, Code.TO_USER_ID_REQUIRED),
        ({"to": {"user_id": "x"}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": -1}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": True}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": 0}}, Code.TO_EMAIL_NOT_SECURE),
        ({"to": {"user_id": "0"}}, Code.TO_EMAIL_NOT_SECURE),
        ({"to": {"user_id": str(SELLER)}}, Code.SENDER_EQUALS_RECEIVER),
        # two rules at once: the earlier one answers
        ({"from": None, "to": None}, Code.FROM_REQUIRED),
        ({"from": {"user_id": "x"}, "to": {"user_id": "y"}}, Code.FROM_REQUIRED),
        ({"to": {"user_id": "x"}, "text": None}, Code.INVALID_TO_USER_ID),
        ({"from": {"user_id": 0}, "to": {"user_id": 0}}, Code.FROM_REQUIRED),
        ({"to": {"user_id": SELLER}, "text": "€" * 400}, Code.SENDER_EQUALS_RECEIVER),
    ],
)
def test_send_request_refusals_follow_the_validation_order(
    fields: dict[str, Any], code: Code
) -> None:
    present = {k: v for k, v in valid(**fields).items() if v is not None}
    with raises(code):
        parse_send_request(orjson.dumps(present))


def conversation(*, seller: int = SELLER, buyer: int = BUYER) -> Conversation:
    at = datetime(2026, 11, 1, 12, tzinfo=UTC)
    return Conversation(
        seller_id=seller,
        pack_id=PACK,
        buyer_id=buyer,
        site_id="MLA",
        status="active",
        substatus=None,
        status_date=at,
        claim_ids=None,
        shipping_id=None,
        seller_unread=0,
        buyer_unread=0,
        message_count=0,
        last_message_at=None,
        created_at=at,
    )


def request(sender: int, receiver: int) -> SendRequest:
    return SendRequest(from_user_id=sender, to_user_id=receiver, text="Hola", attachments=None)


@pytest.mark.parametrize(("caller", "receiver"), [(SELLER, BUYER), (BUYER, SELLER)])
def test_either_party_may_write_to_the_other(caller: int, receiver: int) -> None:
    check_parties(
        request(caller, receiver), caller_id=caller, pack_id=PACK, conversation=conversation()
    )


@pytest.mark.parametrize(
    ("caller", "sender", "receiver", "known"),
    [
        (OTHER, OTHER, SELLER, True),  # not a party
        (SELLER, BUYER, SELLER, True),  # writing as someone else
        (OTHER, SELLER, BUYER, True),  # a stranger's token sending as the seller
        (SELLER, SELLER, BUYER, False),  # unknown conversation answers the same
        (SELLER, SELLER, OTHER, False),  # ... even when the receiver is wrong too
    ],
)
def test_sender_must_be_the_caller_and_a_party(
    caller: int, sender: int, receiver: int, known: bool
) -> None:
    found = conversation() if known else None
    with raises(Code.SEND_ACCESS_DENIED, user_id=sender, resource_id=PACK):
        check_parties(request(sender, receiver), caller_id=caller, pack_id=PACK, conversation=found)


@pytest.mark.parametrize(("caller", "receiver"), [(SELLER, OTHER), (BUYER, OTHER)])
def test_receiver_must_be_the_counterpart(caller: int, receiver: int) -> None:
    with raises(Code.RECEIVER_NOT_IN_ORDER, resource_id=PACK):
        check_parties(
            request(caller, receiver), caller_id=caller, pack_id=PACK, conversation=conversation()
        )


@pytest.mark.parametrize("attachments", [None, []])
def test_no_attachments_pass(attachments: object) -> None:
    check_attachments(attachments)


@pytest.mark.parametrize("attachments", [["x"], ["a", "b"], "x", {}, "", 0, False, [None]])
def test_any_other_attachments_value_is_refused(attachments: object) -> None:
    with raises(Code.ATTACHMENT_INVALID):
        check_attachments(attachments)


# --- unread roles -------------------------------------------------------------------------------


@pytest.mark.parametrize("default", list(UnreadDefaultRole))
@pytest.mark.parametrize(("role", "expected"), [("seller", Role.seller), ("buyer", Role.buyer)])
def test_a_valid_role_is_used_whatever_the_default(
    role: str, expected: Role, default: UnreadDefaultRole
) -> None:
    assert roles_for(role, default=default) == (expected,)


@pytest.mark.parametrize("role", [None, "", "all", "SELLER", "Buyer", " seller", "sellers"])
def test_a_missing_or_invalid_role_follows_the_default(role: str | None) -> None:
    assert roles_for(role, default=UnreadDefaultRole.seller) == (Role.seller,)
    assert roles_for(role, default=UnreadDefaultRole.all) == (Role.seller, Role.buyer)
