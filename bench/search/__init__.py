"""Search latency: a mix of Gmail-style queries through Postwise's HTTP API (`GET /api/search`)
next to `notmuch search` on the same generated Maildir, in the same run.

Run from the repository root: `.venv/bin/python -m bench.search` (see docs/benchmarks.md).
"""
