#!/usr/bin/env bash
# The body of `make test` once the services are up: the Python suite (SQLite, then PostgreSQL +
# Redis) in the foreground, and beside it the linters, type checks and the web app's checks
# (npm ci, build, ESLint, tsc, Vitest, the API types, the browser tests) with their output held
# in a log that is printed after the Python suite.
# Why beside: the Python passes leave about a fifth of two cores idle (process starts, servers
# starting, the sleeps of timing and retry tests) and the web checks are mostly one node process;
# one after the other they took 691 s, side by side see docs/testing.md. They run at a lower
# priority (nice 10): at equal priority they took CPU from the tests (the SQLite pass went from
# 230 to 351 s) instead of filling what the tests leave idle.
# The exit status is non-zero when either side failed; both always run to the end.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp "${TMPDIR:-/tmp}/postwise-checks.XXXXXX")
trap 'rm -f "$log"' EXIT

started=$SECONDS
nice -n 10 make --no-print-directory lint typecheck test-web >"$log" 2>&1 &
checks=$!
echo "== linters, type checks and the web app: running beside the Python suite =="

make --no-print-directory test-python
python_status=$?

wait "$checks"
checks_status=$?
echo "== linters, type checks and the web app (finished after $((SECONDS - started)) s) =="
cat "$log"
if [ $python_status -ne 0 ]; then echo "the Python suite failed"; fi
if [ $checks_status -ne 0 ]; then echo "the linters, type checks or web checks failed"; fi
[ $python_status -eq 0 ] && [ $checks_status -eq 0 ]
