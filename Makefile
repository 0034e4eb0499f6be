# One entry point for humans and CI. Every target creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt pyproject.toml | cksum | cut -d' ' -f1)

# aws-sam-cli is large (~340 MB): it lives in its own optional venv, used only by `make build`.
SAM_VENV := .venv-sam
SAM_CLI_VERSION := 1.170.0
# `sam build` without a container needs the Lambda runtime's Python (3.13) on PATH.
PY313_PREFIX ?= $(shell PYENV_VERSION=3.13.0 pyenv prefix 2>/dev/null || dirname $$(dirname $$(command -v python3.13 2>/dev/null || echo /x/x)))

.PHONY: help venv lint format cfn-lint statelint test local compact query bench load build openapi clean

help:
	@echo "make local    run the whole stack on 127.0.0.1 (no Docker, no AWS account)"
	@echo "make test     lint, cfn-lint, statelint and every test"
	@echo "make compact  run one compaction on the running local stack"
	@echo "make query    print rows per event type and tenant from the local compacted tables"
	@echo "make lint     ruff and mypy"
	@echo "make bench    benchmarks under bench/"
	@echo "make load     load test of the local stack (LOAD_ARGS='--clients 8 --requests 100')"
	@echo "make build    sam build without a container (optional aws-sam-cli venv)"
	@echo "make openapi  regenerate docs/openapi.json from the collector's models"

$(STAMP): requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/common/python/event_collector functions local bench tests

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

cfn-lint: venv
	$(BIN)/cfn-lint template.yaml

statelint: venv
	$(BIN)/python -m local.statemachines --lint

test: lint cfn-lint statelint
	$(BIN)/python -m pytest

local: venv
	$(BIN)/python -m local

compact: venv
	$(BIN)/python -m local.compact

query: venv
	$(BIN)/python -m local.query

bench: venv
	$(BIN)/python bench/collector_bench.py
	$(BIN)/python bench/cold_import_bench.py
	$(BIN)/python bench/local_startup_bench.py
	$(BIN)/python bench/fan_out_bench.py
	$(BIN)/python bench/compaction_bench.py

load: venv
	$(BIN)/python bench/load.py $(LOAD_ARGS)

openapi: venv
	$(BIN)/python -m local.openapi > docs/openapi.json

$(SAM_VENV)/bin/sam:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)

build: $(SAM_VENV)/bin/sam
	SAM_CLI_TELEMETRY=0 PATH="$(PY313_PREFIX)/bin:$$PATH" $(SAM_VENV)/bin/sam build --template template.yaml

clean:
	rm -rf .aws-sam .local .pytest_cache .mypy_cache .ruff_cache
