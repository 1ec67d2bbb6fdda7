# The two commands of the quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo run test lint lock profiles-check bench clean docs screenshot

setup: $(VENV)/.installed

# constraints.txt pins every package to the version the suite passed with
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

demo: setup
	$(VENV)/bin/gateway demo

run: setup
	$(VENV)/bin/gateway run

test: setup
	$(VENV)/bin/gateway profiles check
	$(VENV)/bin/mkdocs build --strict --site-dir site
	$(PY) -m pytest -q

# docs/configuration.md is generated from gateway/settings.py; then the site, into site/
docs: setup
	$(PY) docs/gen_configuration.py
	$(VENV)/bin/mkdocs build --strict --site-dir site

# docs/images/demo-dashboard.png: the real demo's dashboard in Chromium, once it shows content
screenshot: setup
	$(PY) docs/gen_screenshot.py

lint: setup
	$(VENV)/bin/ruff check gateway tests bench
	$(VENV)/bin/mypy

# After `make test` passed with other versions installed in the venv: pin those.
lock: setup
	{ grep '^#' constraints.txt; $(VENV)/bin/pip freeze --exclude-editable | grep -v '^#'; } \
		> constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache gateway.db gateway.db-wal gateway.db-shm
