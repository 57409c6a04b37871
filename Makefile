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

.PHONY: help install demo reset test test-fast test-snowflake test-aws lint format bench bench-peers clean tools build validate deploy invoke sizes notebooks lock

# AWS SAM CLI and checkov live in their own virtualenvs: both pin boto3, botocore and
# pydantic ranges that conflict with the project's (and with each other's).
TOOLS := .tools
SAM := $(TOOLS)/sam/bin/sam
CHECKOV := $(TOOLS)/checkov/bin/checkov
SAM_CLI_VERSION ?= 1.170.0
CHECKOV_VERSION ?= 3.3.30
# uv installs every environment here (.venv, .tools/sam, .tools/checkov): the same packages and
# versions pip would install, in seconds instead of minutes. It comes from PyPI as one wheel,
# installed with $(PYTHON)'s pip into .tools/uv-<version> the first time a target installs
# (docs.astral.sh/uv/getting-started/installation/: "pip install uv"). It never downloads a
# Python of its own (UV_PYTHON_DOWNLOADS=never, docs.astral.sh/uv/reference/environment/): every
# environment is made from $(PYTHON). Where uv cannot be installed, pip does the same installs,
# slower, and one line says so (`make clean` tries uv again).
UV_VERSION ?= 0.13.9
CHECK_PYTHON = $(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python 3.12+ is required; run make PYTHON=/path/to/python3.12")'
UV_DIR := $(TOOLS)/uv-$(UV_VERSION)
UV := $(UV_DIR)/bin/uv
UV_TRIED := $(UV_DIR)/.tried
export UV_PYTHON_DOWNLOADS := never
# pip compiled every installed module to bytecode (whatever PYTHONDONTWRITEBYTECODE says); uv
# leaves that to the interpreter, which writes a module's .pyc on its first import. Where
# PYTHONDONTWRITEBYTECODE is set, it would write none, and every run of the local stack would
# compile its ~1,800 modules again (~6 s of CPU); make's commands let it write them.
# (The Lambda builds compile their own, explicitly: see the build folders' Makefiles.)
unexport PYTHONDONTWRITEBYTECODE
# $(call make_venv,FOLDER): a virtualenv of $(PYTHON), with pip in it (uv's --seed, or venv's own
# pip upgraded), unless FOLDER already holds one.
make_venv = test -x $(1)/bin/python || if [ -x $(UV) ]; then \
	  $(UV) venv --quiet --seed --python $(PYTHON) $(1); \
	else $(PYTHON) -m venv $(1) && $(1)/bin/python -m pip install --quiet --upgrade pip; fi
# $(call venv_install,FOLDER,REQUIREMENTS): install into FOLDER's environment, with uv or pip.
venv_install = if [ -x $(UV) ]; then $(UV) pip install --quiet --python $(1)/bin/python $(2); \
	else $(1)/bin/python -m pip install --quiet $(2); fi
# The Lambda functions' instruction set: x86_64 matches this machine, so what CI builds is what
# it imports and invokes (tests/integration/test_sam_build.py). `make build ARCH=arm64` builds
# Graviton artifacts (cross-downloaded wheels); deploy them with the same ARCH.
ARCH ?= x86_64
# sam build resolves `python3.12` on PATH; pyenv's shim is refused by SAM, so the real binary's
# folder goes first.
SAM_ENV := PATH="$(dir $(PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 INMET_LAMBDA_ARCH=$(ARCH) \
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1}
CONFIG_ENV ?= default
EVENT ?= events/upload_raw.json
FUNCTION ?= UploadFunction

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# uv from PyPI, tried once: afterwards uv is in $(UV_DIR), or that folder holds install.log and
# pip installs instead.
$(UV_TRIED):
	@$(CHECK_PYTHON)
	@mkdir -p $(UV_DIR)
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
	  --target $(UV_DIR) uv==$(UV_VERSION) >$(UV_DIR)/install.log 2>&1 && test -x $(UV) || \
	  echo "uv $(UV_VERSION) could not be installed from PyPI (see $(UV_DIR)/install.log): installing with pip instead, slower" >&2
	@touch $@

$(BIN)/.installed-$(EXTRAS): pyproject.toml | $(UV_TRIED)
	@$(CHECK_PYTHON)
	@$(call make_venv,$(VENV))
	@$(call venv_install,$(VENV),-e '.[$(EXTRAS)]')
	@touch $@

install: $(BIN)/.installed-$(EXTRAS) ## create .venv with the project and its tools

# The upload API listens on 127.0.0.1:8000, or on a free port when 8000 is busy (it says which);
# `make demo PORT=8080` asks for one.
demo: install ## the main job on the local default: the whole pipeline on this machine
	$(INMET) local run --upload $(if $(PORT),--port $(PORT))

# The local pipeline's state persists in .local/ (warehouse, logs) between runs; this deletes it
# and the generated sample (data/sample/). Your files in data/raw/ and data/processed/ stay.
reset: install ## start over: delete .local/ and data/sample/ (keeps data/raw/, data/processed/)
	$(INMET) local reset --yes

# The notebooks without Docker: Jupyter Lab from the ml extra, in local/notebooks/. They find
# data/processed/inmet_clean.csv from there (inmet_local.ml.data.find_clean_csv). As root (a
# container), Jupyter needs --allow-root.
NOTEBOOK_PORT ?= 8888
NOTEBOOK_ARGS ?=
notebooks: install ## open the notebooks in Jupyter Lab (no Docker; NOTEBOOK_ARGS=--no-browser)
	@echo "Jupyter Lab on local/notebooks/: open the http://127.0.0.1:$(NOTEBOOK_PORT)/lab?token=… link it prints (Ctrl-C stops it)."
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(NOTEBOOK_PORT) --ServerApp.root_dir=local/notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(NOTEBOOK_ARGS)

# Test workers: the suite's integration tests mostly wait on their servers, so two workers on
# two cores finish in about half the time. `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= 2
test: install validate build ## lint, type-check, check the template, sam build, run every test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@# pytest exits 5 when it collected nothing: a broken suite, said plainly (make then fails).
	@# Two workers (pytest-xdist), each test file whole on one of them (its module fixtures, such
	@# as a started stack, stay in one process); the slowest tests are listed at the end.
	INMET_REQUIRE_SAM_BUILD=1 $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=25 || { status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; fi; exit $$status; }

# The warehouse tests (tests/integration/test_warehouse.py) against a real account, with the
# key-pair settings of .env or the environment: each test deploys snowflake_sql/ into a scratch
# database INMET_TEST_<random> and drops it. Cost: ~20 tests on the role's warehouse, a few
# minutes of an XSMALL (about 0.1 credit). Without the settings: one line, and success.
test-snowflake: install ## the warehouse tests on a real Snowflake account (SNOWFLAKE_* key pair)
	@if [ -z "$${SNOWFLAKE_ACCOUNT:-}" ] && ! grep -qs '^SNOWFLAKE_ACCOUNT=.' $${INMET_ENV_FILE:-.env}; then \
	  echo "test-snowflake: skipped: SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER and SNOWFLAKE_PRIVATE_KEY_PATH are not set (README: Live tests)"; \
	else INMET_LIVE_SNOWFLAKE=1 $(BIN)/pytest tests/integration/test_warehouse.py -rs; fi

test-fast: install ## unit tests only
	$(BIN)/pytest -m unit -q

# Live: deploys a throw-away stack, uploads through its HTTPS endpoint, checks S3 and the status
# record, deletes it (local/inmet_local/ops/live.py). Without AWS credentials: one skip line, exit 0.
# INMET_TEST_AWS_AUTH=Iam tests the SigV4 mode; AWS_REGION picks the region (default sa-east-1).
test-aws: install $(SAM) ## live test in a throw-away stack (skips without AWS credentials)
	PATH="$(dir $(PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 INMET_LAMBDA_ARCH=$(ARCH) $(BIN)/python -m inmet_local.ops.live

lint: install ## ruff + mypy
	$(BIN)/ruff check .
	$(BIN)/mypy

format: install ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install ## the benchmarks (print figures; not part of the tests; ~15 min)
	$(BIN)/python benchmarks/bench_validate.py
	$(BIN)/python benchmarks/bench_upload.py
	$(BIN)/python benchmarks/bench_warehouse.py
	$(BIN)/python benchmarks/bench_export.py
	$(BIN)/python benchmarks/bench_local_run.py
	$(MAKE) sizes

# The local run beside DuckDB's one query and dlt (the bench extra), on a generated year;
# BENCH_ARGS="--real ../shared/data/inmet_real --copies 64" for the real files scaled up,
# "--before" to add the local run without its speed levers (benchmarks/levers_off). ~6 min.
BENCH_ARGS ?= --before
bench-peers: ## the local run side by side with DuckDB and dlt (wall, CPU, memory, ratios)
	$(MAKE) install EXTRAS=dev,ml,bench
	$(BIN)/python benchmarks/bench_peers.py $(BENCH_ARGS)

lock: install ## pin the Lambda builds' requirements.txt (with hashes) from requirements.in
	UV=$(UV) BUILD_PYTHON=$(PYTHON) $(BIN)/python -m inmet_local.ops.lock

$(SAM): | $(UV_TRIED)
	@$(call make_venv,$(TOOLS)/sam)
	@$(call venv_install,$(TOOLS)/sam,aws-sam-cli==$(SAM_CLI_VERSION))

$(CHECKOV): | $(UV_TRIED)
	@$(call make_venv,$(TOOLS)/checkov)
	@$(call venv_install,$(TOOLS)/checkov,checkov==$(CHECKOV_VERSION))

tools: $(SAM) $(CHECKOV) ## install AWS SAM CLI and checkov in .tools/

validate: install $(SAM) $(CHECKOV) ## sam validate --lint, cfn-lint (+ serverless rules), checkov
	$(SAM_ENV) $(SAM) validate --lint --template-file template.yaml
	$(BIN)/cfn-lint template.yaml
	@# awslabs serverless-rules (cfn-lint-serverless); suppressions sit next to their resources.
	$(BIN)/cfn-lint template.yaml --append-rules cfn_lint_serverless.rules
	$(CHECKOV) --file template.yaml --framework cloudformation --skip-download --compact --quiet

build: $(SAM) ## sam build (ARCH=x86_64|arm64) into .aws-sam/build
	$(SAM_ENV) $(SAM) build --template-file template.yaml --parameter-overrides Architecture=$(ARCH)

sizes: install build ## unzipped size and cold import time of each built function with its layers
	$(BIN)/python benchmarks/bench_artifacts.py

# Parameters come from samconfig.toml (Architecture there must match the ARCH built with);
# PARAMS passes more sam deploy options, e.g. PARAMS="--parameter-overrides Stage=dev …".
deploy: build ## sam deploy (CONFIG_ENV=default|prod; the first time: make deploy GUIDED=1)
	$(SAM_ENV) $(SAM) deploy --config-env $(CONFIG_ENV) $(if $(GUIDED),--guided) $(PARAMS)

invoke: install ## a handler with an event against the running local stack (FUNCTION=, EVENT=)
	$(INMET) local invoke $(FUNCTION) --event $(EVENT)

clean: ## remove the virtualenvs, caches and build output (not the data: see make reset)
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
