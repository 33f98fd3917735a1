# mcsim: developer and CI entry points. `make test` works on a fresh clone on a fresh machine.
#
#   make venv    .venv with Python 3.12 and `-e .[dev]`, Solara's front-end assets made local
#   make run     the shipped default scenario          (make run ARGS="--seed 3 --json")
#   make test    browser set-up + the test suite       (make test PYTEST_ARGS="-k triage")
#   make app     the Solara app, offline-capable       (make app ARGS="--port 8765")
#   make bench   every benchmarks/*.py script
#   make lint    ruff check
#   make clean   caches and build/test outputs (keeps .venv)

SHELL := /bin/bash
.DEFAULT_GOAL := test

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mcsim-installed
EXTRAS ?= dev
ARGS ?=
# The suite runs in two passes: every test but the browser ones on TEST_WORKERS processes
# (pytest-xdist; those tests isolate their files, ports and processes), then the browser tests
# one at a time, so that one app server and one Chromium at a time keep their waits honest.
# PYTEST_ARGS goes to both passes (a pass that selects nothing is not a failure).
PYTEST_ARGS ?=
TEST_WORKERS ?= 2

# Python 3.12: `python3.12` only if it really runs (a pyenv shim whose version is not selected
# is on PATH but fails), else the newest pyenv 3.12.x.
PYTHON312 ?= $(shell \
	if command -v python3.12 >/dev/null 2>&1 && python3.12 -c 'import sys' >/dev/null 2>&1; then \
		command -v python3.12; \
	else \
		ls -1d /root/.pyenv/versions/3.12*/bin/python3.12 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 2>/dev/null \
			| sort -V | tail -n 1; \
	fi)

# Solara, for the app and the browser tests: front-end assets come from the local install
# (tools/solara_assets.py → viz/assets.py), production mode (no "check" iframe to solara.dev), no telemetry.
export SOLARA_MODE ?= production
export SOLARA_TELEMETRY_MIXPANEL_ENABLE ?= false

# CI runs `bash .ci/run` with CI=true: browser tests that would skip must fail there.
ifneq ($(strip $(CI)),)
export MCSIM_REQUIRE_BROWSER ?= 1
endif

.PHONY: venv run test app bench lint clean browser assets

venv: $(STAMP)

# Re-installs only when pyproject.toml (or the asset script) changes.
$(STAMP): pyproject.toml tools/solara_assets.py viz/assets.py
	@if [ -z "$(PYTHON312)" ]; then \
		echo "error: Python 3.12 not found: neither a working 'python3.12' on PATH nor" \
		     "/root/.pyenv/versions/3.12*/bin/python3.12 (install it, or: make PYTHON312=/path/to/python3.12)" >&2; \
		exit 1; \
	fi
	@if ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; then \
		echo "creating $(VENV) with $(PYTHON312)"; \
		$(PYTHON312) -m venv --clear $(VENV); \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	@# hatchling's editable install is a .pth with the repo root: packages created after the
	@# install (viz/, subpackages) import without re-installing, from any directory.
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	@if $(PY) -c 'import solara' >/dev/null 2>&1; then $(PY) tools/solara_assets.py; fi
	@touch $(STAMP)

# Complete (or repair) the local Solara assets without reinstalling.
assets: venv
	$(PY) tools/solara_assets.py

# Debian's chromium for the browser tests (Playwright drives it; never `playwright install`).
browser:
	@if [ -x /usr/bin/chromium ]; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (Debian) for the browser tests"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "warning: /usr/bin/chromium is missing and we cannot install it (not root, or no" \
		     "apt-get): browser tests will be skipped (apt-get install chromium)"; \
	fi

run: venv
	$(VENV)/bin/mcsim run $(ARGS)

test: venv browser
	$(PY) -m pytest -m "not browser" -n $(TEST_WORKERS) $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]
	$(PY) -m pytest -m browser $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]

app: venv
	$(VENV)/bin/mcsim app $(ARGS)

bench: venv
	@shopt -s nullglob; files=(benchmarks/*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks/*.py"; fi; \
	for f in "$${files[@]}"; do echo "== $$f"; $(PY) "$$f" || exit 1; done

lint: venv
	$(VENV)/bin/ruff check .

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .hypothesis tests/output \
		benchmarks/output out results
	find . -path ./$(VENV) -prune -o \
		\( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +
