"""Plot how each scenario's cost grows with the data: CPU per request and throughput.

    python bench/plot.py docs/performance-growth.png bench/results/*-small-postgresql.json \\
        bench/results/*-medium-postgresql.json bench/results/*-large-postgresql.json

Needs matplotlib (``make bench-deps``); it is not a test or runtime dependency.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def main(target: str, paths: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results: list[dict[str, Any]] = sorted(
        (json.loads(Path(p).read_text()) for p in paths), key=lambda r: r["data"]["messages"]
    )
    sizes = [r["data"]["messages"] for r in results]
    names = [n for n in results[0]["scenarios"] if n != "ping"]
    figure, (cpu_axis, rps_axis) = plt.subplots(1, 2, figsize=(13, 5.5))
    for name in names:
        points = [(r["data"]["messages"], r["scenarios"].get(name)) for r in results]
        xs = [x for x, s in points if s]
        cpu_axis.plot(
            xs,
            [
                s["server_cpu_ms_per_request"] + (s["db_cpu_ms_per_request"] or 0)
                for _, s in points
                if s
            ],
            marker="o",
            label=name,
        )
        first = results[0]["scenarios"][name]["rps"]
        rps_axis.plot(xs, [s["rps"] / first for _, s in points if s], marker="o", label=name)
    for axis in (cpu_axis, rps_axis):
        axis.set_xscale("log")
        axis.set_xticks(sizes, [f"{r['scale']}\n{r['data']['messages']:,}" for r in results])
        axis.grid(True, alpha=0.3)
    cpu_axis.set_ylabel("CPU per request, server + PostgreSQL (ms)")
    cpu_axis.set_title("CPU per request (flat is the goal)")
    rps_axis.set_ylabel(f"throughput / throughput at {results[0]['scale']}")
    rps_axis.axhline(0.85, color="red", linestyle="--", linewidth=1, label="target 0.85")
    rps_axis.set_title("Throughput relative to the smallest scale")
    rps_axis.legend(fontsize=8, loc="lower left")
    first = results[0]
    loads = [r["machine"]["loadavg_before"] for r in results]
    figure.suptitle(
        f"Postventa on {first['db']}, {first['workers']} workers, {first['connections']} "
        f"connections, {first['machine']['cores']} cores, {first['date'][:10]} "
        f"(load average {min(loads):.1f}-{max(loads):.1f} before the runs)"
    )
    figure.tight_layout()
    figure.savefig(target, dpi=90)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
