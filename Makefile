# scalar-ray: the two commands a newcomer needs are `make demo` and `make test`; both set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .make
PULSAR_HOME := cluster/local/pulsar
APT_PACKAGES := redis-server openjdk-17-jre-headless maven docker-compose chromium chromium-driver
TOOLS := .tools
KUSTOMIZE_VERSION := v5.7.1

.PHONY: help setup demo test test-unit test-integration lint format up status down lock bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

setup: $(STAMPS)/apt $(STAMPS)/python $(STAMPS)/pulsar $(STAMPS)/kustomize $(STAMPS)/explorer ## install everything: Debian packages, the venv, Pulsar's jars, kustomize, the explorer's chart library

# Debian packages: Redis server, a JDK for Pulsar, Maven to resolve Pulsar from Maven Central, docker-compose
# (1.29: the second opinion on docker-compose.yaml; there is no Docker engine here), and chromium with its driver
# for the explorer's browser tests.
$(STAMPS)/apt:
	@mkdir -p $(STAMPS)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@touch $@

# The virtual environment, pinned by constraints.txt; redone when the pins or pyproject change.
$(STAMPS)/python: pyproject.toml constraints.txt
	@mkdir -p $(STAMPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	@touch $@

# Apache Pulsar's runtime jars from Maven Central into cluster/local/pulsar/lib.
$(STAMPS)/pulsar: $(PULSAR_HOME)/pom.xml $(STAMPS)/apt
	@mkdir -p $(STAMPS)
	rm -rf $(PULSAR_HOME)/lib
	mvn -B -q -s $(PULSAR_HOME)/settings.xml -f $(PULSAR_HOME)/pom.xml dependency:copy-dependencies \
	  -DincludeScope=runtime -DoutputDirectory=lib
	sha256sum $(PULSAR_HOME)/pom.xml | cut -d' ' -f1 > $(PULSAR_HOME)/lib/.pom.sha256
	@touch $@

# The explorer's chart library, uPlot (MIT), from the npm registry into the package (served by the API; never a CDN):
# the tarball is checked against its SHA-256, and only the built script, its stylesheet and the licence are kept.
UPLOT_VERSION := 1.6.32
UPLOT_SHA256 := 4b8a8191e425658e3ea8c8c1314b0fc679c861ee3a1af2b20c7b16ba50b5133d
EXPLORER_VENDOR := scalar_ray/serving/explorer/vendor
$(STAMPS)/explorer:
	@mkdir -p $(STAMPS) $(TOOLS)/npm $(EXPLORER_VENDOR)
	cd $(TOOLS)/npm && npm pack --silent uplot@$(UPLOT_VERSION) >/dev/null
	echo "$(UPLOT_SHA256)  $(TOOLS)/npm/uplot-$(UPLOT_VERSION).tgz" | sha256sum --check --quiet
	tar -xzf $(TOOLS)/npm/uplot-$(UPLOT_VERSION).tgz -C $(TOOLS)/npm package/dist/uPlot.iife.min.js \
	  package/dist/uPlot.min.css package/LICENSE
	cp $(TOOLS)/npm/package/dist/uPlot.iife.min.js $(TOOLS)/npm/package/dist/uPlot.min.css $(EXPLORER_VENDOR)/
	cp $(TOOLS)/npm/package/LICENSE $(EXPLORER_VENDOR)/uPlot.LICENSE
	@touch $@

# kustomize, built from the Go module proxy: CI renders the KubeRay manifests with it (Go from apt if none is here).
# The Go toolchain in /usr/local/go is used when `go` is not on PATH (a non-login shell may not have it).
$(STAMPS)/kustomize:
	@mkdir -p $(STAMPS) $(TOOLS)
	@export PATH="$$PATH:/usr/local/go/bin"; \
	command -v go >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq golang-go; }; \
	GOBIN=$(abspath $(TOOLS)) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	@touch $@

demo: setup ## the main job on embedded defaults: local stack, actors, a backfill, live ingestion, sample queries
	$(BIN)/scalar-ray demo

test: setup ## all tests: unit (on every core), then integration against real Pulsar, Redis, Ray and DuckDB
	$(BIN)/pytest tests/unit -n auto
	$(MAKE) --no-print-directory test-integration

test-unit: setup ## unit tests only (no services), on every core
	$(BIN)/pytest tests/unit -n auto

# Two pytest sessions side by side, each one's output printed when it ends: the local stack (its own services) with
# the tests that need no service started (the provider simulator, DuckDB, the StarRocks protocol double), and every
# other test on the session's shared Pulsar, Redis and Ray. Both cores stay busy (vmstat: no idle time), so a third
# session measured no faster. Not xdist: its Schemathesis hook re-imports at session end and tripped CPython
# 3.11.7's "AST constructor recursion depth mismatch" after a full integration run.
INTEGRATION_BESIDE := tests/integration/test_local_stack.py tests/integration/providers tests/integration/warehouse \
	tests/integration/test_duckdb_file.py
test-integration: setup ## integration tests only, in two sessions side by side
	@$(MAKE) --no-print-directory -j2 --output-sync=target integration-stack integration-services

.PHONY: integration-stack integration-services
integration-stack:
	$(BIN)/pytest -p no:xdist $(INTEGRATION_BESIDE)
integration-services:
	$(BIN)/pytest -p no:xdist tests/integration $(addprefix --ignore=,$(INTEGRATION_BESIDE))

lint: setup ## ruff, ruff format --check, mypy --strict on the library and its shells, the layer contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy scalar_ray actors jobs serve commands
	$(BIN)/lint-imports

format: setup ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

up: setup ## start the local stack
	$(BIN)/scalar-ray local up
status: setup ## probe the local stack
	$(BIN)/scalar-ray local status
down: ## stop the local stack
	$(BIN)/scalar-ray local down

lock: ## re-resolve the dependency set from pyproject.toml and rewrite constraints.txt
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv && .lock-venv/bin/pip install -q -e ".[dev]"
	{ head -2 constraints.txt; .lock-venv/bin/pip freeze --exclude-editable | grep -v '^scalar-ray'; } > constraints.new
	mv constraints.new constraints.txt && rm -rf .lock-venv

bench: setup ## run the benchmarks in bench/ and write docs/benchmarks.md
	$(BIN)/python -m bench

clean: down ## remove the local data directory and build stamps (keeps the venv)
	rm -rf .scalar $(STAMPS)
