"""The operator API: its own key, users, applications, tokens and the sandbox clock."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from postventa.api.app import create_app
from postventa.clock import FakeClock, SandboxClock
from postventa.config import DEMO_OPERATOR_KEY, Mode
from postventa.errors import Code
from postventa.ids import hash_token
from postventa.services import Services
from postventa.storage.db import Database
from postventa.storage.tables import access_tokens
from tests.conftest import assert_error, bearer, make_settings

OPERATOR = {"X-Postventa-Operator-Key": DEMO_OPERATOR_KEY}


def sandbox_app(database_url: str, clock: FakeClock) -> tuple[Services, httpx.AsyncClient]:
    services = Services(
        settings=make_settings(database_url),
        db=Database(database_url, pool_size=2),
        clock=SandboxClock(clock),
    )
    transport = httpx.ASGITransport(app=create_app(services))
    return services, httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _user_with_token(http: httpx.AsyncClient, user_id: int = 900001) -> str:
    assert (
        await http.post(
            "/_postventa/users",
            headers=OPERATOR,
            json={"id": user_id, "nickname": f"U{user_id}", "site_id": "MLB"},
        )
    ).status_code == 201
    app = {"id": 77, "owner_user_id": user_id, "name": "Helpdesk"}
    assert (
        await http.post("/_postventa/applications", headers=OPERATOR, json=app)
    ).status_code in (
        201,
        409,
    )
    issued = await http.post(
        "/_postventa/tokens", headers=OPERATOR, json={"user_id": user_id, "application_id": 77}
    )
    assert issued.status_code == 201
    body = issued.json()
    assert body["expires_in"] == 21600
    token: str = body["access_token"]
    assert token.startswith("APP_USR-77-")
    assert token.endswith(f"-{user_id}")
    return token


async def test_operator_calls_need_the_operator_key(
    client: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    body = {"id": 5, "nickname": "X", "site_id": "MLA"}
    assert_error(await client.post("/_postventa/users", json=body), Code.OPERATOR_KEY_REQUIRED)
    wrong = {"X-Postventa-Operator-Key": "guess"}
    assert_error(
        await client.post("/_postventa/users", json=body, headers=wrong), Code.OPERATOR_KEY_INVALID
    )
    # A user token never opens the operator API.
    seller = bearer(demo["users"]["seller"])
    assert_error(
        await client.post("/_postventa/users", json=body, headers=seller),
        Code.OPERATOR_KEY_REQUIRED,
    )


async def test_users_are_created_once_and_validated(client: httpx.AsyncClient) -> None:
    body = {"id": 5, "nickname": "NUEVO", "site_id": "MLA"}
    created = await client.post("/_postventa/users", json=body, headers=OPERATOR)
    assert created.status_code == 201
    assert created.json() == {
        "id": 5,
        "nickname": "NUEVO",
        "site_id": "MLA",
        "kind": "user",
        "deactivated": False,
        "restricted": False,
    }
    again = await client.post("/_postventa/users", json=body, headers=OPERATOR)
    assert_error(again, Code.OPERATOR_ALREADY_EXISTS, kind="User", id=5)
    bad_site = {"id": 6, "nickname": "OTRO", "site_id": "XXX"}
    response = await client.post("/_postventa/users", json=bad_site, headers=OPERATOR)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    malformed = await client.post("/_postventa/users", content=b"{", headers=OPERATOR)
    assert malformed.status_code == 400


async def test_issued_token_works_is_stored_hashed_and_expires_with_the_clock(
    database_url: str, clock: FakeClock
) -> None:
    services, http = sandbox_app(database_url, clock)
    async with http:
        token = await _user_with_token(http)
        ok = await http.get("/messages/unread", headers={"Authorization": f"Bearer {token}"})
        assert ok.json() == {"user_id": 900001, "results": []}
        async with services.db.read() as conn:
            stored = list((await conn.execute(select(access_tokens.c.token_hash))).scalars())
        assert hash_token(token) in stored
        assert token not in stored
        moved = await http.post(
            "/_postventa/clock/advance", headers=OPERATOR, json={"by": "PT6H0M1S"}
        )
        assert moved.json()["offset_seconds"] == 6 * 3600 + 1
        expired = await http.get("/messages/unread", headers={"Authorization": f"Bearer {token}"})
        assert_error(expired, Code.INVALID_TOKEN)
    await services.db.dispose()


async def test_clock_is_read_advanced_set_and_reset(database_url: str, clock: FakeClock) -> None:
    services, http = sandbox_app(database_url, clock)
    async with http:
        read = await http.get("/_postventa/clock", headers=OPERATOR)
        assert read.json() == {
            "now": "2026-11-01T12:00:00.000Z",
            "offset_seconds": 0.0,
            "mode": "sandbox",
        }
        advanced = await http.post(
            "/_postventa/clock/advance", headers=OPERATOR, json={"by": "P30D"}
        )
        assert advanced.json()["now"] == "2026-12-01T12:00:00.000Z"
        again = await http.post("/_postventa/clock/advance", headers=OPERATOR, json={"by": "PT90S"})
        assert again.json()["now"] == "2026-12-01T12:01:30.000Z"
        put = await http.put(
            "/_postventa/clock", headers=OPERATOR, json={"now": "2028-05-01T00:00:00Z"}
        )
        assert put.json()["now"] == "2028-05-01T00:00:00.000Z"
        # Another process (a fresh clock object) adopts the stored offset on its next request.
        other = SandboxClock(FakeClock())
        services2 = Services(services.settings, services.db, other)
        transport = httpx.ASGITransport(app=create_app(services2))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as second:
            seen = await second.get("/_postventa/clock", headers=OPERATOR)
        assert seen.json()["now"] == "2028-05-01T00:00:00.000Z"
        reset = await http.delete("/_postventa/clock", headers=OPERATOR)
        assert reset.json()["now"] == "2026-11-01T12:00:00.000Z"
    await services.db.dispose()


async def test_clock_cannot_move_in_production(database_url: str, clock: FakeClock) -> None:
    settings = make_settings(database_url, mode=Mode.production, operator_key="k" * 32)
    services = Services(settings=settings, db=Database(database_url, pool_size=2), clock=clock)
    transport = httpx.ASGITransport(app=create_app(services))
    headers = {"X-Postventa-Operator-Key": "k" * 32}
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        refused = await http.post("/_postventa/clock/advance", headers=headers, json={"by": "PT1M"})
        assert_error(refused, Code.CLOCK_FROZEN_IN_PRODUCTION)
        demo_key = await http.get("/_postventa/clock", headers=OPERATOR)
        assert_error(demo_key, Code.OPERATOR_KEY_INVALID)
        assert (await http.get("/_postventa/clock", headers=headers)).json()["mode"] == "production"
    await services.db.dispose()


async def test_clock_inputs_are_iso_strings_within_bounds(
    database_url: str, clock: FakeClock
) -> None:
    services, http = sandbox_app(database_url, clock)
    async with http:
        for body in ({"by": False}, {"by": 90}, {"by": "P10000Y"}, {"by": "soon"}):
            response = await http.post("/_postventa/clock/advance", headers=OPERATOR, json=body)
            assert response.status_code == 400, (body, response.text)
        for body in ({"now": 0}, {"now": "2026-01-01T00:00:00"}, {"now": "9999-01-01T00:00:00Z"}):
            response = await http.put("/_postventa/clock", headers=OPERATOR, json=body)
            assert response.status_code == 400, (body, response.text)
        assert (await http.get("/_postventa/clock", headers=OPERATOR)).json()["offset_seconds"] == 0
    await services.db.dispose()
