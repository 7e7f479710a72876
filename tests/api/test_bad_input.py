"""Robustness through HTTP: whatever a client sends, it gets a Mercado Libre error envelope.

Missing, malformed, unknown and expired tokens; bodies that are not JSON objects, have the wrong
types or are too large; odd bytes in paths and queries; unknown routes, wrong methods, the removed
order-based API; and the path shapes real clients send (whole-path percent-encoding, trailing
slash). No refusal is ever a 500, and none changes anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest

from postventa.api.app import create_app
from postventa.clock import FakeClock
from postventa.demo.data import BUYER, SELLER
from postventa.errors import Code
from postventa.services import Services
from postventa.storage.db import Database
from postventa.storage.tokens import insert_token
from tests.conftest import assert_error, bearer, make_settings

SOFA_PACK = 2000000089077943  # buyer BUYER, 29 messages, 3 unread for the seller
SOFA = f"/messages/packs/{SOFA_PACK}/sellers/{SELLER.id}"
SOME_MESSAGE_ID = "0" * 32
MAX_BODY_BYTES = 1_048_576  # the default setting
PACK_PARAM = {"location": "path", "name": "pack_id"}

EVERY_ENDPOINT = [
    ("GET", SOFA),  # E1
    ("POST", SOFA),  # E3
    ("GET", f"/messages/{SOME_MESSAGE_ID}"),  # E2
    ("PUT", f"/messages/mark_as_read/{SOME_MESSAGE_ID}"),  # E11
    ("GET", "/messages/unread"),  # E6
    ("GET", f"/messages/unread/packs/{SOFA_PACK}/sellers/{SELLER.id}"),  # E7
]


def assert_envelope(response: httpx.Response) -> None:
    """A client error in the standard envelope (§1.3): never a 500, never FastAPI's own body."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) == {"message", "error", "status", "cause"}, body
    assert body["status"] == response.status_code
    assert isinstance(body["message"], str)
    assert isinstance(body["error"], str)
    assert body["cause"] == []


def send_body(text: object = "Hola", **fields: Any) -> bytes:
    body = {"from": {"user_id": SELLER.id}, "to": {"user_id": BUYER.id}, "text": text}
    return orjson.dumps({**body, **fields})


async def sofa_state(client: httpx.AsyncClient, demo: dict[str, Any]) -> tuple[int, int, int]:
    """(messages, seller's unread, buyer's unread) of the sofa conversation; reads mark nothing."""
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
    page = await client.get(f"{SOFA}?mark_as_read=false", headers=bearer(seller))
    unread = [
        await client.get(
            f"/messages/unread/packs/{SOFA_PACK}/sellers/{SELLER.id}", headers=bearer(user)
        )
        for user in (seller, buyer)
    ]
    return (
        page.json()["paging"]["total"],
        unread[0].json()["results"][0]["count"],
        unread[1].json()["results"][0]["count"],
    )


