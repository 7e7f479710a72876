"""Shared fixtures: every storage-backed test runs on SQLite and on PostgreSQL.

* ``services`` is a fresh, migrated database (a copy of a migrated SQLite template, or a
  PostgreSQL database truncated between tests) with a :class:`FakeClock`.
* ``demo`` loads the demo data set into it and returns the ``postventa demo --json`` contract.
* ``client`` is an ``httpx.AsyncClient`` talking to the ASGI app in process.

PostgreSQL comes from ``POSTVENTA_TEST_POSTGRES_URL`` (default: the local ``test`` database). When
it is unreachable the PostgreSQL half is skipped with a message, except when ``CI=true``: then the
run fails, because CI must exercise both databases.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from postventa.api.app import create_app
from postventa.clock import FakeClock
from postventa.config import Settings
from postventa.demo import data as demo_data
from postventa.errors import Code, PostventaError
from postventa.services import Services
from postventa.storage.db import Database
from postventa.storage.migrate import upgrade
from postventa.storage.tables import metadata

POSTGRES_ADMIN_URL = os.environ.get(
    "POSTVENTA_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Every ``async def test_*`` runs on anyio (asyncio), without a marker in each module."""
    if inspect.iscoroutinefunction(obj) and name.startswith("test"):
        pytest.mark.anyio(obj)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def _admin(sql: str) -> None:
    engine = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database of its own for this test session, dropped at the end."""
    name = f"postventa_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure here means "not reachable"
        message = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({exc.__class__.__name__})"
        if IN_CI:
            pytest.fail(f"{message}; CI=true requires the PostgreSQL tests to run", pytrace=False)
        pytest.skip(f"{message}: start PostgreSQL or set POSTVENTA_TEST_POSTGRES_URL")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "postventa.db"
        shutil.copyfile(template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    tables = ", ".join(f'"{t.name}"' for t in reversed(metadata.sorted_tables))
    asyncio.run(_truncate(url, tables))
    return url


async def _truncate(url: str, tables: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    finally:
        await engine.dispose()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(_env_file=None, database_url=database_url, **overrides)  # type: ignore[call-arg]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def services(settings: Settings, clock: FakeClock) -> AsyncIterator[Services]:
    db = Database(settings.database_url, pool_size=4)
    yield Services(settings=settings, db=db, clock=clock)
    await db.dispose()


@pytest.fixture
async def demo(services: Services) -> dict[str, Any]:
    await demo_data.load(services)
    return await demo_data.describe(services)


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def bearer(user: dict[str, Any]) -> dict[str, str]:
    """``Authorization`` header for one of the demo users (``demo["users"]["seller"]``)."""
    return {"Authorization": f"Bearer {user['access_token']}"}


def assert_error(response: httpx.Response, code: Code, **fields: Any) -> None:
    """The response is exactly the error of ``code``: status, and body byte for byte."""
    expected = PostventaError(code, **fields)
    assert (response.status_code, response.content) == (
        expected.status,
        orjson.dumps(expected.body()),
    ), response.text
    assert response.headers["content-type"] == "application/json"
