# Set up and run the Magog cohesion model.
#   make run    create .venv if missing, then run the baseline (see README)
#   make test   create .venv if missing, then run the whole test suite
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

.PHONY: install run test test-fast benchmark clean

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "error: no Python >= 3.12 found; install one or pass PYTHON=/path/to/python3.12" >&2; exit 2; fi
	@echo "Creating $(VENV) with $(PYTHON)"
	"$(PYTHON)" -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install:
	rm -f $(STAMP)
	$(MAKE) $(STAMP)

run: $(STAMP)
	$(VENV)/bin/cohesion run

test: $(STAMP)
	$(VPY) -m pytest -q

test-fast: $(STAMP)
	$(VPY) -m pytest -q -m "not slow"

benchmark: $(STAMP)
	$(VPY) benchmarks/bench_step.py

clean:
	rm -rf $(VENV) .pytest_cache
