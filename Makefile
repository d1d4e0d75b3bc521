# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install run test lint fuzz services clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]"
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

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
