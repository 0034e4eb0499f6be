# One entry point for humans and CI. Every target creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The deployed pins are part of the test environment (docs/dependencies.md): a change to any reinstalls.
REQUIREMENTS := requirements-dev.txt pyproject.toml layers/dependencies/requirements.txt layers/arrow/requirements.txt \
	layers/wrangler/requirements.txt
STAMP := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) | cksum | cut -d' ' -f1)

# aws-sam-cli is large (~340 MB): it lives in its own optional venv, used by `make build` and `make parity`.
SAM_VENV := .venv-sam
SAM_CLI_VERSION := 1.170.0
# `sam build` without a container needs the Lambda runtime's Python (3.13) on PATH.
PY313_PREFIX ?= $(shell PYENV_VERSION=3.13.0 pyenv prefix 2>/dev/null || dirname $$(dirname $$(command -v python3.13 2>/dev/null || echo /x/x)))

.PHONY: help venv node-clients lint format cfn-lint statelint test local compact query bench cost load build parity sam-local smoke openapi named-queries clean

help:
	@echo "make local    run the whole stack on 127.0.0.1 (no Docker, no AWS account)"
	@echo "make local-reset  delete the local stack's saved state: the next make local starts afresh"
	@echo "make test     lint, cfn-lint, statelint and every test"
	@echo "make parity   sam build, then import and invoke every function as the Lambda runtime would (Python 3.13)"
	@echo "make compact  run one compaction on the running local stack"
	@echo "make query    rows per event type and tenant in the local compacted tables, or SQL='select ...' over them"
	@echo "              (DuckDB; FORMAT=json for JSON lines); with STACK=<name> the SQL runs in that stack's Athena"
	@echo "make lint     ruff and mypy"
	@echo "make bench    benchmarks under bench/"
	@echo "make cost     USD per million events, by line item, for 1, 20 and 500 events per request"
	@echo "make load     load test of the running local stack, or of its own (LOAD_ARGS='--clients 8 --requests 100')"
	@echo "make build    sam build without a container (optional aws-sam-cli venv); prints each function's size;"
	@echo "              writes the sam local templates"
	@echo "make sam-local  sam local start-api against the running make local (needs Docker; API_TYPE=REST|HTTP)"
	@echo "make smoke    check a deployed stack: STACK=<name> [REGION=...] (docs/deploy.md)"
	@echo "make openapi  regenerate docs/openapi.json from the collector's models"
	@echo "make named-queries  rewrite template.yaml's Athena named queries from queries/*.sql"

$(STAMP): $(REQUIREMENTS)
	@echo "Installing the development environment into $(VENV) from the pinned requirements"
	@echo "(first run: about 2 minutes and 750 MB; later runs skip this until a requirements file changes) ..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -r requirements-dev.txt
	@echo "Development environment ready."
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# Segment's Node library for tests/clients (exact versions from package-lock.json).
NODE_CLIENTS := tests/clients/node
NODE_STAMP := $(NODE_CLIENTS)/node_modules/.installed-$(shell cat $(NODE_CLIENTS)/package-lock.json | cksum | cut -d' ' -f1)

$(NODE_STAMP): $(NODE_CLIENTS)/package.json $(NODE_CLIENTS)/package-lock.json
	cd $(NODE_CLIENTS) && npm ci --no-audit --no-fund --loglevel=error
	@rm -f $(NODE_CLIENTS)/node_modules/.installed-*
	@touch $@

node-clients: $(NODE_STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/common/python/event_collector cli/event_collector_cli functions local tools bench tests
	$(BIN)/mypy clients/python/src

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

cfn-lint: venv
	$(BIN)/cfn-lint template.yaml

statelint: venv
	$(BIN)/python -m tools.statemachines --lint

test: lint cfn-lint statelint node-clients
	$(BIN)/python -m pytest

# LOCAL_STATE_DIR applies; refused while a stack runs on that directory (docs/local-mode.md).
.PHONY: local-reset
local-reset: venv
	@$(BIN)/python -m local.state reset

local: venv
	$(BIN)/python -m local

compact: venv
	$(BIN)/python -m local.compact

# SQL, FORMAT, STACK and REGION reach the program through the environment (make exports command-line
# variables), so quotes in the SQL are never the shell's.
query: venv
	$(if $(STACK),$(BIN)/python -m event_collector_cli.query --stack-name "$$STACK" $(if $(REGION),--region "$$REGION"),\
		$(BIN)/python -m local.query) $(if $(SQL),--sql "$$SQL") $(if $(FORMAT),--format "$$FORMAT")

bench: venv
	$(BIN)/python bench/collector_bench.py
	$(BIN)/python bench/cold_import_bench.py --before 2836fc6  # before: the commit before issue 13
	$(BIN)/python bench/local_startup_bench.py
	$(BIN)/python bench/fan_out_bench.py
	$(BIN)/python bench/compaction_bench.py
	$(BIN)/python bench/regulation_bench.py
	$(BIN)/python bench/schema_validation_bench.py
	$(BIN)/python bench/rollup_bench.py

cost: venv
	$(BIN)/python bench/cost_model.py $(COST_ARGS)

load: venv
	$(BIN)/python bench/load.py $(LOAD_ARGS)

openapi: venv
	$(BIN)/python -m tools.openapi > docs/openapi.json

named-queries: venv
	$(BIN)/python -m tools.named_queries

$(SAM_VENV)/bin/sam:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)

# The layers built by layers/pip-layer.mk are trimmed and their shared objects stripped (llvm-strip); then
# every function's unzipped total (code and all its layers) is printed against Lambda's 250 MB.
# Then one template per ApiType beside the built one, for `sam local` only (tools/sam_local.py).
build: venv $(SAM_VENV)/bin/sam
	SAM_CLI_TELEMETRY=0 PATH="$(PY313_PREFIX)/bin:$$PATH" $(SAM_VENV)/bin/sam build --template template.yaml
	$(BIN)/python -m tools.parity.sizes
	$(SAM_VENV)/bin/python -m tools.sam_local

parity: venv build
	PARITY_PYTHON="$(PY313_PREFIX)/bin/python3.13" $(BIN)/python -m tools.parity
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/python -m tools.sam_local_check
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/python -m tools.guided_prompts --check docs/deploy.md

# Needs Docker and a running `make local` (its .local/sam-env.json); docs/local-mode.md.
sam-local: venv build
	$(BIN)/python -m local.sam_env $(if $(API_TYPE),--api-type $(API_TYPE))

smoke: venv
	@if [ -z "$(STACK)" ] && [ -n "$(API_URL)$(API_KEY)" ]; then \
		echo "make smoke: set STACK=<stack name> too: compaction and Athena names come from its outputs (docs/deploy.md)" >&2; exit 2; fi
	$(BIN)/python -m event_collector_cli.smoke $(if $(STACK),--stack-name $(STACK),--local) $(if $(REGION),--region $(REGION)) \
		$(if $(API_URL),--api-url $(API_URL)) $(if $(API_KEY),--api-key $(API_KEY)) $(SMOKE_ARGS)

clean:
	rm -rf .aws-sam .local .pytest_cache .mypy_cache .ruff_cache
