# newsdesk - developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The venv is rebuilt whenever a requirements file changes (idempotent otherwise).
REQS := requirements-dev.txt layers/dependencies/requirements.txt
STAMP := $(VENV)/.installed-$(shell cat $(REQS) | sha1sum | cut -c1-12)
BUILD_DIR := .aws-sam/build

export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# `sam build` for a python3.13 runtime without Docker needs python3.13 on PATH: take it
# from pyenv when the default interpreter is another version.
HAVE_PY313 := $(shell python3.13 -c pass >/dev/null 2>&1 && echo yes)
ifneq ($(HAVE_PY313),yes)
PYENV313 := $(shell pyenv versions --bare 2>/dev/null | grep -m1 -E '^3\.13(\.[0-9]+)?$$')
ifneq ($(PYENV313),)
export PYENV_VERSION := $(shell pyenv global 2>/dev/null | head -1):$(PYENV313)
HAVE_PY313 := yes
endif
endif

.PHONY: help install run sam-local test test-fast lint validate checkov build import bench clean smoke lighthouse traffic-model

help: ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): $(REQS)
	@echo "==> creating the virtual environment in $(VENV) and installing requirements"
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11+"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## create .venv and install everything the commands need

run: $(STAMP) ## run the service locally at http://127.0.0.1:3000 (PORT=... for another; DynamoDB Local included)
	@$(BIN)/python -m local run

sam-local: $(STAMP) ## the same site in SAM CLI's emulator (Docker: installed and started as root if missing); PORT=...
	@$(BIN)/python -m local.samlocal

import: $(STAMP) ## import articles into the local stack: make import FILE=path [FILE=dir]
	@test -n "$(FILE)" || { echo "usage: make import FILE=path/to/article.txt (or a folder, or .json)"; exit 2; }
	@$(BIN)/python -m local import $(FILE)

lint: $(STAMP) ## ruff and mypy
	@echo "==> ruff"; $(BIN)/ruff check . && $(BIN)/ruff format --check .
	@echo "==> mypy"; $(BIN)/mypy

validate: $(STAMP) ## sam validate --lint and cfn-lint on template.yaml
	@echo "==> sam validate --lint"
	@AWS_DEFAULT_REGION=us-east-1 $(BIN)/sam validate --lint --template template.yaml
	@echo "==> cfn-lint"
	@$(BIN)/cfn-lint --regions us-east-1 eu-west-1 ap-southeast-1 -- template.yaml && echo "template.yaml: cfn-lint clean"

checkov: $(STAMP) ## checkov on template.yaml and its SAM transform (own venv: .local/checkov-venv)
	@echo "==> checkov"
	@bash scripts/checkov.sh

build: $(STAMP) ## sam build (no Docker) into .aws-sam/build
	@test -n "$(HAVE_PY313)" || { echo "error: sam build needs python3.13 on PATH (pyenv install 3.13) or Docker (sam build --use-container)"; exit 1; }
	@echo "==> sam build (python3.13, arm64)"
	@$(BIN)/sam build --template template.yaml --build-dir $(BUILD_DIR) --cached

# pytest-xdist workers for `make test` (one per core here); TEST_WORKERS=0 runs in one process.
# --dist loadfile keeps each module on one worker, so module-scoped fixtures (the browser,
# the local server) are set up once.
TEST_WORKERS ?= 2

test: $(STAMP) ## the whole test suite: lint, unit, integration (moto, DynamoDB Local, sam build), e2e
	@bash scripts/system-deps.sh
	@$(BIN)/python -m local.webcheck install  # the HTML checker and axe-core for tests/e2e (once)
	@started=$$(date +%s); $(MAKE) --no-print-directory lint validate checkov; \
	  echo "==> static checks took $$(( $$(date +%s) - started )) s"
	@echo "==> pytest ($(TEST_WORKERS) workers; time per tier at the end)"
	@$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: $(STAMP) ## unit tests only
	@$(BIN)/python -m pytest tests/unit -q

clean: ## remove build output and caches (keeps .venv and local data)
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache artifacts

lighthouse: $(STAMP) ## Lighthouse's four scores per page kind, phone and desktop, render and beacon mode
	@bash scripts/system-deps.sh
	@$(BIN)/python scripts/lighthouse.py

bench: build ## measure cold-start imports, DynamoDB requests/capacity and latency per route
	@$(BIN)/python scripts/bench.py

traffic-model: $(STAMP) ## online now at 100, 30,000 and 1,000,000 readers (in memory), then 2,000 on DynamoDB Local
	@$(BIN)/python scripts/traffic_model.py --online 100 30000 1000000 --seconds 900
	@$(BIN)/python scripts/traffic_model.py --dynamodb-local 2000 --seconds 600

smoke: $(STAMP) ## check a running stack: make smoke URL=<ApiUrl> [SLUG=slug] [ADMIN=token|iam|none] [WAIT=s]
	@test -n "$(URL)" || { echo "usage: make smoke URL=<the stack's ApiUrl, or http://127.0.0.1:3000> [SLUG=an-article] [ADMIN=token|iam|none] [WAIT=seconds]"; exit 2; }
	@$(BIN)/python scripts/smoke.py '$(URL)' $(if $(SLUG),--slug '$(SLUG)') $(if $(ADMIN),--admin '$(ADMIN)') $(if $(WAIT),--wait '$(WAIT)')
