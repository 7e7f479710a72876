"""At-least-once across crashes: SIGKILL the server and the worker mid-burst, restart, count.

The restart runs ``postventa serve`` alone, which also shows that the server's in-process
dispatcher delivers by itself (``make run`` needs one command).

Real processes (``postventa serve`` with its in-process dispatcher, plus ``postventa worker``) on
the test database (a SQLite file, then PostgreSQL), a real receiver socket in the test process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from postventa.storage.db import Database
from postventa.storage.notification_tables import notifications
from tests.notifications.conftest import point_application_at
from tests.notifications.http_receiver import Receiver

POSTVENTA = str(Path(sys.executable).with_name("postventa"))
BURST_ACCEPTED_BEFORE_KILL = 25
SENDERS = 4


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTVENTA_")}
    env.update(
        POSTVENTA_DATABASE_URL=database_url,
        POSTVENTA_DISPATCHER_POLL_MS="50",
        POSTVENTA_NOTIFICATION_LEASE_SECONDS="2",
        POSTVENTA_NOTIFICATION_TIMEOUT_MS="1500",
        POSTVENTA_NOTIFICATION_RETRY_WINDOW_SECONDS="20",
    )
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


Start = Callable[..., "tuple[subprocess.Popen[bytes], subprocess.Popen[bytes] | None, str]"]


@pytest.fixture
async def processes(database_url: str, tmp_path: Path) -> AsyncIterator[Start]:
    """``start()`` launches a server (with its dispatcher) and a worker; killed at the end."""
    started: list[subprocess.Popen[bytes]] = []
    env = _env(database_url)

    def start(
        with_worker: bool = True,
    ) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes] | None, str]:
        port = _free_port()
        with (tmp_path / f"processes-{len(started)}.log").open("ab") as log:
            serve = subprocess.Popen(
                [POSTVENTA, "serve", "--port", str(port), "--workers", "1"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            worker = None
            if with_worker:
                worker = subprocess.Popen([POSTVENTA, "worker"], env=env, stdout=log, stderr=log)
        started.extend(p for p in (serve, worker) if p is not None)
        return serve, worker, f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


async def _until_ready(base: str, serve: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(20), httpx.AsyncClient(base_url=base, timeout=1) as http:
        while True:
            assert serve.poll() is None, "postventa serve exited"
            try:
                if (await http.get("/openapi.json")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_sigkill_mid_burst_loses_no_message_and_no_notification(
    database_url: str, processes: Start, receiver: Receiver
) -> None:
    demo_out = await asyncio.to_thread(
        subprocess.run,
        [POSTVENTA, "demo", "--json"],
        env=_env(database_url),
        capture_output=True,
        check=True,
    )
    demo: dict[str, Any] = json.loads(demo_out.stdout)
    db = Database(database_url, pool_size=2)
    try:
        await point_application_at_url(db, demo, receiver.url)
        serve, worker, base = processes()
        assert worker is not None
        await _until_ready(base, serve)

        accepted = await _burst_then_kill(base, demo, serve, worker)
        assert len(accepted) >= BURST_ACCEPTED_BEFORE_KILL

        # Restart the server alone: its own dispatcher delivers what is left (no worker needed).
        serve, _, base = processes(with_worker=False)
        await _until_ready(base, serve)
        async with asyncio.timeout(20):
            while not await _all_delivered(db):
                await receiver.next_arrival()

        # Every accepted message exists, and every notification (including those of messages
        # committed just before the kill, whose answer never left) reached the receiver.
        buyer = {"Authorization": f"Bearer {demo['users']['buyer']['access_token']}"}
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            for message_id in accepted:
                assert (await http.get(f"/messages/{message_id}", headers=buyer)).status_code == 200
        async with db.read() as conn:
            rows = (await conn.execute(select(notifications.c.id, notifications.c.resource))).all()
        arrived = {a.headers["x-postventa-delivery"] for a in receiver.arrivals}
        assert {row.id for row in rows} <= arrived
        assert set(accepted) <= {row.resource for row in rows}
    finally:
        await db.dispose()


async def point_application_at_url(db: Database, demo: dict[str, Any], url: str) -> None:
    services: Any = type("S", (), {"db": db})()
    await point_application_at(services, demo["application_id"], url)


async def _all_delivered(db: Database) -> bool:
    async with db.read() as conn:
        statuses = set((await conn.execute(select(notifications.c.status))).scalars())
    return statuses == {"delivered"}


async def _burst_then_kill(
    base: str,
    demo: dict[str, Any],
    serve: subprocess.Popen[bytes],
    worker: subprocess.Popen[bytes],
) -> list[str]:
    """Senders post until the processes are SIGKILLed; returns the ids answered with 200."""
    seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
    pack = demo["packs"][0]
    path = f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}?tag=post_sale"
    headers = {"Authorization": f"Bearer {seller['access_token']}"}
    accepted: list[str] = []
    killed = asyncio.Event()

    async def sender(http: httpx.AsyncClient, n: int) -> None:
        i = 0
        while not killed.is_set():
            i += 1
            body = {"from": {"user_id": seller["id"]}, "to": {"user_id": buyer["id"]}}
            try:
                answer = await http.post(path, headers=headers, json={**body, "text": f"{n}-{i}"})
            except httpx.TransportError:
                continue
            if answer.status_code == 200:
                accepted.append(answer.json()["id"])
            if len(accepted) >= BURST_ACCEPTED_BEFORE_KILL and not killed.is_set():
                for process in (serve, worker):
                    os.kill(process.pid, signal.SIGKILL)
                for process in (serve, worker):
                    process.wait()
                killed.set()

    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        async with asyncio.timeout(20):
            await asyncio.gather(*(sender(http, n) for n in range(SENDERS)))
    assert time.monotonic() - started < 20
    return accepted
