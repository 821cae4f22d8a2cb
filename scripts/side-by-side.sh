#!/usr/bin/env bash
# Run commands at once and show each one's output whole, as a block, when it ends:
#   scripts/side-by-side.sh NAME COMMAND [NAME COMMAND ...]
# Fails when any command fails, after every command has ended (each block says how it ended).
# `make test` uses it for the web checks beside the browser tests: the browser tests wait on a
# server and chromium most of the time (measured alone: 84 s wall, 23 s CPU), which leaves a
# core to the type checks, ESLint and Vitest.
set -uo pipefail
if [ $(( $# % 2 )) != 0 ] || [ $# = 0 ]; then
  echo "usage: $0 NAME COMMAND [NAME COMMAND ...]" >&2
  exit 2
fi
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
names=()
pids=()
while [ $# -gt 0 ]; do
  name=$1 command=$2
  shift 2
  names+=("$name")
  # Each command writes its log, then its status, so the reporter below can tell which ended.
  ( started=$SECONDS; bash -c "$command" > "$logs/$name.log" 2>&1; status=$?
    echo "$status $((SECONDS - started))" > "$logs/$name.status" ) &
  pids+=($!)
  echo "started: $name ($command)"
done

status=0
shown=()
while [ ${#shown[@]} -lt ${#names[@]} ]; do
  for name in "${names[@]}"; do
    if [ -f "$logs/$name.status" ] && [[ " ${shown[*]-} " != *" $name "* ]]; then
      read -r code took < "$logs/$name.status"
      echo "==================== $name: exit $code after $took s ===================="
      cat "$logs/$name.log"
      [ "$code" = 0 ] || status=1
      shown+=("$name")
    fi
  done
  sleep 1
done
wait "${pids[@]}"
exit $status
