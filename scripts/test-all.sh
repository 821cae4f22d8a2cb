#!/usr/bin/env bash
# The body of `make test` once the services are up and the venv is synced: the Python suite
# (SQLite, then PostgreSQL + Redis) in the foreground, and beside it
#   - the web app's build and its browser tests (at normal priority: they are the longest chain
#     and time-sensitive, so they go first and finish early), then
#   - the linters, type checks, ESLint, tsc, Vitest and the API client check, at nice 10: at
#     equal priority they took CPU from the Python tests (the SQLite pass went from 230 to
#     351 s) instead of filling what the tests leave idle.
# Their output is held in logs printed after the Python suite. Why beside at all: the Python
# passes leave part of two cores idle (process starts, servers starting, the sleeps of timing
# and retry tests), and one after the other the whole run took 691 s (docs/testing.md).
# The exit status is non-zero when any part failed; every part runs to the end.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d "${TMPDIR:-/tmp}/postwise-checks.XXXXXX")
trap 'rm -rf "$logs"' EXIT
started=$SECONDS
m() { make --no-print-directory "$@"; }

(
  nice -n 10 make --no-print-directory lint typecheck
  status=$?
  echo "(finished $((SECONDS - started)) s after the start)"
  exit $status
) >"$logs/python-checks" 2>&1 &
python_checks=$!

(
  # npm ci and the build first: the unit checks need node_modules, and two makes must not run
  # npm ci at once.
  m web/out/index.html || exit 1
  (
    nice -n 10 make --no-print-directory test-web-unit
    status=$?
    echo "(finished $((SECONDS - started)) s after the start)"
    exit $status
  ) >"$logs/web-unit" 2>&1 &
  unit=$!
  m test-e2e
  e2e=$?
  wait "$unit"
  unit_status=$?
  echo "(finished $((SECONDS - started)) s after the start)"
  [ $e2e -eq 0 ] && [ $unit_status -eq 0 ]
) >"$logs/web" 2>&1 &
web=$!
echo "== linters, type checks and the web app: running beside the Python suite =="

m test-python
python_status=$?

wait "$python_checks"
python_checks_status=$?
wait "$web"
web_status=$?
echo "== linters and type checks =="
cat "$logs/python-checks"
echo "== the web app: build and browser tests =="
cat "$logs/web"
echo "== the web app: ESLint, tsc, Vitest, the API client =="
cat "$logs/web-unit" 2>/dev/null || echo "(not run: the build failed)"
status=0
if [ $python_status -ne 0 ]; then echo "the Python suite failed"; status=1; fi
if [ $python_checks_status -ne 0 ]; then echo "the linters or type checks failed"; status=1; fi
if [ $web_status -ne 0 ]; then echo "the web checks failed"; status=1; fi
exit $status
