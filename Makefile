# Every target runs in a virtual environment of its own, .venv/, created on first use: the
# system Python is never installed into (Debian and Ubuntu refuse it, PEP 668). `run` installs
# the service alone; `test` and `lint` add the development extras. Each install is redone only
# when pyproject.toml changes (the stamp files below).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PIP := $(BIN)/python -m pip --disable-pip-version-check

# The tests start PostgreSQL from its server binaries; Debian keeps them off PATH.
ifeq ($(shell command -v initdb 2>/dev/null),)
PG_BIN := $(shell ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
ifneq ($(PG_BIN),)
export PATH := $(PG_BIN):$(PATH)
endif
endif

.PHONY: install install-dev run test lint check bench

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "error: Python 3.11 or newer is needed ($(PYTHON) is older; try PYTHON=python3.12)" >&2; \
	  exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "error: '$(PYTHON) -m venv' failed; on Debian or Ubuntu: apt-get install python3-venv" >&2; \
	  exit 1; }

# The service and its runtime dependencies only.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	@touch $@

# The service with the development extras (pytest, Playwright, Schemathesis, ruff, mypy, ...);
# they include everything the service needs, so the service's stamp is renewed too.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

## Start the service on the embedded SQLite database with the demo Chain loaded.
run: $(VENV)/.installed
	$(BIN)/admission db upgrade
	$(BIN)/admission seed --demo
	$(BIN)/admission serve --host $(HOST) --port $(PORT)

## The whole test suite, on SQLite and on a throw-away PostgreSQL server (two workers,
## each with its own databases).
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check app tests migrations bench
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/mypy app
	$(BIN)/lint-imports

check: lint test

## Every benchmark on SQLite and a throw-away PostgreSQL server; writes docs/performance.md.
## BENCH_ARGS passes options, e.g. make bench BENCH_ARGS="--duration 3 --runs 1".
bench: $(VENV)/.installed-dev
	$(BIN)/python -c "import SpiffWorkflow" 2>/dev/null || $(PIP) install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/run.py $(BENCH_ARGS)
