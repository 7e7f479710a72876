"""PostgreSQL out of reach answers 503 in the envelope, on both connection pools."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from postventa.api.app import create_app
from postventa.clock import FakeClock
from postventa.errors import Code
from postventa.services import Services
from postventa.storage.db import Database
from tests.conftest import assert_error, make_settings

# Nothing listens on port 1; the connection is refused at once.
UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/test"


@pytest.fixture
async def unreachable() -> AsyncIterator[httpx.AsyncClient]:
    db = Database(UNREACHABLE, pool_size=1)
    services = Services(settings=make_settings(UNREACHABLE), db=db, clock=FakeClock())
    transport = httpx.ASGITransport(app=create_app(services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    "path",
    [
        "/messages/unread?role=seller",  # token lookup: the hot statements' asyncpg pool
        "/messages/0123456789abcdef0123456789abcdef",
    ],
)
async def test_unreachable_postgresql_answers_503(
    unreachable: httpx.AsyncClient, path: str
) -> None:
    response = await unreachable.get(path, headers={"Authorization": "Bearer APP_USR-1-2-3-4"})
    assert_error(response, Code.SERVICE_UNAVAILABLE)


async def test_unreachable_postgresql_answers_503_on_the_engine_pool_too(
    unreachable: httpx.AsyncClient,
) -> None:
    response = await unreachable.post(
        "/_postventa/users",
        headers={"X-Postventa-Operator-Key": "pv-operator-sandbox-key"},
        json={"id": 123, "nickname": "NUEVO", "site_id": "MLA"},
    )
    assert_error(response, Code.SERVICE_UNAVAILABLE)
