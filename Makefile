# One entry point for humans and CI. Every target creates .venv when missing, and rebuilds it when its
# interpreter is missing, broken or too old (tools/venv.sh).
# PYTHON: the interpreter .venv is made with; at least pyproject.toml's requires-python.
PYTHON ?= python3
PYTHON_MIN := $(shell sed -n 's/^requires-python = ">=\([0-9.]*\)"$$/\1/p' pyproject.toml)
VENV := .venv
BIN := $(VENV)/bin
# The deployed pins are part of the test environment (docs/dependencies.md): a change to any reinstalls.
REQUIREMENTS := requirements-dev.txt pyproject.toml layers/dependencies/requirements.txt layers/arrow/requirements.txt \
	layers/wrangler/requirements.txt

# aws-sam-cli is large (~340 MB): it lives in its own optional venv, used by `make build` and `make parity`.
SAM_VENV := .venv-sam
SAM_CLI_VERSION := 1.170.0
# `sam build` without a container needs the Lambda runtime's Python (3.13) on PATH.
PY313_PREFIX ?= $(shell PYENV_VERSION=3.13.0 pyenv prefix 2>/dev/null || dirname $$(dirname $$(command -v python3.13 2>/dev/null || echo /x/x)))

.PHONY: help venv prerequisites node-clients lint format cfn-lint statelint test local compact query bench cost load build parity sam-local smoke openapi named-queries clean distclean

help:
	@echo "make local    run the whole stack on 127.0.0.1 (no Docker, no AWS account)"
	@echo "make local-reset  delete the local stack's saved state: the next make local starts afresh"
	@echo "make test     lint, cfn-lint, statelint and every test"
	@echo "make parity   sam build, then import and invoke every function as the Lambda runtime would (Python 3.13)"
	@echo "make compact  run one compaction on the running local stack; prints its JSON report"
	@echo "              (CLOSED_HOURS_ONLY=1 leaves the hour still open, as the schedule does)"
	@echo "make query    rows per event type and tenant in the local compacted tables, or SQL='select ...' over them"
	@echo "              (DuckDB; FORMAT=json for JSON lines; TENANT=<id> for one tenant's rows only);"
	@echo "              with STACK=<name> the SQL runs in that stack's Athena"
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
	@echo "make clean    remove build output, caches and .local (the local stack's state); keeps the venvs"
	@echo "make distclean  make clean, and remove .venv, .venv-sam and the Node clients' node_modules"

# Checked at every run (a start of .venv's Python and a checksum); installs only when something changed.
venv:
	@sh tools/venv.sh $(VENV) "$(PYTHON)" $(PYTHON_MIN) "make $(or $(MAKECMDGOALS),local)" $(REQUIREMENTS)

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

# Debian's chromium, jq and llvm, installed where missing when this user may, else one line saying how.
prerequisites:
	@sh tools/prerequisites.sh

test: prerequisites lint cfn-lint statelint node-clients
	$(BIN)/python -m pytest

# LOCAL_STATE_DIR applies; refused while a stack runs on that directory (docs/local-mode.md).
.PHONY: local-reset
local-reset: venv
	@$(BIN)/python -m local.state reset

local: venv
	$(BIN)/python -m local

# Silent recipes (@): standard output is the program's alone, so `make compact | jq` and
# `make query FORMAT=json | jq` read JSON. CLOSED_HOURS_ONLY=1 keeps the grace rule (0 or empty: not).
compact: venv
	@$(BIN)/python -m local.compact $(if $(filter-out 0,$(CLOSED_HOURS_ONLY)),--closed-hours-only)

# SQL, FORMAT, TENANT, STACK and REGION reach the program through the environment (make exports command-line
# variables), so quotes in the SQL are never the shell's.
QUERY_OPTIONS = $(if $(SQL),--sql "$$SQL") $(if $(FORMAT),--format "$$FORMAT") $(if $(TENANT),--tenant "$$TENANT")
query: venv
	@$(if $(STACK),$(BIN)/python -m event_collector_cli.query --stack-name "$$STACK" $(if $(REGION),--region "$$REGION"),\
		$(BIN)/python -m local.query) $(QUERY_OPTIONS)

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
	@echo "make build: installing aws-sam-cli $(SAM_CLI_VERSION) into $(SAM_VENV) (first use only: about 340 MB, a few minutes) ..."
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)
	@echo "make build: aws-sam-cli installed, $$(( $$(du -skL $(SAM_VENV)/ | cut -f1) / 1024 )) MB in $(SAM_VENV)"

# The layers built by layers/pip-layer.mk are trimmed and their shared objects stripped (llvm-strip); then
# every function's unzipped total (code and all its layers) is printed against Lambda's 250 MB.
# Then one template per ApiType beside the built one, for `sam local` only (tools/sam_local.py).
build: venv $(SAM_VENV)/bin/sam
	@echo "make build: 1/3 sam build: every function and layer, each pinned layer says what it pip-installs for arm64 and its size ..."
	SAM_CLI_TELEMETRY=0 PATH="$(PY313_PREFIX)/bin:$$PATH" $(SAM_VENV)/bin/sam build --template template.yaml
	@echo "make build: 2/3 each function's unzipped size (code and layers) against Lambda's 250 MB"
	$(BIN)/python -m tools.parity.sizes
	@echo "make build: 3/3 the sam local templates (template-rest.yaml, template-http.yaml)"
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

# `make clean`: what the targets make again by themselves, .local included (the local stack's state and
# stack.json); `make distclean` also what they install. Each names what it removes; clean, what it keeps.
CLEANED := .aws-sam .local .pytest_cache .mypy_cache .ruff_cache
INSTALLED := $(VENV) $(SAM_VENV) $(NODE_CLIENTS)/node_modules
REMOVE = removed=; for path in $(1); do if [ -e "$$path" ]; then rm -rf "$$path"; echo "make $@: removed $$path"; \
	removed=1; fi; done; [ -n "$$removed" ] || echo "make $@: nothing to remove ($(strip $(1)) are absent)"

clean:
	@$(call REMOVE,$(CLEANED))
	@kept=; for path in $(INSTALLED); do [ ! -e "$$path" ] || kept="$$kept $$path"; done; \
	[ -z "$$kept" ] || echo "make clean: keeps$$kept (what make installed; \`make distclean\` removes them too)"

distclean:
	@$(call REMOVE,$(CLEANED) $(INSTALLED))
