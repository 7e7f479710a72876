# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint typecheck unit clean

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
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

clean:
	rm -rf $(VENV) postventa.db postventa.db-wal postventa.db-shm .pytest_cache .mypy_cache .ruff_cache