@asynccontextmanager
async def client_with_settings(
    database_url: str, clock: FakeClock, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the same database, for an app built with non-default settings."""
    db = Database(database_url, pool_size=2)
    services = Services(settings=make_settings(database_url, **overrides), db=db, clock=clock)
    try:
        transport = httpx.ASGITransport(app=create_app(services))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await db.dispose()


# --- tokens -------------------------------------------------------------------------------------


async def test_missing_token_is_400_on_every_endpoint(
    client: httpx.AsyncClient, subtests: pytest.Subtests
) -> None:
    for method, path in EVERY_ENDPOINT:
        with subtests.test(method=method, path=path):
            response = await client.request(method, path, content=send_body())
            assert_error(response, Code.ACCESS_TOKEN_REQUIRED)


async def test_non_bearer_or_empty_authorization_counts_as_no_token(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    token = demo["users"]["seller"]["access_token"]
    for authorization in (f"Basic {token}", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", token):
        for method, path in EVERY_ENDPOINT:
            with subtests.test(authorization=authorization, method=method, path=path):
                response = await client.request(
                    method, path, headers={"Authorization": authorization}
                )
                assert_error(response, Code.ACCESS_TOKEN_REQUIRED)


async def test_unknown_token_is_401_on_every_endpoint(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    real = demo["users"]["seller"]["access_token"]
    for token in (real + "1", "APP_USR-1-2-3-4", "x" * 5000):
        for method, path in EVERY_ENDPOINT:
            with subtests.test(token=token[:40], method=method, path=path):
                response = await client.request(
                    method, path, headers=bearer({"access_token": token})
                )
                assert_error(response, Code.INVALID_TOKEN)


async def test_token_works_until_its_expiry_instant_and_is_401_from_then_on(
    client: httpx.AsyncClient, demo: dict[str, Any], services: Services, clock: FakeClock
) -> None:
    token = "APP_USR-5503910054141466-110112-ffffffffffffffffffffffffffffffff-618491100"
    async with services.db.write() as conn:
        await insert_token(
            conn,
            token=token,
            user_id=BUYER.id,
            application_id=demo["application_id"],
            created_at=clock.now(),
            expires_at=clock.now() + timedelta(hours=6),
        )
    headers = bearer({"access_token": token})

    clock.advance(timedelta(hours=6) - timedelta(milliseconds=1))
    still_valid = await client.get("/messages/unread?role=buyer", headers=headers)
    assert still_valid.status_code == 200, still_valid.text
    assert still_valid.json()["user_id"] == BUYER.id

    clock.advance(timedelta(milliseconds=1))
    assert_error(await client.get("/messages/unread", headers=headers), Code.INVALID_TOKEN)
    assert_error(await client.post(SOFA, content=b"{", headers=headers), Code.INVALID_TOKEN)


async def test_query_token_is_accepted_by_default(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]
    by_query = await client.get(
        "/messages/unread", params={"role": "seller", "access_token": seller["access_token"]}
    )
    by_header = await client.get("/messages/unread?role=seller", headers=bearer(seller))
    assert by_query.status_code == 200, by_query.text
    assert by_query.json() == by_header.json()


async def test_header_token_wins_over_query_token(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    response = await client.get(
        "/messages/unread",
        params={"access_token": demo["users"]["seller"]["access_token"]},
        headers=bearer({"access_token": "APP_USR-1-2-3-4"}),
    )
    assert_error(response, Code.INVALID_TOKEN)


async def test_query_token_is_refused_when_the_setting_disables_it(
    demo: dict[str, Any], database_url: str, clock: FakeClock
) -> None:
    seller = demo["users"]["seller"]
    async with client_with_settings(database_url, clock, accept_query_token=False) as client:
        by_query = await client.get(
            "/messages/unread", params={"access_token": seller["access_token"]}
        )
        assert_error(by_query, Code.ACCESS_TOKEN_REQUIRED)
        by_header = await client.get("/messages/unread", headers=bearer(seller))
        assert by_header.status_code == 200, by_header.text


# --- bodies -------------------------------------------------------------------------------------


async def test_body_that_is_not_a_json_object_is_refused(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    seller = demo["users"]["seller"]
    before = await sofa_state(client, demo)
    for body in [
        b"",
        b" \r\n\t ",
        b"{",
        b'{"from": {"user_id": 415458330},}',
        b"[]",
        b"[" + send_body() + b"]",
        b'"Hola"',
        b"415458330",
        b"null",
        b"true",
        b"NaN",
        b"[" * 100_000,  # nesting far past any parser's limit
        send_body().replace(b"Hola", b"Hol\xff"),  # invalid UTF-8
        send_body().replace(b"Hola", b"\xe1"),  # latin-1 encoded "á", not UTF-8
        b"\xef\xbb\xbf" + send_body(),  # UTF-8 byte order mark
        send_body().replace(b"Hola", b"\\ud800"),  # lone surrogate escape
        send_body().decode().encode("utf-16"),
        b"from=415458330&to=618491100&text=Hola",
    ]:
        with subtests.test(body=body[:60]):
            response = await client.post(SOFA, content=body, headers=bearer(seller))
            assert_error(response, Code.JSON_BODY_REQUIRED)
            assert await sofa_state(client, demo) == before


async def test_fields_of_the_wrong_type_get_the_error_of_their_check(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    seller = demo["users"]["seller"]
    before = await sofa_state(client, demo)
    cases: list[tuple[dict[str, Any], Code]] = [
        ({"from": "x"}, Code.FROM_REQUIRED),
        ({"from": []}, Code.FROM_REQUIRED),
        ({"from": SELLER.id}, Code.FROM_REQUIRED),
        ({"from": {"user_id": "x"}}, Code.FROM_REQUIRED),
        ({"from": {"user_id": True}}, Code.FROM_REQUIRED),
        ({"from": {"user_id": 415458330.0}}, Code.FROM_REQUIRED),
        ({"from": {"user_id": -415458330}}, Code.FROM_REQUIRED),
        ({"to": []}, Code.TO_USER_ID_REQUIRED),
        ({"to": "x"}, Code.TO_USER_ID_REQUIRED),
        ({"to": BUYER.id}, Code.TO_USER_ID_REQUIRED),
        ({"to": {"user_id": True}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": False}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": -1}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": 1.5}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": 618491100.0}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": "12a"}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": ""}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": " 618491100"}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": "-1"}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": "6.18e8"}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": "６１８"}}, Code.INVALID_TO_USER_ID),  # full-width digits
        ({"to": {"user_id": 2**63}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": str(2**64)}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": []}}, Code.INVALID_TO_USER_ID),
        ({"to": {"user_id": {}}}, Code.INVALID_TO_USER_ID),
        ({"text": 5}, Code.TEXT_REQUIRED),
        ({"text": True}, Code.TEXT_REQUIRED),
        ({"text": ["Hola"]}, Code.TEXT_REQUIRED),
        ({"text": {"plain": "Hola"}}, Code.TEXT_REQUIRED),
    ]
    for fields, code in cases:
        with subtests.test(fields=fields):
            response = await client.post(SOFA, content=send_body(**fields), headers=bearer(seller))
            assert_error(response, code)
            assert await sofa_state(client, demo) == before


async def oversized_chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def padded_body(total_bytes: int) -> bytes:
    """A valid send body padded with trailing whitespace to exactly ``total_bytes``."""
    body = send_body()
    return body + b" " * (total_bytes - len(body))


async def test_body_over_the_cap_is_413_declared_or_streamed_and_nothing_is_stored(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    headers = bearer(demo["users"]["seller"])
    before = await sofa_state(client, demo)
    body = padded_body(MAX_BODY_BYTES + 1)
    for mode in ("content-length", "chunked"):
        with subtests.test(mode=mode):
            content = body if mode == "content-length" else oversized_chunks(body)
            request = client.build_request("POST", SOFA, content=content, headers=headers)
            assert ("content-length" in request.headers) is (mode == "content-length")
            response = await client.send(request)
            assert_error(response, Code.BODY_TOO_LARGE, max_bytes=MAX_BODY_BYTES)
            assert await sofa_state(client, demo) == before


async def test_body_exactly_at_the_cap_is_accepted_declared_or_streamed(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    headers = bearer(demo["users"]["seller"])
    body = padded_body(MAX_BODY_BYTES)
    for mode in ("content-length", "chunked"):
        with subtests.test(mode=mode):
            content = body if mode == "content-length" else oversized_chunks(body)
            response = await client.post(SOFA, content=content, headers=headers)
            assert response.status_code == 200, response.text


# --- odd bytes in paths and queries -------------------------------------------------------------


async def test_odd_bytes_in_path_or_query_get_the_parameter_error(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    headers = bearer(demo["users"]["seller"])
    pack_param = (Code.INVALID_PARAM, {"location": "path", "name": "pack_id"})
    seller_param = (Code.INVALID_PARAM, {"location": "path", "name": "seller_id"})
    cases: list[tuple[str, str, tuple[Code, dict[str, Any]]]] = [
        ("GET", f"/messages/packs/%FF/sellers/{SELLER.id}", pack_param),
        ("GET", f"/messages/packs/%00/sellers/{SELLER.id}", pack_param),
        ("GET", f"/messages/packs/%C3%B1/sellers/{SELLER.id}", pack_param),
        ("GET", f"/messages/packs/{2**64}/sellers/{SELLER.id}", pack_param),
        ("GET", f"/messages/packs/{2**63}/sellers/{SELLER.id}", pack_param),
        ("POST", f"/messages/packs/%FF/sellers/{SELLER.id}", pack_param),
        ("GET", f"/messages/packs/{SOFA_PACK}/sellers/%FF", seller_param),
        ("GET", f"/messages/packs/{SOFA_PACK}/sellers/{SELLER.id}%00", seller_param),
        ("GET", f"{SOFA}?limit=%00", (Code.INVALID_LIMIT, {})),
        ("GET", f"{SOFA}?limit=%FF", (Code.INVALID_LIMIT, {})),
        ("GET", f"{SOFA}?limit=--5", (Code.INVALID_LIMIT, {})),
        ("GET", f"{SOFA}?limit=%2B-5", (Code.INVALID_LIMIT, {})),
        ("GET", f"{SOFA}?limit=99999999999", (Code.INVALID_LIMIT, {})),
        ("GET", f"{SOFA}?offset=%FF", (Code.INVALID_OFFSET, {})),
        ("GET", f"{SOFA}?offset=--1", (Code.INVALID_OFFSET, {})),
        ("GET", "/messages/%FF", (Code.MESSAGE_ID_NOT_EXISTS, {})),
        ("GET", "/messages/%00", (Code.MESSAGE_ID_NOT_EXISTS, {})),
        ("GET", "/messages/" + "a" * 5000, (Code.MESSAGE_ID_NOT_EXISTS, {})),
        ("PUT", "/messages/mark_as_read/%FF", (Code.MARK_IDS_INVALID, {})),
        ("PUT", f"/messages/mark_as_read/{SOME_MESSAGE_ID}%00", (Code.MARK_IDS_INVALID, {})),
    ]
    for method, path, (code, fields) in cases:
        with subtests.test(method=method, path=path[:80]):
            response = await client.request(method, path, headers=headers, content=send_body())
            assert_error(response, code, **fields)


async def test_largest_64_bit_pack_id_is_an_unknown_conversation_not_a_crash(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    pack_id = 2**63 - 1
    response = await client.get(
        f"/messages/packs/{pack_id}/sellers/{SELLER.id}", headers=bearer(demo["users"]["seller"])
    )
    assert_error(response, Code.RESOURCE_FORBIDDEN, resource_id=pack_id)


async def test_odd_bytes_where_a_value_is_optional_fall_back_to_the_default(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    headers = bearer(demo["users"]["seller"])
    odd_role = await client.get("/messages/unread?role=%FF", headers=headers)
    seller_role = await client.get("/messages/unread?role=seller", headers=headers)
    assert odd_role.status_code == 200, odd_role.text
    assert odd_role.json() == seller_role.json()

    odd_resource = await client.get("/messages/unread/packs/%FF/sellers/%00", headers=headers)
    assert odd_resource.status_code == 200, odd_resource.text
    assert odd_resource.json() == {"user_id": SELLER.id, "results": []}


async def test_raw_non_ascii_bytes_in_the_request_line_are_a_client_error(
    services: Services, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    """Servers hand the request line's bytes over as they came; httpx cannot send them."""
    app = create_app(services)
    token = demo["users"]["seller"]["access_token"].encode()
    for raw_path, code, fields in [
        (b"/messages/packs/\xff/sellers/1", Code.INVALID_PARAM, PACK_PARAM),
        ("/messages/ñ".encode(), Code.MESSAGE_ID_NOT_EXISTS, {}),
        (SOFA.encode() + b"?limit=\xff", Code.INVALID_LIMIT, {}),
    ]:  # fmt: skip
        with subtests.test(raw_path=raw_path):
            path, _, query = raw_path.partition(b"?")
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "GET",
                "scheme": "http",
                "path": path.decode("latin-1"),
                "raw_path": path,
                "query_string": query,
                "root_path": "",
                "headers": [(b"host", b"testserver"), (b"authorization", b"Bearer " + token)],
                "client": ("127.0.0.1", 50000),
                "server": ("testserver", 80),
            }
            sent: list[dict[str, Any]] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
                sent.append(message)

            await app(scope, receive, send)
            start = sent[0]
            response = httpx.Response(
                start["status"],
                headers=[(k.decode(), v.decode()) for k, v in start["headers"]],
                content=b"".join(m.get("body", b"") for m in sent[1:]),
            )
            assert_error(response, code, **fields)


