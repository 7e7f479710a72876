"""Summarise py-spy's collapsed stacks (``--format raw``): where the workers' time goes.

    python bench/profile_summary.py bench/results/profile-medium-postgresql-page-*.txt

Prints the share of samples spent inside (inclusive) the frames that matter for Postventa's cost
model (token lookup, SQLAlchemy, asyncpg, FastAPI, serialisation, idle event loop), then the
functions with the most samples of their own (self time).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# (label, substring of a frame "function (file:line)") — a sample counts once per label.
BUCKETS = (
    ("idle: waiting in the event loop", "select (selectors.py"),
    ("token lookup (deps.current_caller)", "current_caller (postventa/api/deps.py"),
    ("SQLAlchemy: compile + execute", "execute (sqlalchemy/ext/asyncio/engine.py"),
    ("SQLAlchemy: connection checkout/begin", "begin (sqlalchemy/ext/asyncio/engine.py"),
    ("asyncpg protocol", "asyncpg/"),
    ("aiosqlite", "aiosqlite/"),
    ("FastAPI: dependency solving", "solve_dependencies (fastapi/dependencies/utils.py"),
    ("serialisation (orjson responses)", "render (postventa/api/responses.py"),
    ("uvicorn/httptools", "uvicorn/protocols/http/httptools_impl.py"),
)


def main(paths: list[str]) -> None:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for path in paths:
        for line in Path(path).read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack:
                continue
            count = int(count_text)
            total += count
            frames = stack.split(";")
            for label, needle in BUCKETS:
                if any(needle in frame for frame in frames):
                    inclusive[label] += count
            own[frames[-1]] += count
    if not total:
        sys.exit("no samples")
    print(f"{total} samples")  # noqa: T201
    for label, _ in BUCKETS:
        print(f"{inclusive[label] / total:6.1%}  {label}")  # noqa: T201
    print("\ntop self time:")  # noqa: T201
    for frame, count in own.most_common(25):
        print(f"{count / total:6.1%}  {frame[:150]}")  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1:])
