PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint check bench

install:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e ".[dev]"

## Start the service on the embedded SQLite database with the demo Chain loaded.
run: install
	admission db upgrade
	admission seed --demo
	admission serve --host $(HOST) --port $(PORT)

## The whole test suite, on SQLite and on a throw-away PostgreSQL server (two workers,
## each with its own databases).
test: install
	$(PYTHON) -m pytest -n 2

lint: install
	ruff format --check app tests migrations bench
	ruff check app tests migrations bench
	mypy app
	lint-imports

## Every benchmark on SQLite and a throw-away PostgreSQL server; writes docs/performance.md.
## BENCH_ARGS passes options, e.g. make bench BENCH_ARGS="--duration 3 --runs 1".
VENV ?= .venv

bench:
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/python -c "import SpiffWorkflow, app" 2>/dev/null || \
		$(VENV)/bin/pip install --quiet --disable-pip-version-check -e ".[dev,bench]"
	$(VENV)/bin/python bench/run.py $(BENCH_ARGS)
