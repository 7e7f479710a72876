"""Markdown tables from result files: one table per run, then cost growth between scales.

    python bench/report.py bench/results/2026-11-25-small-postgresql.json \\
        bench/results/2026-11-25-medium-postgresql.json

The growth table compares every scenario's throughput and server CPU per request with the first
file given (normally ``small``); the issue's goal is flat (at least 85% of ``small`` throughput).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import summary_table


def describe(result: dict[str, Any]) -> str:
    data = result["data"]
    machine = result["machine"]
    versions = result["versions"]
    db_version = versions.get("postgresql") or versions.get("sqlite")
    return (
        f"**{result['scale']} on {result['db']}** — {result['date']}, {data['messages']:,} messages"
        f" in {data['conversations']:,} conversations, {result['workers']} workers"
        f" ({result.get('mode', 'sandbox')} mode), {result['connections']} connections,"
        f" {result['duration_seconds']:.0f} s per scenario; {machine['cores']} × {machine['cpu']},"
        f" load average {machine['loadavg_before']:.1f} at the start; Python"
        f" {versions['python']}, uvicorn {versions['uvicorn']}, FastAPI {versions['fastapi']},"
        f" SQLAlchemy {versions['sqlalchemy']}, asyncpg {versions['asyncpg']},"
        f" {result['db']} {db_version}."
    )


def growth(results: list[dict[str, Any]]) -> str:
    base = results[0]
    header = " | ".join(f"{r['scale']} req/s (CPU ms/req)" for r in results)
    lines = [
        f"| scenario | {header} | {results[-1]['scale']} / {base['scale']} throughput |",
        "|---|" + "---:|" * (len(results) + 1),
    ]
    for name, first in base["scenarios"].items():
        cells = []
        for result in results:
            s = result["scenarios"].get(name)
            cells.append(
                "-" if s is None else f"{s['rps']:.0f} ({s['server_cpu_ms_per_request']:.2f})"
            )
        last = results[-1]["scenarios"].get(name)
        ratio = f"{last['rps'] / first['rps']:.0%}" if last else "-"
        lines.append(f"| {name} | {' | '.join(cells)} | {ratio} |")
    return "\n".join(lines)


def main(paths: list[str]) -> None:
    results = [json.loads(Path(path).read_text()) for path in paths]
    for result in results:
        print(describe(result) + "\n")  # noqa: T201
        print(summary_table(result) + "\n")  # noqa: T201
    if len(results) > 1:
        print(growth(results))  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1:])
