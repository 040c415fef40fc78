# The two commands a newcomer needs: `make run` and `make test`.
# The first interpreter that actually runs and is 3.11 or newer (pyenv shims may exist but not run).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR := $(or $(ALLIANCE_DATA_DIR),var)
PYTEST_ARGS ?=

.PHONY: run test lint bench schema clean help

help:
	@echo "make run    - install, migrate, seed the demo alliance once, serve on 127.0.0.1:8000"
	@echo "make test   - install the test extras and run the whole suite"
	@echo "make lint   - ruff"
	@echo "make bench  - run the benchmarks in benchmarks/"
	@echo "make schema - rewrite schema/schema.graphql from the code"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required (set PYTHON=...)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/alliance db upgrade
	@if [ ! -f "$(DATA_DIR)/.demo-seeded" ]; then \
		$(BIN)/alliance demo && touch "$(DATA_DIR)/.demo-seeded" && \
		echo "Token for the operator: $(BIN)/alliance token issue --org alliance-office --scopes admin"; \
	fi
	@echo "Members' portal: http://127.0.0.1:8000/portal  (demo sign-in: analyst@acme-motors.example / alliance-demo-password)"
	$(BIN)/alliance serve

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed-test
	@for b in benchmarks/[a-z]*.py; do \
		m=$$(basename $$b .py); echo "== benchmarks.$$m"; $(BIN)/python -m benchmarks.$$m || exit 1; \
	done

schema: $(VENV)/.installed-run
	$(BIN)/alliance schema export > schema/schema.graphql

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
