#!/usr/bin/env bash
# Both Python passes at once: SQLite, and PostgreSQL + Redis (scripts/pytest.sh runs one).
# - Each pass alone leaves about a quarter of the two cores idle (process starts, servers, the
#   sleeps of the timing and retry tests), and its last minute runs on fewer workers than it has.
#   Side by side, each with one worker per core, they fill each other's gaps: measured in the same
#   hour on this machine kind (2026-12-07), 214 + 201 = 415 s one after the other against 338 s
#   together, with less CPU in all (541 s against 630 s: four workers contend less for the
#   database files and caches than the passes' three did).
# - Everything a test reaches is already private to its worker (databases, Store prefixes,
#   Dovecot, SMTP and HTTP ports), and the PostgreSQL pass's database names are random, so the
#   passes cannot see each other's data.
# - Each line is shown as it comes, prefixed with its pass; a pass that fails is then printed
#   again whole, so its failures read without the other pass's lines between them.
# PYTEST_WORKERS sets each pass's workers (default: one per core).
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
export PYTEST_WORKERS=${PYTEST_WORKERS:-$(nproc)}
started=$SECONDS

run_pass() {
  local backend=$1
  scripts/pytest.sh "$backend" "${@:2}" 2>&1 | tee "$logs/$backend.log" | sed -u "s/^/$backend | /"
}

run_pass sqlite "$@" &
sqlite_pid=$!
run_pass postgres "$@" &
postgres_pid=$!
wait "$sqlite_pid"; sqlite_status=$?
wait "$postgres_pid"; postgres_status=$?

status=0
for backend in sqlite postgres; do
  var="${backend}_status"
  if [ "${!var}" != 0 ]; then
    status=1
    echo
    echo "==================== the $backend pass failed; its whole output ===================="
    cat "$logs/$backend.log"
  fi
done
echo "Python suite (both passes at once): $((SECONDS - started)) s"
exit $status
