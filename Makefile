# Anclora Converter — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed
LOCALSTRIPE_VENV := .venv-localstripe
LOCALSTRIPE_STAMP := $(LOCALSTRIPE_VENV)/.installed

.PHONY: run test install localstripe migrate seed messages lint bench clean

$(STAMP): requirements/base.txt requirements/dev.txt requirements/prod.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt -r requirements/prod.txt
	touch $(STAMP)

# localstripe (offline Stripe for tests and `make run`) lives in its own venv: its dependencies
# conflict with the app's.
$(LOCALSTRIPE_STAMP): requirements/localstripe.txt
	test -x $(LOCALSTRIPE_VENV)/bin/python || $(PYTHON) -m venv $(LOCALSTRIPE_VENV)
	$(LOCALSTRIPE_VENV)/bin/python -m pip install --quiet -r requirements/localstripe.txt
	touch $(LOCALSTRIPE_STAMP)

localstripe: $(LOCALSTRIPE_STAMP)

install: $(STAMP) $(LOCALSTRIPE_STAMP)

migrate: install
	@$(PY) manage.py migrate --check >/dev/null 2>&1 || \
	  echo "Applying database migrations (the first time dj-stripe's take about 2-3 minutes)..."
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed

# Compiled catalogs are committed; this rebuilds them after editing the .po files.
messages: install
	$(PY) manage.py compilemessages --ignore=.venv

run: seed
	PORT=$(PORT) bash scripts/run.sh

# On every core (pytest-xdist; each worker gets its own test database, test_<name>_gw0, ...);
# `make test PYTEST_WORKERS=0` runs in one process.
# Schemathesis' generated tests collapse to one item per test under xdist workers (its operations are not
# collected as items there), so that file runs in one process after the rest.
PYTEST_WORKERS ?= auto
SCHEMATHESIS_TESTS := anclora/core/tests/test_schemathesis.py
test: install
ifeq ($(strip $(PYTEST_ARGS)),)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --ignore=$(SCHEMATHESIS_TESTS)
	$(PY) -m pytest -n 0 $(SCHEMATHESIS_TESTS)
else
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)
endif

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf var .pytest_cache .ruff_cache
