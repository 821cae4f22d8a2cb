"""The full-text index of messages, kept by the database itself.

SQLite: an FTS5 table without content of its own (`content=''`: the text already lives in
`messages`, storing it twice would double the largest table), filled and emptied by triggers on
`messages`. A contentless table deletes a row by being told its old values again; the triggers
compute them with the same expressions from the same row, so they always match.

PostgreSQL: a generated `tsvector` column with a GIN index. Fields are told apart by weight:
A subject, B sender, C recipients (to, cc, bcc), D body; `to:`/`cc:`/`bcc:` narrow C further
with a check on the field itself (see `compile.py`).

Both are maintained on every write path at once (sync, import, actions, expunge, account
deletion) because they hang on the table, not on the code. Attachment names are not in the
index: `filename:` matches them as substrings of `attachments.filename`, as Gmail does
(`filename:pdf`).

The objects are not in the SQLAlchemy models (SQLAlchemy has no FTS5 or generated tsvector
types); `IGNORED_BY_AUTOGENERATE` keeps Alembic's model comparison from reporting them.
"""

# ruff: noqa: S608  - DDL assembled from this module's own constants, never from input.
from __future__ import annotations

from typing import Any

__all__ = [
    "FTS_TABLE",
    "IGNORED_BY_AUTOGENERATE",
    "POSTGRES_DOWNGRADE",
    "POSTGRES_UPGRADE",
    "SQLITE_DOWNGRADE",
    "SQLITE_UPGRADE",
    "include_object",
]

FTS_TABLE = "message_search"
SEARCH_COLUMN = "search_doc"
FTS_COLUMNS = ("subject", "sender", "to_text", "cc_text", "bcc_text", "body")


def _people(column: str) -> str:
    # "Ada Lovelace ada@example.com Bob bob@example.com" from the JSON list of addresses.
    return (
        "coalesce((SELECT group_concat(coalesce(value ->> '$.name', '') || ' ' || "
        f"coalesce(value ->> '$.address', ''), ' ') FROM json_each({column})), '')"
    )


def _values(row: str) -> str:
    return ", ".join(
        (
            f"{row}.id",
            f"{row}.subject",
            f"{row}.from_name || ' ' || {row}.from_address",
            _people(f'{row}."to"'),
            _people(f"{row}.cc"),
            _people(f"{row}.bcc"),
            f"{row}.body_text",
        )
    )


_COLUMNS = ", ".join(FTS_COLUMNS)
_INDEXED = 'subject, from_name, from_address, "to", cc, bcc, body_text'

SQLITE_UPGRADE = (
    # remove_diacritics 2: "cafe" finds "café", as people expect from a search box.
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({_COLUMNS}, content='', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON messages BEGIN "
    f"INSERT INTO {FTS_TABLE} (rowid, {_COLUMNS}) VALUES ({_values('new')}); END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON messages BEGIN "
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {_COLUMNS}) "
    f"VALUES ('delete', {_values('old')}); END",
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF {_INDEXED} ON messages BEGIN "
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {_COLUMNS}) "
    f"VALUES ('delete', {_values('old')}); "
    f"INSERT INTO {FTS_TABLE} (rowid, {_COLUMNS}) VALUES ({_values('new')}); END",
    # Mail already stored before the index existed.
    f"INSERT INTO {FTS_TABLE} (rowid, {_COLUMNS}) SELECT {_values('messages')} FROM messages",
)
SQLITE_DOWNGRADE = (
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_update",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_insert",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)


def pg_people(column: str) -> str:
    """Names and addresses of a JSON address list as plain words: the JSON keys dropped, and
    `@`/`.` split so `ada@example.com` is found by `ada` and by `example.com` (PostgreSQL's
    parser would otherwise keep an address as one token)."""
    return (
        f"translate(regexp_replace(coalesce({column}::text, ''), "
        "'\"(name|address)\":', ' ', 'g'), '@.\"[]{}:,', '           ')"
    )


PG_SENDER = "translate(coalesce(from_name, '') || ' ' || coalesce(from_address, ''), '@.', '  ')"
PG_RECIPIENTS = " || ' ' || ".join(pg_people(c) for c in ('"to"', "cc", "bcc"))

POSTGRES_UPGRADE = (
    f"ALTER TABLE messages ADD COLUMN {SEARCH_COLUMN} tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', coalesce(subject, '')), 'A') || "
    f"setweight(to_tsvector('simple', {PG_SENDER}), 'B') || "
    f"setweight(to_tsvector('simple', {PG_RECIPIENTS}), 'C') || "
    "setweight(to_tsvector('simple', coalesce(body_text, '')), 'D')) STORED",
    f"CREATE INDEX ix_messages_search ON messages USING gin ({SEARCH_COLUMN})",
)
POSTGRES_DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_messages_search",
    f"ALTER TABLE messages DROP COLUMN IF EXISTS {SEARCH_COLUMN}",
)

IGNORED_BY_AUTOGENERATE = frozenset({SEARCH_COLUMN, "ix_messages_search"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's filter: the search objects exist only in the database (see the docstring)."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(FTS_TABLE):
        return False
    return name not in IGNORED_BY_AUTOGENERATE
