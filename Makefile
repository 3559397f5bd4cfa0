# The two commands: `make run` and `make test`. Everything else is here for convenience.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup lint bench ingest check screenshot clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP) ## create the virtualenv and install Tandem

ingest: setup ## index the knowledge base (incremental)
	$(BIN)/tandem kb ingest

check: setup ## validate the knowledge base
	$(BIN)/tandem kb check

run: setup ingest ## the main job: the sandbox without Slack tokens, the real bot with them
	$(BIN)/tandem run

test: setup ## the whole test suite
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup ingest ## benchmarks; results are printed and written to bench/results/
	$(BIN)/python -m bench.run

screenshot: setup ## refresh docs/sandbox.png from the browser test
	TANDEM_SCREENSHOT=$(CURDIR)/docs/sandbox.png $(BIN)/pytest -q tests/sandbox/test_sandbox_browser.py

clean:
	rm -rf $(VENV) .tandem .pytest_cache .ruff_cache
