"""The per-process token cache: fewer token lookups, same answers (see ``api/deps.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete

from postventa.api.app import create_app
from postventa.api.deps import TokenCache
from postventa.clock import FakeClock
from postventa.demo.data import BUYER
from postventa.errors import Code
from postventa.ids import hash_token
from postventa.model import Caller
from postventa.services import Services
from postventa.storage.tables import access_tokens
from postventa.storage.tokens import insert_token
from tests.conftest import assert_error, bearer

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
CALLER = Caller(user_id=1, application_id=2)
NEW_TOKEN = "APP_USR-5503910054141466-110112-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-618491100"


class Ticks:
    """A monotonic clock for the cache that only moves when told to."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


def test_cache_returns_an_entry_until_its_time_to_live_ends() -> None:
    ticks = Ticks()
    cache = TokenCache(ttl_seconds=10, monotonic=ticks)
    cache.put("h", CALLER, NOW + timedelta(hours=6))
    ticks.value = 9.999
    assert cache.get("h", now=NOW) == CALLER
    ticks.value = 10.0
    assert cache.get("h", now=NOW) is None
    assert len(cache) == 0


def test_cache_never_returns_a_token_at_or_after_its_expiry() -> None:
    cache = TokenCache(ttl_seconds=10, monotonic=Ticks())
    expiry = NOW + timedelta(hours=6)
    cache.put("h", CALLER, expiry)
    assert cache.get("h", now=expiry - timedelta(milliseconds=1)) == CALLER
    assert cache.get("h", now=expiry) is None


def test_cache_drops_the_oldest_entry_when_full() -> None:
    cache = TokenCache(ttl_seconds=10, max_entries=2, monotonic=Ticks())
    for name in ("a", "b", "c"):
        cache.put(name, CALLER, NOW + timedelta(hours=1))
    assert len(cache) == 2
    assert cache.get("a", now=NOW) is None
    assert cache.get("b", now=NOW) == cache.get("c", now=NOW) == CALLER


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(services)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def _delete_token(services: Services, token: str) -> None:
    async with services.db.write() as conn:
        await conn.execute(
            delete(access_tokens).where(access_tokens.c.token_hash == hash_token(token))
        )


async def test_a_known_token_is_served_from_the_cache_until_cleared(
    app: FastAPI, http: httpx.AsyncClient, demo: dict[str, Any], services: Services
) -> None:
    """Documents the invalidation rule: a row removed behind the cache's back is still honoured
    until the entry ages out or the cache is cleared."""
    seller = demo["users"]["seller"]
    first = await http.get("/messages/unread?role=seller", headers=bearer(seller))
    assert first.status_code == 200
    await _delete_token(services, seller["access_token"])

    cached = await http.get("/messages/unread?role=seller", headers=bearer(seller))
    assert cached.status_code == 200
    assert cached.json() == first.json()

    app.state.token_cache.clear()
    assert_error(
        await http.get("/messages/unread?role=seller", headers=bearer(seller)), Code.INVALID_TOKEN
    )


async def test_an_unknown_token_is_not_cached_and_works_as_soon_as_it_is_issued(
    http: httpx.AsyncClient, demo: dict[str, Any], services: Services, clock: FakeClock
) -> None:
    headers = bearer({"access_token": NEW_TOKEN})
    assert_error(await http.get("/messages/unread?role=buyer", headers=headers), Code.INVALID_TOKEN)
    async with services.db.write() as conn:
        await insert_token(
            conn,
            token=NEW_TOKEN,
            user_id=BUYER.id,
            application_id=demo["application_id"],
            created_at=clock.now(),
            expires_at=clock.now() + timedelta(hours=6),
        )
    response = await http.get("/messages/unread?role=buyer", headers=headers)
    assert response.status_code == 200
    assert response.json()["user_id"] == BUYER.id


async def test_a_cached_token_is_refused_from_its_expiry_instant(
    http: httpx.AsyncClient, demo: dict[str, Any], services: Services, clock: FakeClock
) -> None:
    async with services.db.write() as conn:
        await insert_token(
            conn,
            token=NEW_TOKEN,
            user_id=BUYER.id,
            application_id=demo["application_id"],
            created_at=clock.now(),
            expires_at=clock.now() + timedelta(hours=6),
        )
    headers = bearer({"access_token": NEW_TOKEN})
    assert (await http.get("/messages/unread?role=buyer", headers=headers)).status_code == 200
    clock.advance(timedelta(hours=6))
    assert_error(await http.get("/messages/unread?role=buyer", headers=headers), Code.INVALID_TOKEN)
