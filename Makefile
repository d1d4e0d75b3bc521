# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install run test lint fuzz services bench clean

$(VENV)/.installed: pyproject.toml sdk/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]" -e ./sdk
	touch $@

install: $(VENV)/.installed

run: install
	scripts/run.sh

services:
	scripts/services.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py check

test: install services lint
	$(PY) -m pytest

fuzz: install services
	$(PY) -m pytest tests/test_openapi_fuzz.py

# Performance figures against the real stack on this machine (bench/run.py; BENCH_ARGS=--profile
# adds py-spy profiles). wrk comes from apt when possible, else a Python load generator is used.
$(VENV)/.bench-installed: $(VENV)/.installed
	$(VENV)/bin/pip install -q -e ".[dev,bench]"
	touch $@

bench: install services $(VENV)/.bench-installed
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get install -y -q wrk || { apt-get update -q && apt-get install -y -q wrk; }; } >/dev/null 2>&1; } || \
	  echo "bench: wrk is not available; figure 1 uses the Python load generator"
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
