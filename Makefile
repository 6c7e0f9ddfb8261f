# `make sweep` and `make test` each create .venv if missing, install with the pinned constraints, run.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: sweep test test-fast lint bench install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

sweep: $(STAMP)
	$(PY) scripts/sweep.py $(ARGS)

test: lint
	$(PY) -m pytest tests --durations=15 $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check autolearn tests benchmarks scripts examples
	$(VENV)/bin/mypy

test-fast: $(STAMP)
	$(PY) -m pytest tests -m "not slow and not cluster" $(ARGS)

bench: $(STAMP)
	$(PY) benchmarks/seed_overhead.py

clean:
	rm -rf $(VENV) runs .pytest_cache
