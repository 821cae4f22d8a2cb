"""Mail sync: Postwise's full initial sync of a generated mailbox served by Dovecot, next to
mbsync downloading the same mailbox in the same run; and the time to the first 50 inbox
messages of a large INBOX.

Run from the repository root: `.venv/bin/python -m bench.sync` (see docs/benchmarks.md).
"""
