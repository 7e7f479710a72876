"""The action guide's seller+sale lock holds across OS processes (§11.6: 409 ``conflict``).

* Two ``postventa serve`` processes on one PostgreSQL database receive the same option at the same
  time: exactly one sends it, the other answers 409. To make the overlap certain without sleeping,
  the test holds the conversation's row lock while both requests arrive: whichever takes the
  advisory lock first waits on that row lock (still holding the advisory lock), so the other one
  must fail at once with 409; releasing the row lock lets the first finish with 200.
* Separate worker processes race for the lock itself (advisory lock on PostgreSQL, leased row on
  SQLite) behind a barrier: exactly one gets it while the others are refused.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from postventa.clock import FakeClock
from postventa.errors import Code
from postventa.storage import action_guide as store
from postventa.storage.action_guide_tables import action_guide_locks
from postventa.storage.db import Database
from tests.conftest import assert_error
from tests.operator.test_blocking import new_sale

POSTVENTA = str(Path(sys.executable).with_name("postventa"))
WORKERS = 4
SELLER, PACK = 415458330, 2000000089077943


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_server(database_url: str, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTVENTA_")}
    env["POSTVENTA_DATABASE_URL"] = database_url
    port = _free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [POSTVENTA, "serve", "--port", str(port), "--no-migrate"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    return process, f"http://127.0.0.1:{port}"


def _wait_ready(process: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log_path.read_text()
        try:
            if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "postventa serve did not start within 30 s"
        time.sleep(0.05)


@pytest.fixture
def two_servers(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("the HTTP race holds a PostgreSQL row lock; SQLite is raced below")
    started = [_start_server(database_url, tmp_path / f"serve{i}.log") for i in (1, 2)]
    try:
        for i, (process, base) in enumerate(started, 1):
            _wait_ready(process, base, tmp_path / f"serve{i}.log")
        yield started[0][1], started[1][1]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.mark.slow
async def test_two_server_processes_race_one_option_and_exactly_one_wins(
    two_servers: tuple[str, str], database_url: str
) -> None:
    first, second = two_servers
    async with (
        httpx.AsyncClient(base_url=first, timeout=30) as one,
        httpx.AsyncClient(base_url=second, timeout=30) as two,
    ):
        sale = await new_sale(one, FakeClock(), logistic_type="cross_docking")
        headers = {"Authorization": f"Bearer {sale.tokens['seller']}"}
        path = f"/messages/action_guide/packs/{sale.pack}/option?tag=post_sale"
        body = {"option_id": "REQUEST_VARIANTS", "template_id": "TEMPLATE___REQUEST_VARIANTS___1"}
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as conn:
                transaction = await conn.begin()
                await conn.execute(
                    text(
                        "SELECT 1 FROM conversations WHERE seller_id = :s AND pack_id = :p "
                        "FOR UPDATE"
                    ),
                    {"s": sale.seller, "p": sale.pack},
                )
                racers = {
                    asyncio.create_task(one.post(path, headers=headers, json=body)),
                    asyncio.create_task(two.post(path, headers=headers, json=body)),
                }
                done, pending = await asyncio.wait(
                    racers, timeout=30, return_when=asyncio.FIRST_COMPLETED
                )
                assert (len(done), len(pending)) == (1, 1)
                assert_error(done.pop().result(), Code.AG_LOCKED)
                await transaction.rollback()
            winner = await asyncio.wait_for(pending.pop(), timeout=30)
        finally:
            await engine.dispose()
        assert winner.status_code == 200, winner.text
        read = await two.get(
            f"{sale.path}?mark_as_read=false", headers={"Authorization": headers["Authorization"]}
        )
        assert [m["id"] for m in read.json()["messages"]] == [winner.json()["id"]]
        caps = await one.get(
            f"/messages/action_guide/packs/{sale.pack}/caps_available", headers=headers
        )
        assert caps.json()[0] == {"option_id": "REQUEST_VARIANTS", "cap_available": 0}


def _race_for_the_lock(database_url: str, barrier: Any, results: Any, index: int) -> None:
    """One worker process: try the lock, and hold it until every worker has tried."""

    async def attempt() -> None:
        db = Database(database_url, pool_size=1)
        try:
            barrier.wait()
            if db.is_postgres:
                try:
                    async with store.option_transaction(db, seller_id=SELLER, pack_id=PACK):
                        results.put((index, True))
                        barrier.wait()  # hold the lock while the others try
                        return
                except store.OperationLocked:
                    results.put((index, False))
                    barrier.wait()
                    return
            async with db.write() as conn:
                taken = await store.try_lease(
                    conn, seller_id=SELLER, pack_id=PACK, holder=f"w{index}", now=store._wall_now()
                )
            results.put((index, taken))
            barrier.wait()
        finally:
            await db.dispose()

    asyncio.run(attempt())


def test_worker_processes_race_for_the_lock_and_exactly_one_gets_it(database_url: str) -> None:
    # Plain processes (fork: no event loop runs in this synchronous test to be inherited).
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WORKERS, timeout=60)
    results = context.Queue()
    workers = [
        context.Process(target=_race_for_the_lock, args=(database_url, barrier, results, i))
        for i in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    outcomes = dict(results.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert len({worker.pid for worker in workers} | {os.getpid()}) == WORKERS + 1
    winners = [i for i, taken in outcomes.items() if taken]
    assert len(winners) == 1, outcomes
    if not database_url.startswith("postgresql"):
        assert asyncio.run(_lock_rows(database_url)) == [(SELLER, PACK, f"w{winners[0]}")]


async def _lock_rows(database_url: str) -> list[tuple[int, int, str]]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            rows = (await conn.execute(action_guide_locks.select())).all()
    finally:
        await db.dispose()
    return [(r.seller_id, r.pack_id, r.holder) for r in rows]
