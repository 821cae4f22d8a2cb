#!/usr/bin/env bash
# Run the Python suite on one backend: sqlite (embedded default) or postgres (PostgreSQL + Redis).
# - sqlite runs every test; postgres runs only the tests marked `backend` (those reaching the
#   database, the Store, jobs or events: tests/conftest.py refuses a test that uses those
#   fixtures without the marker), since pure tests would only repeat the first pass.
# - pytest-xdist spreads the tests over one process per core plus one (PYTEST_WORKERS overrides; 0 runs
#   in this process). Each worker has its own databases, Dovecot, SMTP server and Store prefixes;
#   the auth tests stay together in one worker (their last test greps their shared log file).
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

# One worker more than cores: about a third of a pass is waiting (process starts, servers,
# sleeps in the tests of timing and retries), which a third worker fills on two cores. Measured
# side by side (2026-12-07): SQLite 256 -> 230 s, PostgreSQL + Redis 273 -> 238 s.
workers=${PYTEST_WORKERS:-$(( $(nproc) + 1 ))}
args=(--durations=15 --durations-min=1)
if [ "$workers" != 0 ]; then
  args+=(-n "$workers" --dist loadgroup)
fi
if [ "$backend" = postgres ]; then
  args+=(-m backend)
fi

echo "== Python suite on $backend =="
started=$SECONDS
POSTWISE_TEST_BACKEND=$backend .venv/bin/pytest "${args[@]}" "$@"
status=$?
echo "pytest ($backend): $((SECONDS - started)) s"
if [ $status -eq 5 ]; then
  echo "pytest ($backend): no tests were collected"
  status=0
fi
exit $status
