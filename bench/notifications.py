"""Notification delivery under load: latency from commit to receiver, deliveries/s, zero lost.

    python bench/notifications.py --db sqlite --receiver healthy --senders 8 --duration 10
    python bench/notifications.py --db postgresql --receiver down

Starts ``postventa serve --workers 2`` (each process runs its dispatcher) on a fresh database
with the demo data, points the demo application at a receiver in this process, and runs
``--senders`` concurrent clients posting messages (E3) for ``--duration`` seconds. Receivers:
``healthy`` answers 200 at once; ``slow`` answers 200 after 300 ms (inside the 500 ms limit);
``down`` answers 503 for the first half of the run, then 200 (the retry window is shortened to
60 s so retries come back within seconds); ``backlog`` runs the server without its dispatcher,
then starts one ``postventa worker`` and measures how fast it drains the outbox (latency then
includes the wait, so only ``deliveries_per_s`` means something). After the run it waits until
every accepted message's ``created`` notification has arrived (or reports how many were lost).

Latency is the receiver's arrival time minus the payload's ``received`` time (the server's
clock when the message row was written, just before its commit), first arrival per delivery id.
Only 127.0.0.1 is contacted; everything stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

POSTVENTA = str(Path(sys.executable).with_name("postventa"))
PG_ADMIN = os.environ.get(
    "POSTVENTA_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
PG_DB = "postventa_bench_notifications"


class Receiver:
    """Minimal HTTP/1.1 receiver recording the first arrival of each delivery id."""

    def __init__(self, mode: str, started: float, duration: float) -> None:
        self.mode, self.started, self.duration = mode, started, duration
        self.first: dict[str, tuple[float, dict[str, Any]]] = {}
        self.requests = 0
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/notifications"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in head[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                arrived = time.time()
                self.requests += 1
                status = 200
                if self.mode == "down" and time.monotonic() - self.started < self.duration / 2:
                    status = 503
                elif self.mode == "slow":
                    await asyncio.sleep(0.3)
                if status == 200:
                    self.first.setdefault(
                        headers["x-postventa-delivery"], (arrived, json.loads(body))
                    )
                writer.write(b"HTTP/1.1 %d X\r\ncontent-length: 2\r\n\r\n{}" % status)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.writers.discard(writer)
            writer.close()

    async def stop(self) -> None:
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await asyncio.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _admin(sql: str) -> None:
    engine = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


async def _database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await _admin(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{PG_DB}"')
    return make_url(PG_ADMIN).set(database=PG_DB).render_as_string(hide_password=False)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="pv-bench-notify-"))
    url = await _database(args.db, workdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTVENTA_")}
    env.update(POSTVENTA_DATABASE_URL=url, POSTVENTA_DISPATCHER_POLL_MS="20")
    if args.receiver == "backlog":
        # Nothing is delivered while the senders run; one `postventa worker` drains it after.
        env["POSTVENTA_DISPATCHER_IN_SERVER"] = "false"
    if args.receiver == "down":
        env["POSTVENTA_NOTIFICATION_RETRY_WINDOW_SECONDS"] = "60"
    loaded = await asyncio.to_thread(
        subprocess.run, [POSTVENTA, "demo", "--json"], env=env, check=True, capture_output=True
    )
    demo = json.loads(loaded.stdout)
    receiver = Receiver(args.receiver, time.monotonic(), args.duration)
    callback = await receiver.start()
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE applications SET callback_url = :u WHERE id = :a"),
            {"u": callback, "a": demo["application_id"]},
        )
    await engine.dispose()
    port = _free_port()
    server = subprocess.Popen(  # noqa: ASYNC220 (started once, before the measurement)
        [POSTVENTA, "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    accepted: list[str] = []
    wall_started = time.time()
    worker: subprocess.Popen[bytes] | None = None
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            for _ in range(300):
                try:
                    if (await http.get("/openapi.json")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            seller, buyer = demo["users"]["seller"], demo["users"]["buyer"]
            packs = [p for p in demo["packs"] if p["buyer_id"] == buyer["id"]]
            headers = {"Authorization": f"Bearer {seller['access_token']}"}
            receiver.started = time.monotonic()
            wall_started = time.time()
            deadline = receiver.started + args.duration

            async def sender(n: int) -> None:
                i = 0
                while time.monotonic() < deadline:
                    pack = packs[(n + i) % len(packs)]
                    i += 1
                    answer = await http.post(
                        f"/messages/packs/{pack['pack_id']}/sellers/{pack['seller_id']}",
                        headers=headers,
                        json={
                            "from": {"user_id": seller["id"]},
                            "to": {"user_id": buyer["id"]},
                            "text": f"{n}-{i}",
                        },
                    )
                    if answer.status_code == 200:
                        accepted.append(answer.json()["id"])

            await asyncio.gather(*(sender(n) for n in range(args.senders)))
        sent_for = time.monotonic() - receiver.started
        drain_started = time.time()
        if args.receiver == "backlog":
            worker = subprocess.Popen(  # noqa: ASYNC220 (after the senders stopped)
                [POSTVENTA, "worker"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        drain_limit = time.monotonic() + args.drain
        while time.monotonic() < drain_limit:
            resources = {payload["resource"] for _, payload in receiver.first.values()}
            if set(accepted) <= resources:
                break
            await asyncio.sleep(0.05)
        drained_after = time.monotonic() - receiver.started
    finally:
        if args.receiver == "backlog" and worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        await receiver.stop()
        if args.db == "postgresql":
            await _admin(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)
    created = [(at, p) for at, p in receiver.first.values() if p["actions"] == ["created"]]
    latencies = [
        (at - datetime.fromisoformat(p["received"].replace("Z", "+00:00")).timestamp()) * 1000
        for at, p in created
    ]
    arrivals = sorted(at for at, _ in created)
    resources = {p["resource"] for _, p in created}
    window_end = wall_started + sent_for
    in_window = sum(1 for at in arrivals if at <= window_end)
    delivering_for = sent_for
    retried = receiver.requests - len(receiver.first)
    if args.receiver == "backlog" and arrivals:
        # The worker's drain rate: 95% of the backlog over the time it took from its start (the
        # last few percent may wait for a retry after a timeout, 14-28 s later).
        in_window = max(1, int(0.95 * len(arrivals)))
        delivering_for = max(arrivals[in_window - 1] - drain_started, 1e-9)
    return {
        "db": args.db,
        "receiver": args.receiver,
        "senders": args.senders,
        "workers": args.workers,
        "accepted": len(accepted),
        "sends_per_s": round(len(accepted) / sent_for, 1),
        "delivered": len(resources),
        # First deliveries while the senders ran, per second of sending.
        "deliveries_per_s": round(in_window / delivering_for, 1),
        "latency_p50_ms": round(_percentile(latencies, 0.5), 1),
        "latency_p99_ms": round(_percentile(latencies, 0.99), 1),
        "latency_max_ms": round(max(latencies), 1) if latencies else None,
        "requests_received": receiver.requests,
        "requests_not_first": retried,
        "lost": len(set(accepted) - resources),
        "all_delivered_after_s": round(drained_after, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--receiver", choices=["healthy", "slow", "down", "backlog"], default="healthy"
    )
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument(
        "--drain", type=float, default=90, help="max seconds to wait for stragglers"
    )
    result = asyncio.run(main(parser.parse_args()))
    sys.stdout.write(json.dumps(result) + "\n")
