"""Load-test a running ``postventa serve`` with wrk, scenario by scenario, and record the results.

    python bench/run.py --scale small --db postgresql            # generates the data if missing
    python bench/run.py --scale medium --db postgresql --duration 15 --generate

For each scenario: a warm-up run, then a measured run of ``--duration`` seconds at
``--connections`` connections (one wrk thread: wrk needs far less CPU than the server). Reported:
throughput, p50/p90/p99 latency, server CPU per request (user+system time of the uvicorn
processes, from /proc), database CPU per request (the PostgreSQL backends of the bench database),
server RSS per worker, and wrk's own CPU. After every write scenario the invariants are checked
(every counter equals a recount of the message rows; no acknowledged message is missing) and the
run fails loudly if they break. Any non-2xx answer or socket error also fails the run.

Only 127.0.0.1 is ever contacted; every wrk run is bounded by ``--duration``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LUA = BENCH / "lua" / "rotate.lua"
HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

READ_SCENARIOS = (
    "ping",
    "unread",
    "unread_resource",
    "page",
    "page_deep",
    "message_by_id",
)
WRITE_SCENARIOS = ("send", "page_mark", "mark_as_read", "mixed")
SCENARIOS = READ_SCENARIOS + WRITE_SCENARIOS


class BenchFailure(SystemExit):
    pass


# --- requests ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    token: str
    body: str
    kind: str

    def line(self) -> str:
        return "\t".join((self.method, self.path, self.token, self.body, self.kind))


def _e1(conv: dict[str, Any], *, token: str, offset: int = 0, mark: bool) -> str:
    path = f"/messages/packs/{conv['pack_id']}/sellers/{conv['seller_id']}?limit=10"
    if offset:
        path += f"&offset={offset}"
    return path if mark else path + "&mark_as_read=false"


def _send(conv: dict[str, Any], *, from_seller: bool, number: int) -> Request:
    sender, receiver = (
        (conv["seller_id"], conv["buyer_id"])
        if from_seller
        else (conv["buyer_id"], conv["seller_id"])
    )
    body = json.dumps(
        {
            "from": {"user_id": sender},
            "to": {"user_id": receiver},
            "text": f"Mensaje de prueba {number}: ¿llegó bien el pedido? 📦",
        },
        ensure_ascii=False,
    )
    token = conv["seller_token"] if from_seller else conv["buyer_token"]
    path = f"/messages/packs/{conv['pack_id']}/sellers/{conv['seller_id']}"
    return Request("POST", path, token, body, "send")


def build_requests(manifest: dict[str, Any], seed: int = 6) -> dict[str, list[Request]]:
    """Every scenario's rotation, from the manifest; the marking scenarios use disjoint
    conversations, so each finds unread rows."""
    rng = random.Random(seed)
    convs = manifest["conversations"]
    ordinary = [c for c in convs if not c["long"]]
    # A seller may write only within 30 days of the last message (rules/blocking.py,
    # blocked_by_time); buyers may always write. Sellers send only into conversations that stay
    # open for the whole run.
    horizon = datetime.now(UTC) - timedelta(days=29)
    open_convs = [
        c
        for c in ordinary
        if c.get("last_message_at") and datetime.fromisoformat(c["last_message_at"]) > horizon
    ]
    if not open_convs:
        raise BenchFailure("no conversation is open to sellers any more: rerun with --generate")
    long_threads = [c for c in convs if c["long"]]
    big = manifest["big_sellers"]
    out: dict[str, list[Request]] = {name: [] for name in SCENARIOS}
    out["ping"] = [Request("GET", "/_postventa/ping", "", "", "ping")]
    out["unread"] = [
        Request("GET", "/messages/unread?role=seller", b["token"], "", "unread") for b in big
    ]
    for i, conv in enumerate(ordinary):
        token = conv["seller_token"] if i % 2 else conv["buyer_token"]
        resource = f"/messages/unread/packs/{conv['pack_id']}/sellers/{conv['seller_id']}"
        out["unread_resource"].append(Request("GET", resource, token, "", "unread_resource"))
        out["page"].append(Request("GET", _e1(conv, token=token, mark=False), token, "", "page"))
        message_id = conv["message_ids"][i % len(conv["message_ids"])]
        out["message_by_id"].append(Request("GET", f"/messages/{message_id}", token, "", "by_id"))
        if i % 2 == 0:
            out["send"].append(_send(conv, from_seller=False, number=i))
    for i, conv in enumerate(open_convs):
        out["send"].append(_send(conv, from_seller=True, number=i))
    for conv in long_threads:
        for depth in (10, conv["messages"] // 2, 100):
            offset = max(conv["messages"] - depth, 0)
            path = _e1(conv, token=conv["seller_token"], offset=offset, mark=False)
            out["page_deep"].append(Request("GET", path, conv["seller_token"], "", "page_deep"))
    # Marking: even conversations for page_mark, odd for mark_as_read, so each finds unread rows.
    unread = [c for c in ordinary if c["unread_ids"]]
    for i, conv in enumerate(unread):
        reader = "seller_token" if conv["seller_unread"] else "buyer_token"
        token = conv[reader]
        if i % 2 == 0:
            out["page_mark"].append(
                Request("GET", _e1(conv, token=token, mark=True), token, "", "mark")
            )
        else:
            ids = ",".join(conv["unread_ids"][-10:])
            path = f"/messages/mark_as_read/{ids}"
            out["mark_as_read"].append(Request("PUT", path, token, "", "mark_as_read"))
    # mixed: an integrator polling (70% unread/page), reading with mark (20%), answering (10%).
    sellers = [c for c in ordinary]
    for number in range(20_000):
        roll = rng.random()
        conv = sellers[rng.randrange(len(sellers))]
        token = conv["seller_token"]
        if roll < 0.35:
            out["mixed"].append(Request("GET", "/messages/unread?role=seller", token, "", "unread"))
        elif roll < 0.70:
            path = _e1(conv, token=token, mark=False)
            out["mixed"].append(Request("GET", path, token, "", "page"))
        elif roll < 0.90:
            out["mixed"].append(
                Request("GET", _e1(conv, token=token, mark=True), token, "", "mark")
            )
        else:
            target = open_convs[rng.randrange(len(open_convs))]
            out["mixed"].append(_send(target, from_seller=True, number=number))
    for name in ("unread_resource", "page", "message_by_id", "send"):
        rng.shuffle(out[name])
    return out


# --- processes and /proc ----------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None:
                parents[int(entry.name)] = stat[0]
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        stat = _proc_stat(pid)
        if stat is not None:
            found[pid] = stat[1]
    return found


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) in MB."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    except OSError:
        return 0.0, 0.0
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def _delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


class Server:
    """``postventa serve --workers N`` on the bench database, started and stopped by us."""

    def __init__(
        self,
        database_url: str,
        *,
        src: Path,
        port: int,
        workers: int,
        log: Path,
        pool_size: int | None,
        mode: str,
        kind: str = "uvicorn",
    ) -> None:
        self.url = f"http://{HOST}:{port}"
        env = {
            **os.environ,
            "POSTVENTA_DATABASE_URL": database_url,
            "POSTVENTA_MODE": mode,
            "POSTVENTA_OPERATOR_KEY": os.urandom(16).hex(),
            # Production mode refuses to start without it (notifications sign their payloads).
            "POSTVENTA_WEBHOOK_MASTER_SECRET": os.urandom(32).hex(),
            **({"POSTVENTA_DB_POOL_SIZE": str(pool_size)} if pool_size else {}),
            "PYTHONPATH": str(src) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        command = [
            sys.executable,
            "-c",
            "from postventa.cli import main; main()",
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-migrate",
        ]
        if kind == "granian":
            # The same app factory under granian (Rust HTTP server), for the side-by-side
            # comparison of servers the issue asks for; `make bench-deps` installs it.
            command = [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--factory",
                "--loop",
                "uvloop",
                "--no-ws",
                "--host",
                HOST,
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "postventa.api.app:create_app",
            ]
        self.log = log.open("w")
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.workers = workers
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchFailure(f"server exited early, see {log}")
            try:
                with urllib.request.urlopen(self.url + "/_postventa/ping", timeout=1) as answer:
                    if answer.status == 200 and len(self.worker_pids()) >= workers:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchFailure(f"server did not answer within 60 s, see {log}")

    def pids(self) -> list[int]:
        return process_tree(self.process.pid)

    def worker_pids(self) -> list[int]:
        # The supervisor (uvicorn's or granian's) spawns the workers; a resource tracker may sit
        # beside them.
        return [
            pid
            for pid in self.pids()
            if pid != self.process.pid
            and "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        ]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: installing the Debian package", file=sys.stderr)  # noqa: T201
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
        found = shutil.which("wrk")
        if not found:
            subprocess.run(["apt-get", "update", "-q"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
            found = shutil.which("wrk")
    if not found:
        raise BenchFailure("wrk is required: apt-get install wrk")
    return found


def run_wrk(
    wrk: str, url: str, requests_file: Path, *, seconds: float, connections: int
) -> dict[str, Any]:
    """One bounded wrk run; returns its JSON result plus wrk's own CPU seconds."""
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
    ]
    env = {**os.environ, "POSTVENTA_BENCH_REQUESTS": str(requests_file)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    out = process.stdout.read().decode() if process.stdout else ""
    err = process.stderr.read().decode() if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    result_lines = [line for line in out.splitlines() if line.startswith("POSTVENTA_RESULT ")]
    if process.returncode != 0 or not result_lines:
        raise BenchFailure(f"wrk failed ({process.returncode}):\n{out}\n{err}")
    result: dict[str, Any] = json.loads(result_lines[-1].split(" ", 1)[1])
    result["wrk_cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result


# --- the database: invariants and backend CPU ----------------------------------------------------

COUNTER_CHECK = """
SELECT t.seller_id, t.pack_id, t.seller_unread, t.su, t.buyer_unread, t.bu, t.message_count, t.n,
       t.last_message_at, t.last_at
FROM (
  SELECT c.seller_id, c.pack_id, c.seller_unread, c.buyer_unread, c.message_count,
         c.last_message_at,
         count(m.id) AS n,
         COALESCE(SUM(CASE WHEN m.read_at IS NULL AND m.to_user_id = c.seller_id
                      THEN 1 ELSE 0 END), 0) AS su,
         COALESCE(SUM(CASE WHEN m.read_at IS NULL AND m.to_user_id = c.buyer_id
                      THEN 1 ELSE 0 END), 0) AS bu,
         max(m.created_at) AS last_at
  FROM conversations c
  LEFT JOIN messages m ON m.seller_id = c.seller_id AND m.pack_id = c.pack_id
  GROUP BY c.seller_id, c.pack_id, c.seller_unread, c.buyer_unread, c.message_count,
           c.last_message_at
) t
WHERE {condition}
LIMIT 5
"""
COUNTERS_DIFFER = "t.seller_unread <> t.su OR t.buyer_unread <> t.bu OR t.message_count <> t.n"

# The same truth as postventa.storage.unread.recount / rebuild_counters, for every conversation.


class BenchDatabase:
    def __init__(self, database_url: str) -> None:
        self.url = make_url(database_url)
        self.is_postgres = self.url.get_backend_name() == "postgresql"

    def _pg(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        import asyncpg

        async def go() -> list[tuple[Any, ...]]:
            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            conn = await asyncpg.connect(dsn)
            try:
                return [tuple(row) for row in await conn.fetch(sql, *args)]
            finally:
                await conn.close()

        return asyncio.run(go())

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if self.is_postgres:
            return self._pg(sql, *args)
        conn = sqlite3.connect(str(self.url.database))
        try:
            return list(conn.execute(sql, args).fetchall())
        finally:
            conn.close()

    def flush_load(self) -> None:
        """Write the freshly loaded data out before measuring: right after a load, PostgreSQL's
        checkpoint and the kernel's writeback of gigabytes took CPU from the first scenarios
        (``ping`` at half its usual rate at ``medium`` and ``large``)."""
        if self.is_postgres:
            self.query("CHECKPOINT")
        os.sync()
        time.sleep(3)

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until requests still in flight when wrk stopped have finished writing."""
        deadline = time.monotonic() + timeout
        last = (self.message_count(), self.unread_total())
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = (self.message_count(), self.unread_total())
            if now == last:
                return
            last = now
        raise BenchFailure("the database kept changing after the load stopped")

    def message_count(self) -> int:
        return int(self.query("SELECT count(*) FROM messages")[0][0])

    def unread_total(self) -> int:
        rows = self.query("SELECT SUM(seller_unread + buyer_unread) FROM conversations")
        return int(rows[0][0] or 0)

    def counter_drift(self) -> list[tuple[Any, ...]]:
        """Conversations whose unread counters or message count differ from a recount."""
        return self.query(COUNTER_CHECK.format(condition=COUNTERS_DIFFER))

    def last_message_drift(self) -> list[tuple[Any, ...]]:
        """Conversations whose ``last_message_at`` is not their newest message's time."""
        distinct = "IS DISTINCT FROM" if self.is_postgres else "IS NOT"
        return self.query(COUNTER_CHECK.format(condition=f"t.last_message_at {distinct} t.last_at"))

    def backend_pids(self) -> list[int]:
        if not self.is_postgres:
            return []
        rows = self.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            self.url.database,
        )
        return [int(row[0]) for row in rows]

    def versions(self) -> dict[str, str]:
        if self.is_postgres:
            return {"postgresql": str(self.query("SHOW server_version")[0][0])}
        return {"sqlite": sqlite3.sqlite_version}


# --- the run -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "loadavg_before": os.getloadavg()[0],
    }


def versions(db: BenchDatabase, wrk: str) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in (
        "postventa",
        "fastapi",
        "starlette",
        "uvicorn",
        "granian",
        "sqlalchemy",
        "asyncpg",
        "orjson",
    ):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "?"
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    found["wrk"] = (wrk_version.stdout + wrk_version.stderr).split("\n")[0].strip()
    found.update(db.versions())
    return found


def run_scenario(
    name: str,
    requests: list[Request],
    *,
    server: Server,
    db: BenchDatabase,
    wrk: str,
    workdir: Path,
    args: argparse.Namespace,
) -> dict[str, Any]:
    if not requests:
        raise BenchFailure(f"scenario {name}: the data set has nothing to send")
    requests_file = workdir / f"{name}.tsv"
    requests_file.write_text("".join(r.line() + "\n" for r in requests))
    writes = name in WRITE_SCENARIOS
    if writes:
        db.settle()
    messages_before = db.message_count() if writes else 0
    unread_before = db.unread_total() if writes else 0
    warm = run_wrk(
        wrk, server.url, requests_file, seconds=args.warmup, connections=args.connections
    )
    server_pids, db_pids = server.pids(), db.backend_pids()
    server_before, db_before = cpu_seconds(server_pids), cpu_seconds(db_pids)
    profilers = start_profilers(name, server, args) if args.profile else []
    measured = run_wrk(
        wrk, server.url, requests_file, seconds=args.duration, connections=args.connections
    )
    for profiler in profilers:
        profiler.wait(timeout=30)
    server_cpu = _delta(server_before, cpu_seconds(server.pids()))
    db_pids_after = db.backend_pids()
    db_cpu = _delta(db_before, cpu_seconds(db_pids_after))
    for run in (warm, measured):
        failures = {
            key: run[key]
            for key in (
                "status_errors",
                "connect_errors",
                "read_errors",
                "write_errors",
                "timeouts",
            )
            if run[key]
        }
        if failures:
            raise BenchFailure(f"scenario {name}: wrk saw errors {failures}")
    seconds = measured["duration_us"] / 1e6
    count = measured["requests"]
    rss = [rss_mb(pid) for pid in server.worker_pids()]
    result: dict[str, Any] = {
        "requests": count,
        "seconds": round(seconds, 2),
        "rps": round(count / seconds, 1),
        "p50_ms": measured["p50_us"] / 1000,
        "p90_ms": measured["p90_us"] / 1000,
        "p99_ms": measured["p99_us"] / 1000,
        "max_ms": measured["max_us"] / 1000,
        "server_cpu_ms_per_request": round(server_cpu * 1000 / count, 3),
        "db_cpu_ms_per_request": round(db_cpu * 1000 / count, 3) if db.is_postgres else None,
        "server_cpu_share": round(server_cpu / seconds, 2),
        "wrk_cpu_share": round(measured["wrk_cpu_seconds"] / seconds, 2),
        "worker_rss_mb": [round(now, 1) for now, _ in rss],
        "worker_peak_rss_mb": [round(peak, 1) for _, peak in rss],
        "loadavg_after": os.getloadavg()[0],
        # PostgreSQL backends alive at the end that were not there at the start: pool churn.
        "db_connections_opened": len(set(db_pids_after) - set(db_pids)) if db.is_postgres else None,
        "distinct_requests": len(requests),
        "issued": measured["issued"],
    }
    if writes:
        db.settle()
        result["invariants"] = check_invariants(
            name, db, messages_before, unread_before, (warm, measured), args.connections
        )
    return result


def start_profilers(
    name: str, server: Server, args: argparse.Namespace
) -> list[subprocess.Popen[bytes]]:
    """py-spy on every worker for the measured run; collapsed stacks land next to the results."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    args.results.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, round(args.duration) - 1)),
                "--rate",
                "250",
                "--format",
                "raw",
                "--nonblocking",
                "--gil",
                "--output",
                str(args.results / f"profile-{args.scale}-{args.db}-{name}-{index}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for index, pid in enumerate(server.worker_pids())
    ]


def check_invariants(
    name: str,
    db: BenchDatabase,
    messages_before: int,
    unread_before: int,
    runs: tuple[dict[str, Any], ...],
    connections: int,
) -> dict[str, Any]:
    """Counters equal a recount; every send wrk saw answered is stored, and nothing else is."""
    drift = db.counter_drift()
    if drift:
        raise BenchFailure(f"scenario {name}: unread counters differ from a recount: {drift}")
    stored = db.message_count() - messages_before
    issued = sum(run["issued"].get("send", 0) for run in runs)
    # A send still in flight when wrk stopped may or may not have been committed.
    in_flight = connections * len(runs)
    if not issued - in_flight <= stored <= issued:
        raise BenchFailure(
            f"scenario {name}: {stored} new messages stored, but {issued} sends were issued"
            f" (at most {in_flight} unanswered): a message was lost or invented"
        )
    # Reported, not fatal: the invariants are the counters and the messages. A send that
    # reads the clock before taking the conversation's lock can leave an older last_message_at
    # behind a newer message (see docs/performance.md).
    time_drift = db.last_message_drift()
    if time_drift:
        print(  # noqa: T201
            f"WARNING scenario {name}: last_message_at is not the newest message's time in"
            f" conversations such as {time_drift[:2]}",
            file=sys.stderr,
        )
    return {
        "last_message_at_drift_examples": [[str(v) for v in row] for row in time_drift],
        "counters_equal_recount": True,
        "sends_issued": issued,
        "messages_stored": stored,
        "unread_change": db.unread_total() - unread_before,
    }


def summary_table(results: dict[str, Any]) -> str:
    ping = results["scenarios"].get("ping", {}).get("rps") or 0
    lines = [
        "| scenario | req/s | vs ping | p50 ms | p99 ms | server CPU ms/req | db CPU ms/req "
        "| worker RSS MB | wrk CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in results["scenarios"].items():
        ratio = f"{s['rps'] / ping:.0%}" if ping else "-"
        db_cpu = "-" if s["db_cpu_ms_per_request"] is None else f"{s['db_cpu_ms_per_request']:.2f}"
        lines.append(
            f"| {name} | {s['rps']:.0f} | {ratio} | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} "
            f"| {s['server_cpu_ms_per_request']:.2f} | {db_cpu} "
            f"| {'/'.join(f'{v:.0f}' for v in s['worker_rss_mb'])} | {s['wrk_cpu_share']:.0%} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="small", choices=("small", "medium", "large"))
    parser.add_argument("--db", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--mode",
        default="production",
        choices=("production", "sandbox"),
        help="POSTVENTA_MODE of the server (sandbox re-reads the clock offset on every request)",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        default=None,
        help="POSTVENTA_DB_POOL_SIZE of the server (default: the server's own default)",
    )
    parser.add_argument(
        "--server",
        default="uvicorn",
        choices=("uvicorn", "granian"),
        help="the HTTP server in front of the app (postventa serve runs uvicorn)",
    )
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--generate", action="store_true", help="rebuild the data set first")
    parser.add_argument("--data", type=Path, default=BENCH / "data")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--server-src",
        type=Path,
        default=ROOT / "src",
        help="the postventa sources the server runs (compare two versions side by side)",
    )
    parser.add_argument(
        "--label", default="", help="added to the results file name (e.g. a variant)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the workers during each measured run"
    )
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {sorted(unknown)}")
    wrk = ensure_wrk()
    manifest_path = args.data / f"manifest-{args.scale}-{args.db}.json"
    if args.generate or not manifest_path.exists():
        sys.path.insert(0, str(BENCH))
        import generate

        generate.main(
            [
                "--scale",
                args.scale,
                "--db",
                args.db,
                "--out",
                str(args.data),
                "--seed",
                str(args.seed),
            ]
        )
    manifest = json.loads(manifest_path.read_text())
    db = BenchDatabase(manifest["database_url"])
    if args.generate:
        db.flush_load()
    rotations = build_requests(manifest, args.seed)
    started = datetime.now(UTC)
    results: dict[str, Any] = {
        "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scale": args.scale,
        "db": args.db,
        "workers": args.workers,
        "pool_size": args.pool_size,
        "mode": args.mode,
        "server": args.server,
        "server_src": str(args.server_src),
        "label": args.label,
        "connections": args.connections,
        "wrk_threads": 1,
        "duration_seconds": args.duration,
        "warmup_seconds": args.warmup,
        "machine": machine(),
        "versions": versions(db, wrk),
        "data": manifest["counts"],
        "scenarios": {},
    }
    with tempfile.TemporaryDirectory(prefix="postventa-bench-") as tmp:
        workdir = Path(tmp)
        server = Server(
            manifest["database_url"],
            src=args.server_src,
            port=free_port(),
            workers=args.workers,
            log=workdir / "server.log",
            pool_size=args.pool_size,
            mode=args.mode,
            kind=args.server,
        )
        try:
            for name in chosen:
                print(f"[{args.scale}/{args.db}] {name} ...", file=sys.stderr, flush=True)  # noqa: T201
                results["scenarios"][name] = run_scenario(
                    name, rotations[name], server=server, db=db, wrk=wrk, workdir=workdir, args=args
                )
                s = results["scenarios"][name]
                print(  # noqa: T201
                    f"    {s['rps']:.0f} req/s  p50 {s['p50_ms']:.1f} ms  p99 {s['p99_ms']:.1f} ms"
                    f"  server {s['server_cpu_ms_per_request']:.2f} ms CPU/req",
                    file=sys.stderr,
                    flush=True,
                )
        finally:
            server.stop()
    args.results.mkdir(parents=True, exist_ok=True)
    label = f"-{args.label}" if args.label else ""
    target = args.results / f"{started:%Y-%m-%d}-{args.scale}-{args.db}{label}.json"
    target.write_text(json.dumps(results, indent=1) + "\n")
    print(summary_table(results))  # noqa: T201
    print(f"\nresults: {target}", file=sys.stderr)  # noqa: T201
    return results


if __name__ == "__main__":
    main()
