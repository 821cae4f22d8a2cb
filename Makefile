# Postwise: `make run` serves the app on http://127.0.0.1:8000, `make test` runs everything.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
WEB_SOURCES := $(shell find web/src web/scripts web/public -type f 2>/dev/null) \
	web/next.config.ts web/package.json web/tsconfig.json
export NEXT_TELEMETRY_DISABLED := 1
export UV_PYTHON_DOWNLOADS := never
# Some machines (this project's CI among them) set PYTHONDONTWRITEBYTECODE=1, so every Python
# process compiled fastapi, SQLAlchemy, pydantic, scikit-learn, … from source again: importing the
# app cost 6.5 s of CPU instead of about 1.5 s, in every test worker, `postwise serve` and
# `postwise worker` the suite starts. The bytecode caches live in .venv and in gitignored
# __pycache__ folders, so letting Python write them changes nothing else.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: bench-ai bench-auth bench-compose bench-dashboard bench-mail bench-push bench-scale bench-soak bench-search bench-sync bench-web demo run serve test test-all test-checks test-web-unit test-python test-python-sqlite test-python-postgres test-web \
	test-e2e lint typecheck format services clean

## run: install what is missing, build the web app, migrate and serve (POSTWISE_* apply)
run: $(VENV)/.synced web/out/index.html
	$(BIN)/postwise migrate
	exec $(BIN)/postwise serve

## demo: a demo user with a mailbox of generated mail (see README)
demo: $(VENV)/.synced
	$(BIN)/postwise migrate
	$(BIN)/postwise demo

## test: the whole suite: linters, Python (SQLite and PostgreSQL + Redis at once), type checks and web checks beside the browser tests
test:
	@started=$$(date +%s); status=0; \
	$(MAKE) --no-print-directory test-all || status=$$?; \
	elapsed=$$(( $$(date +%s) - started )); \
	if [ $$status = 0 ]; then echo "make test: all checks passed in $$elapsed s"; \
	else echo "make test: FAILED after $$elapsed s"; fi; \
	exit $$status

# The web dependencies download beside the linters and the Python suite (network and disk,
# about 25 s from a fresh clone); the checks after the Python suite wait for them.
test-all: services
	@npm_log=$$(mktemp); \
	$(MAKE) --no-print-directory web/node_modules/.package-lock.json > "$$npm_log" 2>&1 & npm_pid=$$!; \
	status=0; $(MAKE) --no-print-directory lint test-python || status=$$?; \
	npm_status=0; wait $$npm_pid || npm_status=$$?; cat "$$npm_log"; rm -f "$$npm_log"; \
	[ $$status = 0 ] && [ $$npm_status = 0 ] && $(MAKE) --no-print-directory test-checks

# The type checks and web checks (CPU) beside the web build and browser tests (mostly waiting on
# a server and chromium): about 100 s together against 195 s one after the other.
test-checks: web/node_modules/.package-lock.json $(VENV)/.synced
	@scripts/side-by-side.sh \
		"types and web checks" "$(MAKE) --no-print-directory typecheck test-web-unit" \
		"web build and browser tests" "$(MAKE) --no-print-directory test-e2e"

$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || { echo "installing uv with pip"; $(PYTHON) -m pip install --quiet uv; }
	$(UV) sync --frozen
	@touch $@

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web/out/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

## services: install (as root) or start PostgreSQL, Redis, Chromium, Dovecot, mbsync, notmuch, nginx and Prometheus for the tests
services:
	@scripts/services.sh postgres redis chromium dovecot mbsync notmuch nginx prometheus || echo "some services are missing: tests that need them are skipped (see the summary)"

lint: $(VENV)/.synced
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.synced
	$(BIN)/mypy

## test-python: both Python passes at once (SQLite; PostgreSQL + Redis), see scripts/test-python.sh
test-python: $(VENV)/.synced
	@scripts/test-python.sh

test-python-sqlite: $(VENV)/.synced
	@scripts/pytest.sh sqlite

