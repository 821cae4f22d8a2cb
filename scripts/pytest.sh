#!/usr/bin/env bash
# Run the Python suite on one backend: sqlite (embedded default) or postgres (PostgreSQL + Redis).
# The postgres pass needs both services; without them it is skipped with one line, except under
# CI=true where that is a failure. pytest's exit code 5 (nothing collected) is not a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
shift || true

if [ "$backend" = postgres ] && ! missing=$(.venv/bin/python -m tests.services); then
  if [ "${CI:-}" = true ]; then
    echo "pytest (postgres): missing $missing (CI=true requires them)"; exit 1
  fi
  echo "SKIPPED Python suite on PostgreSQL + Redis: missing $missing"; exit 0
fi

echo "== Python suite on $backend =="
POSTWISE_TEST_BACKEND=$backend .venv/bin/pytest "$@"
status=$?
if [ $status -eq 5 ]; then
  echo "pytest ($backend): no tests were collected"
  status=0
fi
exit $status
