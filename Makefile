# Homeroom: `make run` starts the demo school, `make test` runs every test.
# Both create .venv and install what they need on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# What `make test` exits with when pytest collected no test at all (pytest's own code is 5).
NO_TESTS_EXIT ?= 5
# argostranslate is used for its package format only; --no-deps keeps torch/stanza out (see README).
ARGOS ?= argostranslate==1.11.0

.PHONY: run test lint format venv clean catalogs catalogs-update

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	$(BIN)/pip install -q --no-deps "$(ARGOS)"
	touch $@

venv: $(VENV)/.installed

# The interface catalogs: .po → .mo (server) and hashed JSON (web client). The server also
# compiles them by itself when they are missing or older than their .po.
catalogs: venv
	$(BIN)/python tools/catalogs.py compile

# After adding or changing texts: re-extract the template and bring every .po up to it.
catalogs-update: venv
	$(BIN)/python tools/catalogs.py update

run: venv catalogs
	$(BIN)/python -m server demo

test: venv catalogs
	@bash tools/test-prereqs.sh
	@source tools/test-services.sh && { $(BIN)/python -m pytest $(PYTEST_ARGS); code=$$?; \
	  if [ $$code -eq 5 ]; then echo "pytest collected no tests (exit 5)"; exit $(NO_TESTS_EXIT); fi; \
	  exit $$code; }

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python tools/contract.py --check
	$(BIN)/python tools/catalogs.py check

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .cache .pytest_cache data
	find server/language/catalogs -name '*.mo' -delete
