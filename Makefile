# segmentation — two commands to start: `make setup` then `make demo` (or `make test`).
# Area-specific targets live in mk/*.mk and add themselves to SETUP_TARGETS / LINT_TARGETS /
# CLEAN_TARGETS, so this file stays small and each concern owns its recipes.

SHELL := /bin/bash
PY ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
PYTHON := $(BIN)/python
export PYSPARK_PYTHON := $(PYTHON)
export PYSPARK_DRIVER_PYTHON := $(PYTHON)
export PATH := $(BIN):$(PATH)
STATE_DIR ?= $(abspath .local)

SETUP_TARGETS :=
LINT_TARGETS :=
CLEAN_TARGETS :=
-include mk/*.mk

.PHONY: setup test test-fast lint fmt demo bench lock clean help

help:  ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(SETUP_TARGETS)  ## create .venv and install the pinned dependency set

$(VENV)/.installed: pyproject.toml tooling/pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[pipeline,dev]" -e ./tooling
	touch $@

test: setup  ## run every test, the slow end-to-end ones included
	$(BIN)/pytest -q

test-fast: setup  ## run the fast tests only
	$(BIN)/pytest -q -m "not slow"

lint: setup $(LINT_TARGETS)  ## ruff (+ terraform fmt/validate, checkov)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: setup  ## format the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

SCALE ?= paper
demo: setup  ## run the whole system locally and print its report (50k users, ~5M events; SCALE=small: 2k users)
	$(BIN)/segmentation demo --scale $(SCALE)

bench: setup  ## run the benchmarks; they print figures
	$(PYTHON) bench/run_all.py

lock:  ## re-resolve the pinned set from pyproject.toml into constraints.txt
	rm -rf /tmp/seg-lock && $(PY) -m venv /tmp/seg-lock
	/tmp/seg-lock/bin/pip install -q --upgrade pip
	/tmp/seg-lock/bin/pip install -q -e ".[pipeline,dev]" -e ./tooling
	( echo '# Pinned dependency set (pip constraints). Regenerate with `make lock` after changing pyproject.toml.'; \
	  /tmp/seg-lock/bin/pip freeze | grep -v -E '^-e|@ file|^segmentation' ) > constraints.txt

clean: $(CLEAN_TARGETS)  ## remove build outputs and local state
	rm -rf build dist .pytest_cache .ruff_cache $(STATE_DIR)
