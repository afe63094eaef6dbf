# The two commands: `make run` (the CRM with demo data, worker and beat) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install run test lint format bench messages screenshots clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	PORT=$(PORT) scripts/run-embedded

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/run.py

# Refresh the Dutch and Romanian catalogues from the sources, then compile them (needs gettext);
# translate the new entries in locale/*/LC_MESSAGES/django.po and commit both .po and .mo.
screenshots: install
	E2E_SCREENSHOTS=1 $(VENV)/bin/pytest tests/e2e

messages: install
	$(PY) manage.py makemessages -l nl -l ro --no-location --ignore='.venv/*' --ignore='var/*' \
		--ignore='tests/*' --ignore='bench/*' --ignore='templates/admin/*' --ignore='scripts/*'
	$(PY) manage.py compilemessages --ignore='.venv/*'

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
