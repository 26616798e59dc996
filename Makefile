# Set up and run the Magog cohesion model.
#   make run    create .venv if missing, then compare every scenario at scale 1 (see README)
#   make test   create .venv if missing, then run the whole test suite
#   make lint   check the code with ruff (lint and format; `ruff format` and `ruff check --fix` repair)
#   make viz    serve the interactive model in the browser (http://127.0.0.1:8765)
#   make install  (re)create the environment
# PYTHON=/path/to/python3.12 overrides the interpreter search.

SHELL := /bin/bash
VENV  := .venv
VPY   := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# First Python >= 3.12: $(PYTHON) if given, else on PATH, else from pyenv.
define find_python
for c in python3.12 python3.13 python3 python; do \
  p=$$(command -v $$c 2>/dev/null) || continue; \
  "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$$p"; exit 0; }; \
done; \
root=$$(pyenv root 2>/dev/null || echo "$$HOME/.pyenv"); \
for p in "$$root"/versions/3.12*/bin/python3.12 "$$root"/versions/3.13*/bin/python3.13; do \
  [ -x "$$p" ] && "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$$p"; exit 0; }; \
done; exit 1
endef
PYTHON ?= $(shell $(find_python))

.PHONY: install run test test-fast lint benchmark clean viz chromium

$(STAMP): pyproject.toml .ci/solara_assets.py
	@if [ -z "$(PYTHON)" ]; then echo "error: no Python >= 3.12 found; install one or pass PYTHON=/path/to/python3.12" >&2; exit 2; fi
	@echo "Creating $(VENV) with $(PYTHON)"
	"$(PYTHON)" -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[test,browser]'
	$(VPY) .ci/solara_assets.py --quiet  # Solara's front-end files, from the npm registry
	$(VPY) -m experiments.kernels  # compile the model's kernels once (about a minute), so the first run is not silent
	@touch $(STAMP)

install:
	rm -f $(STAMP)
	$(MAKE) $(STAMP)

# The Magog comparison: every scenario of configs/scenarios/ at scale 1, 2003-2018, on all
# cores, REPLICATES runs each with common random numbers (20: with fewer than 14 pairs no
# change can pass the Holm correction over the ten scenarios' table; about 15-25 minutes
# on 2 cores; `cohesion compare` without --replicates applies the stability rule, >= 20).
REPLICATES ?= 20
run: $(STAMP)
	$(VENV)/bin/cohesion compare --scale 1 --replicates $(REPLICATES)

CHROMIUM := /usr/bin/chromium
# Debian's Chromium for the browser tests; Playwright never downloads a browser.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# `make test` and `make test-fast` list the 15 slowest tests at the end, so that a test
# that grows slow is seen.
test: $(STAMP) chromium
	$(VPY) -m pytest -q --durations=15

viz: $(STAMP)
	$(VENV)/bin/cohesion viz

test-fast: $(STAMP)
	$(VPY) -m pytest -q --durations=15 -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

benchmark: $(STAMP)
	$(VPY) benchmarks/bench_step.py

clean:
	rm -rf $(VENV) .pytest_cache
