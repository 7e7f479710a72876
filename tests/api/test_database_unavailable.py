"""PostgreSQL out of reach answers 503 in the envelope, on both connection pools."""

from __future__ import annotations

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


@pytest.mark.parametrize(
    "path",
    [
        "/messages/unread?role=seller",  # token lookup: the hot reads' asyncpg pool
        "/messages/0123456789abcdef0123456789abcdef",
    ],
)
async def test_unreachable_postgresql_answers_503(path: str) -> None:
    settings = make_settings(UNREACHABLE)
    db = Database(UNREACHABLE, pool_size=1)
    services = Services(settings=settings, db=db, clock=FakeClock())
    transport = httpx.ASGITransport(app=create_app(services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get(path, headers={"Authorization": "Bearer APP_USR-1-2-3-4"})
        assert_error(response, Code.SERVICE_UNAVAILABLE)
    finally:
        await db.dispose()


async def test_unreachable_postgresql_answers_503_on_the_engine_pool_too() -> None:
    settings = make_settings(UNREACHABLE)
    db = Database(UNREACHABLE, pool_size=1)
    services = Services(settings=settings, db=db, clock=FakeClock())
    transport = httpx.ASGITransport(app=create_app(services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post(
                "/_postventa/users",
                headers={"X-Postventa-Operator-Key": "pv-operator-sandbox-key"},
                json={"id": 123, "nickname": "NUEVO", "site_id": "MLA"},
            )
        assert_error(response, Code.SERVICE_UNAVAILABLE)
    finally:
        await db.dispose()