# --- routing ------------------------------------------------------------------------------------


async def test_unknown_routes_are_404_with_or_without_token(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    for path in ["/", "/messages", "/nope", "/messages/packs/1/sellers", f"{SOFA}/extra"]:
        for headers in ({}, bearer(demo["users"]["seller"])):
            with subtests.test(path=path, token=bool(headers)):
                assert_error(await client.get(path, headers=headers), Code.ROUTE_NOT_FOUND)


async def test_wrong_methods_are_405_with_or_without_token(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    for method, path in [
        ("DELETE", "/messages/unread"),
        ("POST", "/messages/unread"),
        ("PUT", SOFA),
        ("DELETE", SOFA),
        ("PATCH", f"/messages/{SOME_MESSAGE_ID}"),
        ("GET", f"/messages/mark_as_read/{SOME_MESSAGE_ID}"),
    ]:
        for headers in ({}, bearer(demo["users"]["seller"])):
            with subtests.test(method=method, path=path, token=bool(headers)):
                response = await client.request(method, path, headers=headers)
                assert_error(response, Code.METHOD_NOT_ALLOWED)


async def test_removed_order_api_answers_resource_not_found(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    seller = demo["users"]["seller"]
    legacy_reply = orjson.dumps(
        {"from": {"user_id": SELLER.id}, "to": {"user_id": BUYER.id}, "text": {"plain": "Hola"}}
    )
    before = await sofa_state(client, demo)
    for method, path, headers in [
        ("GET", "/messages/orders/123", bearer(seller)),
        ("GET", f"/messages/orders/123?access_token={seller['access_token']}", {}),
        ("GET", "/messages/orders/123/messages", bearer(seller)),
        ("POST", "/messages/orders/123/messages", bearer(seller)),
        ("POST", f"/messages/orders/{SOFA_PACK}/messages", bearer(seller)),
    ]:
        with subtests.test(method=method, path=path[:40]):
            response = await client.request(method, path, headers=headers, content=legacy_reply)
            assert_error(response, Code.LEGACY_RESOURCE_NOT_FOUND)
    assert await sofa_state(client, demo) == before


async def test_whole_path_percent_encoding_routes_like_the_plain_path(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    buyer = demo["users"]["buyer"]
    encoded = await client.get("/messages%2Funread%3Frole%3Dbuyer", headers=bearer(buyer))
    plain = await client.get("/messages/unread?role=buyer", headers=bearer(buyer))
    assert encoded.status_code == 200, encoded.text
    # role=buyer was honoured: the buyer's unread as a seller would be empty.
    assert encoded.json() == plain.json() != {"user_id": BUYER.id, "results": []}


async def test_whole_path_percent_encoding_merges_the_embedded_and_real_queries(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]
    encoded_path = f"/messages%2Fpacks%2F{SOFA_PACK}%2Fsellers%2F{SELLER.id}%3Fmark_as_read%3Dfalse"
    encoded = await client.get(f"{encoded_path}?limit=2", headers=bearer(seller))
    assert encoded.status_code == 200, encoded.text
    assert encoded.json()["paging"] == {"limit": 2, "offset": 0, "total": 29}
    assert await sofa_state(client, demo) == (29, 3, 0)  # mark_as_read=false was honoured
    plain = await client.get(f"{SOFA}?mark_as_read=false&limit=2", headers=bearer(seller))
    assert encoded.json() == plain.json()


async def test_trailing_slash_reaches_the_same_resource(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    headers = bearer(demo["users"]["seller"])
    for path in ["/messages/unread?role=seller", f"{SOFA}?mark_as_read=false"]:
        with subtests.test(path=path):
            plain = await client.get(path, headers=headers)
            slashed = await client.get(path.replace("?", "/?"), headers=headers)
            assert plain.status_code == slashed.status_code == 200, slashed.text
            assert slashed.json() == plain.json()


async def test_trailing_slash_on_post_keeps_the_body(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    seller = demo["users"]["seller"]
    text = "Enviado con barra final"
    response = await client.post(f"{SOFA}/", content=send_body(text), headers=bearer(seller))
    assert response.status_code == 200, response.text
    assert response.json()["text"] == text
    by_id = await client.get(f"/messages/{response.json()['id']}", headers=bearer(seller))
    assert by_id.json()["messages"][0]["text"] == text
    assert await sofa_state(client, demo) == (30, 3, 1)


# --- whatever arrives, the answer is an envelope ------------------------------------------------


async def test_odd_requests_never_answer_500_nor_a_foreign_body(
    client: httpx.AsyncClient, demo: dict[str, Any], subtests: pytest.Subtests
) -> None:
    seller = bearer(demo["users"]["seller"])
    for method, path, headers, body in [
        ("GET", f"{SOFA}?limit=1&limit=abc", seller, b""),
        ("GET", f"{SOFA}?limit=%zz&offset=%", seller, b""),
        ("GET", "/messages/unread?access_token=%FF", {}, b""),
        ("GET", "/messages%2F", seller, b""),
        ("GET", "/%3F", seller, b""),
        ("GET", "/messages/unread", {"Authorization": "Bearer \x7f"}, b""),
        ("GET", "/messages/unread", {"Authorization": "Bearer ñ".encode()}, b""),
        ("GET", "/messages/unread", {"Authorization": b"Bearer \xff"}, b""),
        ("POST", SOFA, {**seller, "Content-Length": "0"}, b""),
        ("POST", SOFA, seller, bytes(range(256))),
        ("POST", SOFA, seller, send_body(to={"user_id": "HUGE"}).replace(b'"HUGE"', b"1" * 40)),
        ("POST", SOFA, seller, send_body(**{"from": {"user_id": "9" * 5000}})),
        ("PUT", "/messages/mark_as_read/" + ",".join(["%FF"] * 500), seller, b""),
        ("PUT", "/messages/mark_as_read/,,,", seller, b""),
        ("OPTIONS", "/messages/unread", seller, b""),
    ]:
        with subtests.test(method=method, path=path[:60], headers=headers, body=body[:40]):
            response = await client.request(method, path, headers=headers, content=body)
            assert_envelope(response)


async def test_method_not_allowed_names_every_method_of_the_path(
    client: httpx.AsyncClient,
) -> None:
    response = await client.put("/messages/packs/1/sellers/2")
    assert_error(response, Code.METHOD_NOT_ALLOWED)
    assert response.headers["allow"] == "GET, POST"
    response = await client.delete("/messages/unread")
    assert response.headers["allow"] == "GET"


async def test_paths_seen_only_in_third_party_code_do_not_exist(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/messages/pending_read", "/messages/pending", "/messages/packs?seller=1"):
        assert_error(await client.get(path), Code.ROUTE_NOT_FOUND)
