"""The assistant's performance (issue 15): local triage throughput, the sync with triage on and
off, the backfill of a large mailbox while the thread list is read, and the remote provider's
cache on a re-sync.

Run from the repository root: `.venv/bin/python -m bench.ai [triage|sync|backfill|cache]`
(see docs/benchmarks.md, section Assistant).
"""