test-python-postgres: $(VENV)/.synced
	@scripts/pytest.sh postgres

## test-web: the web checks beside the web build and browser tests
test-web: web/node_modules/.package-lock.json $(VENV)/.synced
	@scripts/side-by-side.sh \
		"web checks" "$(MAKE) --no-print-directory test-web-unit" \
		"web build and browser tests" "$(MAKE) --no-print-directory test-e2e"

## test-web-unit: ESLint, tsc, Vitest and the generated API client's staleness check
test-web-unit: web/node_modules/.package-lock.json $(VENV)/.synced
	cd web && npm run lint && npm run typecheck && npm test && npm run check:api

test-e2e: web/out/index.html $(VENV)/.synced
	@if [ -x /usr/bin/chromium ]; then cd web && npm run e2e; \
	elif [ "$${CI:-}" = true ]; then echo "e2e: /usr/bin/chromium is missing (CI=true requires it)"; exit 1; \
	else echo "SKIPPED e2e browser test: /usr/bin/chromium is not installed (run make test as root to install it)"; fi

## bench-ai: local triage msg/s, sync with triage on vs off, 100,000-message backfill vs thread list p95, no second remote call on a re-sync (~15 min)
bench-ai: $(VENV)/.synced
	scripts/services.sh dovecot
	$(BIN)/python -m bench.ai --docs docs/benchmarks.md

## bench-auth: login throughput against the argon2id limit, /me latency under a login flood
bench-auth: $(VENV)/.synced
	$(BIN)/python -m bench.auth --docs docs/benchmarks.md

## bench-sync: full initial sync of 10,000 messages from Dovecot next to mbsync, first 50 of 100,000
bench-sync: $(VENV)/.synced
	scripts/services.sh dovecot mbsync
	$(BIN)/python -m bench.sync --docs docs/benchmarks.md

## bench-search: a mix of searches over 100,000 messages through the API next to notmuch search
bench-search: $(VENV)/.synced
	scripts/services.sh notmuch
	$(BIN)/python -m bench.search --docs docs/benchmarks.md

## bench-push: APPEND to Dovecot → event on the WebSocket, 200 messages
bench-push: $(VENV)/.synced
	scripts/services.sh dovecot
	$(BIN)/python -m bench.push --docs docs/benchmarks.md

## bench-soak: server memory under 200 WebSockets plus API load, three rounds and idle (10 min)
bench-soak: $(VENV)/.synced
	$(BIN)/python -m bench.soak --docs docs/benchmarks.md

## bench-web: the web app in chromium: first rows, opening threads, scrolling 100,000 threads, JS size
bench-web: $(VENV)/.synced web/out/index.html
	$(BIN)/python -m bench.web --docs docs/benchmarks.md

## bench-mail: GET /api/threads over 100,000 messages, idle and under 50 concurrent clients
bench-mail: $(VENV)/.synced
	$(BIN)/python -m bench.mail --docs docs/benchmarks.md

## bench-dashboard: GET /api/dashboard over 100,000 messages on SQLite (and PostgreSQL when it answers)
bench-dashboard: $(VENV)/.synced
	$(BIN)/python -m bench.dashboard --docs docs/benchmarks.md

## bench-compose: undo window → SMTP 250 over 100 sends, 500 queued messages draining (SQLite, PostgreSQL + Redis)
bench-compose: $(VENV)/.synced
	scripts/services.sh dovecot
	@scripts/services.sh postgres redis || echo "PostgreSQL or Redis is missing: measuring SQLite only"
	$(BIN)/python -m bench.compose --docs docs/benchmarks.md

## bench-scale: reads through nginx with one and with two API processes (PostgreSQL + Redis): req/s, p95 per route, speed-up
bench-scale: $(VENV)/.synced
	scripts/services.sh postgres redis nginx
	$(BIN)/python -m bench.scale --docs docs/benchmarks.md

format: $(VENV)/.synced
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

clean:
	rm -rf $(VENV) web/node_modules web/out web/.next
