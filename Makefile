# pgdeck: `make run` to try it, `make test` to check it. Everything installs itself from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: architecture screenshots run serve test lint pytest browser-deps bench load db-start db-stop migrate demo manage alembic clean-venv test-pgbouncer pgbouncer-deps test-pg15 wrk-deps fuzz

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(RUN_STAMP): requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(RUN_STAMP)

db-start: $(RUN_STAMP)
	$(PY) -m config.embedded start

db-stop: $(RUN_STAMP)
	$(PY) -m config.embedded stop

migrate: $(RUN_STAMP)
	$(PY) manage.py migrate --noinput

# Migrations, pg_stat_statements, query role, demo admin and a small demo data set, in one process (one Django
# start-up instead of four); every step is a no-op when already done.
demo: $(RUN_STAMP)
	$(PY) manage.py prepare_demo

# Any manage.py command without activating the virtualenv: make manage ARGS="list_api_keys"
manage: $(RUN_STAMP)
	$(PY) manage.py $(ARGS)

# The Alembic bridge (docs/migrations.md): make alembic ARGS="current"
alembic: $(RUN_STAMP)
	$(PY) manage.py alembic $(ARGS)

# The dev server and a job worker (manage.py worker: backups, verifies, schedules); Ctrl-C stops both.
# Django's system checks run once, in the worker (niced, beside the server's start-up), not in both: the server
# starts with --skip-checks; its autoreloader's parent does not set Django up (manage.py). docs/benchmarks.md.
run: demo
	@echo "pgdeck is serving http://$(HOST):$(PORT)/admin/ — log in as admin (password printed above on first run, or DEMO_ADMIN_PASSWORD). Ctrl-C stops it; make db-stop stops PostgreSQL."
	@nice -n 10 $(PY) manage.py worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(PY) manage.py runserver --skip-checks $(HOST):$(PORT)

serve: demo
	$(PY) manage.py collectstatic --noinput -v 0
	@$(PY) manage.py worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/gunicorn config.wsgi:application --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-3} --access-logfile -

# Debian's chromium for the browser tests (Playwright cannot download its own browser here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else sudo apt-get update -q && sudo apt-get install -y -q chromium; fi; }

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

# Two workers (pytest-xdist): each gets its own test database; CI has 2 cores. loadfile keeps a module on one
# worker, as its module-scoped fixtures (a throw-away cluster, a live server) expect.
PYTEST_ARGS ?= -n 2 --dist loadfile
pytest: $(DEV_STAMP) browser-deps
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest $(PYTEST_ARGS) -m "not alone"
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest -q -p no:cacheprovider -m alone

test: lint pytest test-pgbouncer test-pg15

# Redraw the layers picture in docs/architecture.md from pyproject.toml's import-linter contracts.
architecture:
	$(PY) -m config.architecture

# Refresh the screenshots in docs/screenshots/ on purpose (make test writes them to the ignored test-results/).
screenshots: $(DEV_STAMP) browser-deps
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest -q tests/browser

bench: $(DEV_STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m bench

clean-venv:
	rm -rf $(VENV)

# The DB-heavy part of the suite through PgBouncer in transaction mode (DB_PGBOUNCER=1: no app-side pool,
# no server-side cursors). `make test` runs it too. PgBouncer keeps up to default_pool_size (20) server
# connections per database for the shared query role, and two xdist workers use two databases: the role's
# CONNECTION LIMIT must be above that, or PgBouncer's server logins fail (a 503).
PGBOUNCER_TESTS ?= tests/blog tests/api tests/accounts tests/query
pgbouncer-deps:
	@command -v pgbouncer >/dev/null 2>&1 || test -x /usr/sbin/pgbouncer || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q pgbouncer; \
	  else sudo apt-get update -q && sudo apt-get install -y -q pgbouncer; fi; }

test-pgbouncer: $(DEV_STAMP) pgbouncer-deps
	@url=$$($(PY) -m config.pgbouncer start) || exit 1; echo "through PgBouncer: $$url"; \
	DATABASE_URL=$$url DB_PGBOUNCER=1 QUERY_ROLE_CONNECTION_LIMIT=100 TEST_DATABASE_NAME=test_pgdeck_bouncer DJANGO_SETTINGS_MODULE=config.settings.test \
	  $(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile --reuse-db $(PGBOUNCER_TESTS); status=$$?; \
	$(PY) -m config.pgbouncer stop; exit $$status

# The version-sensitive part of the suite (catalog queries, pg_dump/pg_restore choice) on the PostgreSQL 15
# service as well, when one answers at PG15_URL's host (CI machines have it). `make test` runs it too.
PG15_URL ?= postgresql://postgres@127.0.0.1:5432/pgdeck_pg15
PG15_TESTS ?= tests/blog tests/monitoring tests/backups
test-pg15: $(DEV_STAMP)
	@if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2).close()" 2>/dev/null; then \
	  DATABASE_URL=$(PG15_URL) TEST_DATABASE_NAME=test_pgdeck_pg15 DJANGO_SETTINGS_MODULE=config.settings.test \
	    $(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile $(PG15_TESTS); \
	else echo "test-pg15: no PostgreSQL at 127.0.0.1:5432, not run"; fi
# Load (issue 9): gunicorn with several workers on 127.0.0.1 and Debian's wrk for a fixed time per endpoint;
# writes the `load` section of docs/benchmarks.md (bench/load.py). LOAD_SECONDS=8 per endpoint by default.
wrk-deps:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q wrk; \
	  else sudo apt-get update -q && sudo apt-get install -y -q wrk; fi; }

load: $(DEV_STAMP) wrk-deps
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m bench.load

# API fuzzing, long budget: schemathesis with every check against a live gunicorn (tests/api/live_fuzz.py); fails
# on any failure or when fewer than FUZZ_MIN_CASES cases ran. `make test` runs the short in-process budget
# (tests/api/test_fuzz.py). FUZZ_SECONDS=900 by default; FUZZ_SEED=<n> replays a run.
FUZZ_SECONDS ?= 900
FUZZ_MIN_CASES ?= 10000
fuzz: $(DEV_STAMP)
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_MIN_CASES=$(FUZZ_MIN_CASES) DJANGO_SETTINGS_MODULE=config.settings.test \
	  $(PY) -m tests.api.live_fuzz
