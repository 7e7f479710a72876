"""Hot paths stay cheap as data grows: the right index, and a fixed number of statements.

The query plans are read from the database itself (``EXPLAIN``); on PostgreSQL sequential scans
are disabled for the check, because on tiny test tables a scan is legitimately cheaper and the
question here is whether the index *can* serve the query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite

from postventa.model import Role
from postventa.services import Services
from postventa.storage.unread import unread_query
from tests.conftest import bearer


async def _plan(services: Services, query: Any) -> str:
    dialect = postgresql.dialect() if services.db.is_postgres else sqlite.dialect()
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    async with services.db.read() as conn:
        if services.db.is_postgres:
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            rows = await conn.execute(text(f"EXPLAIN {sql}"))
        else:
            rows = await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
        return "\n".join(" ".join(str(c) for c in row) for row in rows)


async def test_unread_listing_reads_only_the_partial_index(
    services: Services, demo: dict[str, Any]
) -> None:
    for role in Role:
        query = unread_query(role).params(user_id=1, cap=500)
        plan = await _plan(services, query)
        assert f"ix_conversations_{role.value}_unread" in plan, plan
        # With bound parameters too (prepared statements, PostgreSQL's generic plans), the
        # predicate must still read "> 0" verbatim, or the partial index no longer applies.
        assert f"{role.value}_unread > 0" in str(query.compile(dialect=postgresql.dialect()))


@contextmanager
def _statements(services: Services) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.split(None, 1)[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            seen.append(statement)

    def record_hot(statement: str) -> None:  # reads on PostgreSQL's raw asyncpg pool
        record(None, None, statement)

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    services.db.statement_listeners.append(record_hot)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
        services.db.statement_listeners.remove(record_hot)


async def test_statement_counts_do_not_grow_with_the_data(
    client: httpx.AsyncClient, services: Services, demo: dict[str, Any]
) -> None:
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
    pack = demo["packs"][0]
    path = f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}"
    # token lookup (first use; then cached, see api/deps.py) + one statement per role
    with _statements(services) as seen:
        await client.get("/messages/unread?role=seller", headers=bearer(seller))
    assert len(seen) == 2, seen
    # conversation (with both users) + its orders' facts + page: no per-message queries, and no
    # token lookup (cached since the first request, see api/deps.py)
    with _statements(services) as seen:
        await client.get(f"{path}?mark_as_read=false&limit=20", headers=bearer(seller))
    assert len(seen) == 3, seen
    # locked conversation + orders + mark rows + counter + subscribers + outbox + page
    with _statements(services) as seen:
        await client.get(f"{path}?limit=20", headers=bearer(seller))
    assert len(seen) == 7, seen
    # token (the buyer's first use) + locked conversation + orders + insert + counter
    # + subscribers + outbox
    with _statements(services) as seen:
        await client.post(
            path,
            headers=bearer(buyer),
            json={
                "from": {"user_id": buyer["id"]},
                "to": {"user_id": seller["id"]},
                "text": "Hola",
            },
        )
    assert len(seen) == 7, seen
