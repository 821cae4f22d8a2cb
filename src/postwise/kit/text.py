"""Patterns for text the API takes in, as `Field(pattern=...)` / `Query(pattern=...)`.

A pattern rather than a validator: the rule then also stands in the OpenAPI schema, for the
generated client and for the API fuzzer.
"""

from __future__ import annotations

# PostgreSQL's text types cannot hold NUL (U+0000): the driver refuses a string carrying one,
# and the request ended in a 500 (SQLite took it, so the same request worked there).
NO_NUL = r"^[^\x00]*$"
