# Every target installs what it needs: `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12+ (the Lambda runtime is python3.12). A pyenv-installed 3.12 is preferred because
# pyenv's shims fail SAM's runtime check; override with `make PYTHON=/path/to/python3.12`.
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3) $(shell command -v python3.12 2>/dev/null) $(shell command -v python3.13 2>/dev/null) $(shell command -v python3 2>/dev/null))
VENV := .venv
BIN := $(VENV)/bin
INMET := $(BIN)/inmet
EXTRAS ?= dev,ml

.PHONY: help install demo test test-fast lint format bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed-$(EXTRAS): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python 3.12+ is required; run make PYTHON=/path/to/python3.12")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	@touch $@

install: $(BIN)/.installed-$(EXTRAS) ## create .venv with the project and its tools

demo: install ## the main job on the local default: the whole pipeline on this machine
	$(INMET) local run --upload

test: install ## lint, type-check and run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

test-fast: install ## unit tests only
	$(BIN)/pytest -m unit -q

lint: install ## ruff + mypy
	$(BIN)/ruff check .
	$(BIN)/mypy

format: install ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install ## the benchmarks (print figures; not part of the tests)
	$(BIN)/python benchmarks/bench_validate.py

clean: ## remove the virtualenv, caches and build output
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
