# The two commands a new user needs: `make run` and `make test`.
# Only Python >= 3.11 and make are required; everything else goes into .venv.

PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
# The newest Python 3.11+ on PATH, unless PYTHON is given.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; \
	then echo $$p; break; fi; done)

.PHONY: run test lint format bench translations update-translations clean

# Upgrades the database, loads the demo data into an empty one, serves on
# 127.0.0.1 and runs the worker beside it (notifications, long jobs, periodic
# work); Ctrl-C stops both. Links in e-mails the worker sends lead to this
# server unless QUALIPLAN_PUBLIC_URL says otherwise.
run: $(VENV)/.installed translations
	$(BIN)/qualiplan db upgrade
	$(BIN)/qualiplan demo --if-empty
	@export QUALIPLAN_PUBLIC_URL="$${QUALIPLAN_PUBLIC_URL:-http://127.0.0.1:$(PORT)}"; \
	$(BIN)/qualiplan worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	QUALIPLAN_INSECURE_COOKIES=1 $(BIN)/qualiplan run --host 127.0.0.1 --port $(PORT)

# The suite runs on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is
# set; one worker per core each time, each with a database of its own (in
# memory, or schemas of its own in that PostgreSQL database).
test: $(VENV)/.installed-test translations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	env -u TEST_DATABASE_URL -u QUALIPLAN_REQUIRE_POSTGRES $(BIN)/pytest -n auto --cov --cov-report=term:skip-covered
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== the suite again on PostgreSQL"; \
		$(BIN)/pytest -q -p no:cacheprovider -n auto; \
	elif [ -n "$$QUALIPLAN_REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL tests are required but TEST_DATABASE_URL is not set" >&2; exit 1; \
	else \
		echo "Note: TEST_DATABASE_URL is not set; the suite ran on SQLite only."; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.installed translations
	$(BIN)/python bench/plan_throughput.py
	$(BIN)/python bench/page_times.py
	$(BIN)/python bench/feed_times.py
	$(BIN)/python bench/pairing_times.py
	$(BIN)/python bench/certificate_times.py
	$(BIN)/python bench/notification_times.py
	$(BIN)/python bench/reminder_drain.py
	$(BIN)/python bench/job_page_times.py
	$(BIN)/python bench/credential_times.py
	@if command -v wrk >/dev/null; then $(BIN)/python bench/feed_http.py; \
	else echo "bench/feed_http.py skipped: wrk is not installed (Debian package wrk)"; fi

# Compile the message catalogs (German first, English second).
translations: $(VENV)/.installed
	@$(BIN)/pybabel --quiet compile -d app/translations

# Refresh the catalogs after changing texts: extract, then merge into each language.
update-translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k msg -k _l -k lazy_gettext --no-location --sort-output \
		--project=Qualiplan -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Qualiplan needs Python 3.11 or newer (python3.11, python3.12, ...) on PATH." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage
	find app/translations -name '*.mo' -delete
