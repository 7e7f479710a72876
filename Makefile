# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint typecheck unit clean bench bench-quick bench-large bench-deps wrk

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements-dev.lock
	$(PIP) install --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

## make run: migrate the embedded SQLite database, load the demo data, serve on 127.0.0.1:8000
run: $(STAMP)
	$(BIN)/postventa demo
	$(BIN)/postventa serve --host 127.0.0.1 --port 8000

## make test: lint, type check, and the whole test suite (SQLite and PostgreSQL)
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

## Benchmarks (bench/README.md): PostgreSQL on 127.0.0.1:5432, wrk (installed here if missing).
## Each writes bench/results/<date>-<scale>-<db>.json; none is part of `make test`.
BENCH := PYTHONPATH=src $(BIN)/python bench/run.py

LATEST = $$(ls -t bench/results/*-$(1)-postgresql.json 2>/dev/null | head -1)

wrk:
	@command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk)

# matplotlib only draws docs/performance-growth.png, granian is only the other server of
# `run.py --server granian`; neither is a test or runtime dependency.
bench-deps: $(STAMP) wrk
	@$(BIN)/python -c 'import matplotlib' 2>/dev/null || $(PIP) install 'matplotlib==3.11.2'
	@$(BIN)/python -c 'import granian' 2>/dev/null || $(PIP) install 'granian==2.8.7'

## make bench-quick: small on SQLite and PostgreSQL, short runs (under two minutes)
bench-quick: $(STAMP) wrk
	$(BENCH) --scale small --db sqlite --generate --duration 3 --warmup 1 --label quick
	$(BENCH) --scale small --db postgresql --generate --duration 3 --warmup 1 --label quick

## make bench: small and medium on PostgreSQL, 10 s per scenario (about 5 minutes)
bench: bench-deps
	$(BENCH) --scale small --db postgresql --generate
	$(BENCH) --scale medium --db postgresql --generate
	PYTHONPATH=src $(BIN)/python bench/plot.py docs/performance-growth.png \
		$(call LATEST,small) $(call LATEST,medium) $(call LATEST,large)

## make bench-large: 10M messages on PostgreSQL (about 6.5 minutes to generate, 4.5 GB of disk)
bench-large: bench-deps
	$(BENCH) --scale large --db postgresql --generate --duration 8
	PYTHONPATH=src $(BIN)/python bench/plot.py docs/performance-growth.png \
		$(call LATEST,small) $(call LATEST,medium) $(call LATEST,large)

clean:
	rm -rf $(VENV) postventa.db postventa.db-wal postventa.db-shm .pytest_cache .mypy_cache .ruff_cache bench/data
