"""Login throughput against the argon2id limit, and /api/users/me latency under a login flood.

Run from the repository root: `.venv/bin/python -m bench.auth` (see docs/benchmarks.md).
"""
