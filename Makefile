# The two commands of the quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo run test lint profiles-check bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: setup
	$(VENV)/bin/gateway demo

run: setup
	$(VENV)/bin/gateway run

test: setup
	$(VENV)/bin/gateway profiles check
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check gateway tests bench
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache gateway.db gateway.db-wal gateway.db-shm
