# The two commands: `make run` and `make test`. Everything else is here for convenience.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
# pip's notes about package locations this machine does not have are noise, not news.
QUIET_PIP := 2>&1 | { grep -v "is neither a file nor a directory" || true; }
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast test-postgres setup lint bench calibrate audit ingest check screenshot clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel $(QUIET_PIP)
	$(BIN)/pip install --quiet -e ".[dev]" $(QUIET_PIP)
	touch $(STAMP)

setup: $(STAMP) ## create the virtualenv and install Tandem

ingest: setup ## index the knowledge base (incremental)
	$(BIN)/tandem kb ingest

check: setup ## validate the knowledge base
	$(BIN)/tandem kb check

run: setup ingest ## the main job: the sandbox without Slack tokens, the real bot with them
	$(BIN)/tandem run

# Modules whose tests go through the database end to end, run again on PostgreSQL.
POSTGRES_TESTS := tests/test_checkins.py tests/test_slack_app.py tests/test_peers.py \
	tests/test_digests.py tests/test_services.py tests/test_operations.py \
	tests/test_multi_workspace.py tests/test_erasure_reach.py tests/test_db.py \
	tests/test_home_buttons.py

test: setup ## the whole test suite on SQLite, then the database-heavy tests on PostgreSQL
	$(BIN)/ruff check .
	$(BIN)/pytest -q
	$(MAKE) --no-print-directory test-postgres

test-fast: setup ## ruff, then the pure and unit tests (those not marked slow): under a minute
	$(BIN)/ruff check .
	$(BIN)/pytest -q -m "not slow"

test-postgres: setup ## the database-heavy tests again, each in a fresh PostgreSQL database
	TANDEM_TEST_DATABASE=postgres $(BIN)/pytest -q $(POSTGRES_TESTS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup ingest ## benchmarks; results are printed and written to bench/results/
	$(BIN)/python -m bench.run

calibrate: setup ## re-choose the scope gate's threshold on dev data (dev split, fresh dev sets) and write it
	$(BIN)/python -m bench.calibrate_scope --write

audit: setup ## the HTTP abuse set, hostile links and privacy-on-disk checks, with pass counts
	$(BIN)/pytest -q tests/test_http_abuse.py tests/test_safety.py tests/test_erasure_reach.py

screenshot: setup ## refresh docs/sandbox.png and docs/journey.png (the journey's key steps) from the browser tests
	TANDEM_SCREENSHOT=$(CURDIR)/docs/sandbox.png TANDEM_JOURNEY=$(CURDIR)/docs/journey.png \
		$(BIN)/pytest -q tests/sandbox/test_sandbox_browser.py tests/sandbox/test_journey.py

clean:
	rm -rf $(VENV) .tandem .pytest_cache .ruff_cache
