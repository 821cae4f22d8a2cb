#!/usr/bin/env bash
# The body of `make test` once the services are up and the venv is synced: the Python suite
# (SQLite, then PostgreSQL + Redis) in the foreground, and beside it, at nice 10,
#   - the linters and type checks, and
#   - the web app: npm ci and the build, the browser tests (first: the longest chain, so it
#     ends while the Python suite still runs), then ESLint, tsc, Vitest and the API client check.
# Why beside: the Python passes leave part of two cores idle (process starts, servers starting,
# the sleeps of timing and retry tests); one after the other the whole run took 691 s. Why
# nice: at equal priority the checks took CPU from the Python tests instead of filling what
# they leave idle (the SQLite pass went from 230 to 351 s, and to 410 s with only the build
# and the browser tests at equal priority). docs/testing.md has the runs.
# Their output is held in logs printed after the Python suite's. The exit status is non-zero
# when any part failed; every part runs to the end.
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
  nice -n 10 make --no-print-directory test-e2e && e2e=0 || e2e=$?
  nice -n 10 make --no-print-directory test-web-unit && unit=0 || unit=$?
  echo "(finished $((SECONDS - started)) s after the start)"
  [ $e2e -eq 0 ] && [ $unit -eq 0 ]
) >"$logs/web" 2>&1 &
web=$!
echo "== linters, type checks and the web app: running beside the Python suite =="

# -k: the PostgreSQL pass runs even when the SQLite pass failed, so one run shows both.
m -k test-python
python_status=$?

wait "$python_checks"
python_checks_status=$?
wait "$web"
web_status=$?
echo "== linters and type checks =="
cat "$logs/python-checks"
echo "== the web app: build, browser tests, ESLint, tsc, Vitest, the API client =="
cat "$logs/web"
status=0
if [ $python_status -ne 0 ]; then echo "the Python suite failed"; status=1; fi
if [ $python_checks_status -ne 0 ]; then echo "the linters or type checks failed"; status=1; fi
if [ $web_status -ne 0 ]; then echo "the web checks failed"; status=1; fi
exit $status
