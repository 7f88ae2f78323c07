# Mediation: `make run` serves the demo on SQLite; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
VENDOR := static/vendor

.PHONY: run run-cluster test setup setup-dev browser lint bench clean translations-compile translations-update

run: setup instance/settings.py
	$(FLASK) db upgrade
	MEDIATION_DEMO=1 $(FLASK) mediation demo
	MEDIATION_DEMO=1 $(FLASK) mediation serve

# Several processes: gunicorn (gevent) web processes and background workers on PostgreSQL and Redis. The
# defaults are the local services; set MEDIATION_DATABASE_URL / MEDIATION_REDIS_URL to use others.
WEB ?= 2
WORKERS ?= 1
run-cluster: export MEDIATION_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1/mediation
run-cluster: export MEDIATION_REDIS_URL ?= redis://127.0.0.1:6379/0
run-cluster: setup instance/settings.py
	$(FLASK) mediation create-database
	$(FLASK) db upgrade
	MEDIATION_DEMO=1 $(FLASK) mediation demo
	MEDIATION_DEMO=1 $(FLASK) mediation cluster --web $(WEB) --workers $(WORKERS)

test: setup-dev browser
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

setup: $(VENV)/.runtime $(VENDOR)/.installed translations-compile

setup-dev: setup $(VENV)/.dev

$(VENV)/.runtime: requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# Front-end packages come from npm at set-up time and are copied into the (ignored) static/vendor.
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/swagger-ui
	cp node_modules/socket.io-client/dist/socket.io.min.js node_modules/chart.js/dist/chart.umd.js $(VENDOR)/
	cp node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/swagger-ui-bundle.js \
	   node_modules/swagger-ui-dist/swagger-ui-standalone-preset.js $(VENDOR)/swagger-ui/
	touch $@

# Message catalogues: the .po files are committed, the compiled .mo files (ignored) are made at set-up.
translations-compile: $(VENV)/.runtime
	$(BIN)/pybabel compile -d translations -f

# For developers after changing user-facing strings: re-extract (see babel.cfg), merge into each .po,
# then translate what is new or fuzzy and run `make translations-compile`.
translations-update: $(VENV)/.runtime
	$(BIN)/pybabel -q extract -F babel.cfg --project=Mediation -o translations/messages.pot .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations --previous

# A secret of this installation, made once.
instance/settings.py:
	mkdir -p instance
	$(PYTHON) -c "import secrets; print('SECRET_KEY = %r' % secrets.token_urlsafe(48))" > $@

# End-to-end tests drive Debian's Chromium; install it where we may, else those tests skip and say why.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: browser tests will skip"; fi

lint: setup-dev
	$(BIN)/ruff check .

# Every benchmark, one after the other (about 25 minutes; each prints its ratios and writes bench/results/).
bench: setup-dev
	$(BIN)/python bench/room.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/history.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR)
