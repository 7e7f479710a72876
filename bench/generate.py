"""Build a benchmark data set at a chosen scale, and describe it in a JSON manifest.

    python bench/generate.py --scale small --db postgresql
    python bench/generate.py --scale medium --db sqlite --out bench/data

The schema comes from the project's own migrations. Rows are bulk loaded: ``COPY`` (asyncpg's
``copy_records_to_table``) on PostgreSQL, with the secondary indexes and foreign keys of the loaded
tables dropped during the load and rebuilt after it; ``executemany`` in large transactions on
SQLite. The data is deterministic for a given ``--seed``, with timestamps relative to the hour it
is generated in.

The distribution is skewed on purpose (see ``SCALES``): a few big sellers with tens of thousands of
short conversations (and a handful of very long threads, for deep offsets), and many small sellers
whose sizes follow a Zipf law. In every conversation the trailing run of messages of the last sender
may be unread by the other party; everything earlier is read, as it is when people answer. The
counters (``seller_unread``, ``buyer_unread``, ``message_count``, ``last_message_at``) are computed
from the generated messages, so they equal a recount.

The manifest lists what the load scripts need: tokens (stored only as ``hash_token`` like the app
does), big sellers, a sample of conversations with both parties' tokens, unread message ids and
long threads.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import hashlib
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from tqdm import tqdm

from postventa.ids import hash_token, new_message_id
from postventa.storage.migrate import upgrade

SITE_ID = "MLA"
APP_ID = 7_000_000_000_000_001
SELLER_BASE = 200_000_000
BUYER_BASE = 500_000_000
PACK_BASE = 2_000_000_000_000_000
ORDER_BASE = 2_000_004_000_000_000
# Every generated timestamp is before the hour the data is generated in: conversations are closed
# to the seller 30 days after their last message (rules/blocking.py), so the data is dated from
# the real clock, and `run.py` sends only into conversations that are still open.
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
RECENT_SHARE = 0.3  # conversations started in the last 25 days (the rest: the 11 months before)
TOKEN_EXPIRY = datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)
ADMIN_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 50_000

TEXTS = (
    "Hola, ¿el producto tiene garantía?",
    "Sí, tiene garantía de 12 meses con el fabricante.",
    "¿Cuándo llega mi pedido? Compré el lunes.",
    "Ya lo despachamos, te llega entre mañana y el jueves.",
    "Gracias! Llegó perfecto 👍",
    "Te paso el número de seguimiento: MEL1234567890AR",
    "¿Me podés mandar la factura A a nombre de la empresa?",
    "Listo, adjuntamos la factura en el pedido.",
    "El color no es el de la foto, ¿puedo cambiarlo?",
    "Claro, iniciá la devolución desde Mis compras y te enviamos el otro.",
    "Olá, o produto ainda está disponível?",
    "Buen día, ¿hacen envíos a Córdoba capital?",
)


@dataclass(frozen=True)
class Scale:
    messages: int
    big_sellers: int
    big_conversations: int  # conversations of each big seller (short ones)
    small_sellers: int
    long_threads: int  # very long conversations of the big sellers, for deep offsets
    long_length: int
    sample: int  # conversations described in the manifest (with both parties' tokens)


SCALES = {
    "small": Scale(10_000, 1, 1_500, 150, 3, 400, 20_000),
    "medium": Scale(1_000_000, 2, 50_000, 5_000, 10, 5_000, 20_000),
    "large": Scale(10_000_000, 4, 80_000, 40_000, 20, 20_000, 20_000),
}

# Thread length of an ordinary conversation: (share, shortest, longest). Mean about 8.
ORDINARY_LENGTHS = ((0.55, 1, 3), (0.30, 4, 10), (0.13, 11, 40), (0.02, 41, 150))
# Big sellers' conversations are mostly short questions and answers. Mean about 3.
BIG_LENGTHS = ((0.6, 1, 2), (0.35, 3, 6), (0.05, 7, 20))
SELLER_UNREAD = (
    0.12  # share of ordinary conversations whose last buyer messages the seller left unread
)
BUYER_UNREAD = 0.25
BIG_SELLER_UNREAD_AT_LEAST = 650  # the `unread` scenario needs more than the 500 cap


@dataclass
class Conversation:
    seller_id: int
    pack_id: int
    buyer_id: int
    created_at: datetime
    length: int
    seller_unread: int = 0
    buyer_unread: int = 0
    last_message_at: datetime | None = None
    last_buyer_message_at: datetime | None = None
    last_seller_message_at: datetime | None = None
    opened_by: str | None = None
    message_ids: list[str] = field(default_factory=list)  # kept only for sampled conversations
    unread_ids: list[str] = field(default_factory=list)  # unread ids, kept only when sampled


def _pick_length(rng: random.Random, table: tuple[tuple[float, int, int], ...]) -> int:
    roll = rng.random()
    for share, low, high in table:
        if roll < share:
            return rng.randint(low, high)
        roll -= share
    return table[-1][1]


class Generator:
    """Plans conversations, then streams their messages; counters come from the same loop."""

    def __init__(self, scale: Scale, seed: int) -> None:
        self.scale = scale
        self.rng = random.Random(seed)
        self.seed = seed
        self.conversations: list[Conversation] = []
        self.sampled: set[int] = set()  # indexes into conversations
        self.big_seller_ids = [SELLER_BASE + i for i in range(scale.big_sellers)]
        self.small_seller_ids = [
            SELLER_BASE + scale.big_sellers + i for i in range(scale.small_sellers)
        ]
        self.buyer_count = 0
        self.unread_messages = 0
        self._plan()

    def _plan(self) -> None:
        scale, rng = self.scale, self.rng
        planned: list[tuple[int, int]] = []  # (seller_id, length)
        for seller_id in self.big_seller_ids:
            planned += [
                (seller_id, _pick_length(rng, BIG_LENGTHS)) for _ in range(scale.big_conversations)
            ]
        for index in range(scale.long_threads):
            planned.append((self.big_seller_ids[index % scale.big_sellers], scale.long_length))
        budget = scale.messages - sum(length for _, length in planned)
        weights = [1 / (rank + 1) ** 0.9 for rank in range(scale.small_sellers)]
        cumulative = list(_accumulate(weights))
        while budget > 0:
            length = min(_pick_length(rng, ORDINARY_LENGTHS), budget)
            pick = bisect.bisect_left(cumulative, rng.random() * cumulative[-1])
            planned.append((self.small_seller_ids[min(pick, scale.small_sellers - 1)], length))
            budget -= length
        rng.shuffle(planned)
        self.buyer_count = max(50, len(planned) // 2)
        old_span = timedelta(days=340).total_seconds()
        recent_span = timedelta(days=24).total_seconds()
        for number, (seller_id, length) in enumerate(planned):
            self.conversations.append(
                Conversation(
                    seller_id=seller_id,
                    pack_id=PACK_BASE + number,
                    buyer_id=BUYER_BASE + rng.randrange(self.buyer_count),
                    created_at=(
                        NOW - timedelta(days=25, seconds=rng.random() * old_span)
                        if rng.random() >= RECENT_SHARE
                        else NOW - timedelta(days=1, seconds=rng.random() * recent_span)
                    ),
                    length=length,
                )
            )
        every = max(1, len(planned) // scale.sample)
        self.sampled = set(range(0, len(planned), every))
        # Every long thread is described (deep-offset paging reads them).
        self.sampled |= {
            i for i, c in enumerate(self.conversations) if c.length == scale.long_length
        }

    def _unread_share(self, seller_id: int) -> float:
        if seller_id in self.big_seller_ids:
            return max(0.03, BIG_SELLER_UNREAD_AT_LEAST / self.scale.big_conversations)
        return SELLER_UNREAD

    def message_rows(self) -> Iterator[tuple[Any, ...]]:
        """Every message as a tuple in ``MESSAGE_COLUMNS`` order; fills in the counters."""
        rng = self.rng
        for index, conv in enumerate(self.conversations):
            keep = index in self.sampled
            roll = rng.random()
            seller_share = self._unread_share(conv.seller_id)
            state = (
                "seller"
                if roll < seller_share
                else "buyer"
                if roll < seller_share + BUYER_UNREAD
                else "read"
            )
            senders: list[int] = []
            party = conv.buyer_id if rng.random() < 0.6 else conv.seller_id
            while len(senders) < conv.length:
                senders += [party] * min(rng.randint(1, 3), conv.length - len(senders))
                party = conv.seller_id if party == conv.buyer_id else conv.buyer_id
            if state == "seller":  # the seller has not read the buyer's last messages
                senders[-1] = conv.buyer_id
            elif state == "buyer":
                senders[-1] = conv.seller_id
            unread_from = conv.length
            if state != "read":
                last = senders[-1]
                unread_from = conv.length - 1
                while unread_from > 0 and senders[unread_from - 1] == last:
                    unread_from -= 1
            long_thread = conv.length == self.scale.long_length
            at = conv.created_at
            for position, sender in enumerate(senders):
                if position:
                    gap = rng.randint(60, 1800) if long_thread else int(rng.expovariate(1 / 10800))
                    at = min(at + timedelta(seconds=gap + 1), NOW - timedelta(seconds=1))
                receiver = conv.seller_id if sender == conv.buyer_id else conv.buyer_id
                if sender == conv.buyer_id:
                    conv.last_buyer_message_at = at
                else:
                    conv.last_seller_message_at = at
                unread = position >= unread_from
                read_at = None if unread else min(at + timedelta(minutes=rng.randint(1, 240)), NOW)
                message_id = new_message_id(at, seed=rng.randbytes(10))
                if unread:
                    if receiver == conv.seller_id:
                        conv.seller_unread += 1
                    else:
                        conv.buyer_unread += 1
                    if keep:
                        conv.unread_ids.append(message_id)
                if keep:
                    conv.message_ids.append(message_id)
                yield (
                    message_id,
                    conv.seller_id,
                    conv.pack_id,
                    sender,
                    receiver,
                    APP_ID,
                    SITE_ID,
                    None,
                    TEXTS[rng.randrange(len(TEXTS))],
                    "available",
                    "clean",
                    None,
                    "online",
                    at,
                    at,
                    at,
                    at,
                    read_at,
                    None,
                    position == 0,
                )
            self.unread_messages += conv.seller_unread + conv.buyer_unread
            conv.last_message_at = at
            conv.opened_by = "buyer" if senders[0] == conv.buyer_id else "seller"

    def conversation_rows(self) -> Iterator[tuple[Any, ...]]:
        for conv in self.conversations:
            yield (
                conv.seller_id,
                conv.pack_id,
                conv.buyer_id,
                SITE_ID,
                False,
                "active",
                None,
                conv.created_at,
                None,
                None,
                conv.seller_unread,
                conv.buyer_unread,
                conv.length,
                conv.last_message_at,
                conv.created_at,
                conv.last_buyer_message_at,
                conv.last_seller_message_at,
                conv.opened_by,
            )

    def order_rows(self) -> Iterator[tuple[Any, ...]]:
        for number, conv in enumerate(self.conversations):
            yield (
                ORDER_BASE + number,
                conv.seller_id,
                conv.pack_id,
                conv.buyer_id,
                SITE_ID,
                "paid",
                conv.created_at,
                conv.pack_id,
            )

    def user_rows(self) -> Iterator[tuple[Any, ...]]:
        created = NOW - timedelta(days=400)
        for number, seller_id in enumerate(self.big_seller_ids + self.small_seller_ids):
            yield (seller_id, f"BENCH_SELLER_{number}", SITE_ID, created)
        for number in range(self.buyer_count):
            yield (BUYER_BASE + number, f"BENCH_BUYER_{number}", SITE_ID, created)

    def token_of(self, user_id: int) -> str:
        secret = hashlib.sha256(f"postventa-bench:{self.seed}:{user_id}".encode()).hexdigest()
        return f"APP_USR-{APP_ID}-112012-{secret[:32]}-{user_id}"

    def token_users(self) -> list[int]:
        users = set(self.big_seller_ids)
        for index in self.sampled:
            conv = self.conversations[index]
            users.update((conv.seller_id, conv.buyer_id))
        return sorted(users)

    def token_rows(self) -> Iterator[tuple[Any, ...]]:
        for user_id in self.token_users():
            yield (hash_token(self.token_of(user_id)), user_id, APP_ID, NOW, TOKEN_EXPIRY)

    def manifest(self) -> dict[str, Any]:
        big = []
        for seller_id in self.big_seller_ids:
            mine = [c for c in self.conversations if c.seller_id == seller_id]
            big.append(
                {
                    "user_id": seller_id,
                    "token": self.token_of(seller_id),
                    "conversations": len(mine),
                    "unread_conversations": sum(1 for c in mine if c.seller_unread),
                }
            )
        sample = []
        for index in sorted(self.sampled):
            conv = self.conversations[index]
            sample.append(
                {
                    "seller_id": conv.seller_id,
                    "pack_id": conv.pack_id,
                    "buyer_id": conv.buyer_id,
                    "seller_token": self.token_of(conv.seller_id),
                    "buyer_token": self.token_of(conv.buyer_id),
                    "messages": conv.length,
                    "seller_unread": conv.seller_unread,
                    "buyer_unread": conv.buyer_unread,
                    "message_ids": conv.message_ids[:3] + conv.message_ids[-3:],
                    "unread_ids": conv.unread_ids[-20:],
                    "long": conv.length == self.scale.long_length,
                    "last_message_at": conv.last_message_at.isoformat()
                    if conv.last_message_at
                    else None,
                }
            )
        sellers = len(self.big_seller_ids) + len(self.small_seller_ids)
        return {
            "application_id": APP_ID,
            "counts": {
                "users": sellers + self.buyer_count,
                "sellers": sellers,
                "buyers": self.buyer_count,
                "conversations": len(self.conversations),
                "orders": len(self.conversations),
                "messages": sum(c.length for c in self.conversations),
                "unread_messages": self.unread_messages,
                "seller_unread_conversations": sum(
                    1 for c in self.conversations if c.seller_unread
                ),
                "buyer_unread_conversations": sum(1 for c in self.conversations if c.buyer_unread),
                "access_tokens": len(self.token_users()),
            },
            "big_sellers": big,
            "conversations": sample,
        }


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def _batches(rows: Iterator[tuple[Any, ...]], size: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


USER_COLUMNS = ("id", "nickname", "site_id", "created_at")
TOKEN_COLUMNS = ("token_hash", "user_id", "application_id", "created_at", "expires_at")
CONVERSATION_COLUMNS = (
    "seller_id",
    "pack_id",
    "buyer_id",
    "site_id",
    "is_order",
    "status",
    "substatus",
    "status_date",
    "claim_ids",
    "shipping_id",
    "seller_unread",
    "buyer_unread",
    "message_count",
    "last_message_at",
    "created_at",
    "last_buyer_message_at",
    "last_seller_message_at",
    "opened_by",
)
ORDER_COLUMNS = (
    "id",
    "seller_id",
    "pack_id",
    "buyer_id",
    "site_id",
    "status",
    "date_created",
    "conversation_pack_id",
)
MESSAGE_COLUMNS = (
    "id",
    "seller_id",
    "pack_id",
    "from_user_id",
    "to_user_id",
    "client_id",
    "site_id",
    "subject",
    "text",
    "status",
    "moderation_status",
    "moderation_reason",
    "moderation_source",
    "moderation_date",
    "created_at",
    "available_at",
    "notified_at",
    "read_at",
    "attachments",
    "first_message",
)
APPLICATION_ROW = (APP_ID, SELLER_BASE, "Postventa bench", NOW - timedelta(days=400))
LOADED_TABLES = ("users", "applications", "access_tokens", "conversations", "orders", "messages")


# --- PostgreSQL ------------------------------------------------------------------------------


def postgres_urls(database: str) -> tuple[str, str]:
    """(asyncpg DSN, SQLAlchemy URL) of the bench database."""
    base = make_url(ADMIN_POSTGRES_URL).set(database=database)
    return (
        base.render_as_string(hide_password=False),
        base.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False),
    )


async def _recreate_postgres_database(database: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(ADMIN_POSTGRES_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()


def load_postgres(gen: Generator, database: str) -> str:
    asyncio.run(_recreate_postgres_database(database))
    dsn, url = postgres_urls(database)
    upgrade(url)  # Alembic runs its own event loop
    asyncio.run(_copy_postgres(gen, dsn))
    return url


async def _copy_postgres(gen: Generator, dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET synchronous_commit = off; SET maintenance_work_mem = '1GB'")
        # Secondary indexes and foreign keys are rebuilt once after the load: far faster than
        # maintaining them row by row. Their definitions come from the migrated schema itself.
        constraints = await conn.fetch(
            "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def "
            "FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
        )
        indexes = await conn.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid "
            "WHERE i.schemaname = 'public' AND NOT x.indisprimary AND NOT x.indisunique "
            "AND i.tablename = ANY($1::text[])",
            list(LOADED_TABLES),
        )
        for row in constraints:
            await conn.execute(f'ALTER TABLE {row["tbl"]} DROP CONSTRAINT "{row["conname"]}"')
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')

        async def copy(
            table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]
        ) -> int:
            count = 0
            for batch in _batches(rows):
                await conn.copy_records_to_table(table, records=batch, columns=list(columns))
                count += len(batch)
                progress.update(len(batch)) if table == "messages" else None
            return count

        total = sum(c.length for c in gen.conversations)
        with tqdm(total=total, unit="msg", desc="messages", file=sys.stderr) as progress:
            await copy("messages", MESSAGE_COLUMNS, gen.message_rows())
        steps = tqdm(
            total=5 + len(indexes) + len(constraints), desc="tables+indexes", file=sys.stderr
        )
        await copy("users", USER_COLUMNS, gen.user_rows())
        steps.update()
        await conn.copy_records_to_table(
            "applications",
            records=[APPLICATION_ROW],
            columns=["id", "owner_user_id", "name", "created_at"],
        )
        await copy("access_tokens", TOKEN_COLUMNS, gen.token_rows())
        steps.update(2)
        await copy("conversations", CONVERSATION_COLUMNS, gen.conversation_rows())
        steps.update()
        await copy("orders", ORDER_COLUMNS, gen.order_rows())
        steps.update()
        for row in indexes:
            await conn.execute(row["indexdef"])
            steps.update()
        for row in constraints:
            await conn.execute(
                f'ALTER TABLE {row["tbl"]} ADD CONSTRAINT "{row["conname"]}" {row["def"]}'
            )
            steps.update()
        steps.close()
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy's SQLite dialect stores: naive UTC text with microseconds, bools as 0/1."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def _sqlite_rows(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield tuple(_sqlite_value(v) for v in row)


def load_sqlite(gen: Generator, path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{path.resolve()}"
    upgrade(url)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")

        def insert(table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> None:
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            for batch in _batches(_sqlite_rows(rows), 200_000):
                conn.execute("BEGIN")
                conn.executemany(sql, batch)
                conn.execute("COMMIT")
                progress.update(len(batch)) if table == "messages" else None

        conn.execute("PRAGMA foreign_keys=OFF")
        total = sum(c.length for c in gen.conversations)
        with tqdm(total=total, unit="msg", desc="messages", file=sys.stderr) as progress:
            insert("messages", MESSAGE_COLUMNS, gen.message_rows())
        insert("users", USER_COLUMNS, gen.user_rows())
        insert(
            "applications", ("id", "owner_user_id", "name", "created_at"), iter([APPLICATION_ROW])
        )
        insert("access_tokens", TOKEN_COLUMNS, gen.token_rows())
        insert("conversations", CONVERSATION_COLUMNS, gen.conversation_rows())
        insert("orders", ORDER_COLUMNS, gen.order_rows())
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise SystemExit(f"foreign key violations after load: {problems[:5]}")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return url


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--out", type=Path, default=Path("bench/data"), help="manifest folder")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    gen = Generator(SCALES[args.scale], args.seed)
    name = f"postventa_bench_{args.scale}"
    if args.db == "postgresql":
        url = load_postgres(gen, name)
    else:
        url = load_sqlite(gen, args.out / f"{name}.db")
    manifest = {
        "scale": args.scale,
        "db": args.db,
        "database_url": url,
        "seed": args.seed,
        "generated_in_seconds": round(time.perf_counter() - started, 1),
        "generated_at": NOW.isoformat(),
        **gen.manifest(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"manifest-{args.scale}-{args.db}.json"
    target.write_text(json.dumps(manifest, indent=1))
    print(  # noqa: T201
        f"{args.scale} on {args.db}: {manifest['counts']} in {manifest['generated_in_seconds']} s"
        f" -> {target}"
    )
    return manifest


if __name__ == "__main__":
    main()
