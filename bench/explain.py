"""EXPLAIN (ANALYZE, BUFFERS) of every hot query, on a generated PostgreSQL data set.

    python bench/explain.py --scale medium > /tmp/explain.md

The statements are built from the app's own tables (and ``unread_query`` itself), with ids taken
from the manifest: the biggest seller, a sampled conversation, the longest thread. Writes run
inside a transaction that is rolled back. Prints Markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Executable, func, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import create_async_engine

from postventa.ids import hash_token
from postventa.model import Role
from postventa.storage.tables import access_tokens, conversations, messages
from postventa.storage.unread import unread_query

BENCH = Path(__file__).resolve().parent


def _sql(statement: Executable) -> str:
    compiled = statement.compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    return str(compiled)


def hot_queries(manifest: dict[str, Any]) -> list[tuple[str, Executable]]:
    big = manifest["big_sellers"][0]
    convs = manifest["conversations"]
    conv = next(c for c in convs if not c["long"] and c["messages"] >= 3)
    unread_conv = next(c for c in convs if not c["long"] and c["seller_unread"])
    longest = max(convs, key=lambda c: c["messages"])
    page = select(*messages.c).where(
        messages.c.seller_id == conv["seller_id"], messages.c.pack_id == conv["pack_id"]
    )
    deep = select(*messages.c).where(
        messages.c.seller_id == longest["seller_id"], messages.c.pack_id == longest["pack_id"]
    )
    order = (messages.c.created_at.asc(), messages.c.id.asc())
    return [
        (
            "token lookup (every request without a cached token)",
            select(
                access_tokens.c.user_id, access_tokens.c.application_id, access_tokens.c.expires_at
            ).where(access_tokens.c.token_hash == hash_token(big["token"])),
        ),
        (
            f"E6 unread, big seller ({big['unread_conversations']} unread conversations, cap 500)",
            unread_query(user_id=big["user_id"], role=Role.seller, cap=500),
        ),
        (
            "E7 / E1 / E3: one conversation by key",
            select(*conversations.c).where(
                conversations.c.seller_id == conv["seller_id"],
                conversations.c.pack_id == conv["pack_id"],
            ),
        ),
        ("E1 page, offset 0", page.order_by(*order).limit(10).offset(0)),
        (
            f"E1 page, deep offset ({longest['messages'] - 10} of {longest['messages']})",
            deep.order_by(*order).limit(10).offset(longest["messages"] - 10),
        ),
        (
            "E2 message by id",
            select(*messages.c).where(messages.c.id == conv["message_ids"][0]),
        ),
        (
            "E1 mark / E11: mark the reader's unread rows (rolled back)",
            update(messages)
            .where(
                messages.c.seller_id == unread_conv["seller_id"],
                messages.c.pack_id == unread_conv["pack_id"],
                messages.c.to_user_id == unread_conv["seller_id"],
                messages.c.read_at.is_(None),
            )
            .values(read_at=func.now())
            .returning(messages.c.id),
        ),
    ]


async def explain(url: str, queries: list[tuple[str, Executable]]) -> str:
    engine = create_async_engine(url)
    out = []
    try:
        async with engine.connect() as conn:
            for title, statement in queries:
                sql = _sql(statement)
                trans = await conn.begin()
                plan = await conn.execute(text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql))
                lines = [row[0] for row in plan]
                await trans.rollback()
                out.append(
                    f"#### {title}\n\n```sql\n{sql}\n```\n\n```\n" + "\n".join(lines) + "\n```\n"
                )
            out.append(await _generic_plan(conn, queries))
    finally:
        await engine.dispose()
    return "\n".join(out)


async def _generic_plan(conn: Any, queries: list[tuple[str, Executable]]) -> str:
    """E6 as the server really runs it: asyncpg prepares every statement, and after five
    executions PostgreSQL may switch to a generic plan, which cannot use a partial index whose
    predicate is a bound parameter (``seller_unread > $2``)."""
    title, statement = queries[1]
    compiled = statement.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
    params = list(compiled.construct_params().values())
    trans = await conn.begin()
    await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    await conn.exec_driver_sql(f"PREPARE bench_e6 AS {compiled}")
    args = ", ".join(str(p) for p in params)
    plan = await conn.exec_driver_sql(
        f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE bench_e6({args})"
    )
    lines = [row[0] for row in plan]
    await trans.rollback()
    await conn.exec_driver_sql("DEALLOCATE ALL")
    return (
        f"#### {title}: generic plan of the prepared statement\n\n```sql\n{compiled}\n```\n\n"
        f"```\n" + "\n".join(lines) + "\n```\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="medium", choices=("small", "medium", "large"))
    parser.add_argument("--data", type=Path, default=BENCH / "data")
    args = parser.parse_args()
    manifest = json.loads((args.data / f"manifest-{args.scale}-postgresql.json").read_text())
    print(asyncio.run(explain(manifest["database_url"], hot_queries(manifest))))  # noqa: T201


if __name__ == "__main__":
    main()
