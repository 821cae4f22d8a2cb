"""From a parsed query (`search.query`) to one SQL condition on `messages`, for SQLite FTS5 or
PostgreSQL full text (the index itself is described in `search.index`).

Each text term becomes its own index lookup and the tree's AND/OR/NOT become SQL's, so the
database evaluates Gmail's precedence exactly as parsed, and user text only ever reaches the
engines as a quoted phrase (FTS5) or through `phraseto_tsquery` (PostgreSQL): no operator a user
types can change the query's structure.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    true,
)

from postwise.mail.models import Attachment, Folder, Message, MessageInsight
from postwise.search import index
from postwise.search.query import (
    Age,
    And,
    CategoryIs,
    DateBound,
    Flag,
    InFolder,
    Node,
    Not,
    Or,
    Size,
    Text,
)

__all__ = ["compile_query", "fts_conjunction", "fts_match", "fts_phrase", "mentions_folder"]

# messages.size is a 32-bit integer: a bound past it means "every message" or "none".
_MAX_SIZE = 2**31 - 1
_WORD = re.compile(r"\w", re.UNICODE)
_FTS_COLUMN = {
    "subject": "subject",
    "from": "sender",
    "to": "to_text",
    "cc": "cc_text",
    "bcc": "bcc_text",
}
_PG_WEIGHT = {"subject": "{a}", "from": "{b}"}
_PG_PEOPLE = {"to": '"to"', "cc": "cc", "bcc": "bcc"}
# The role names of the query language that the database spells differently.
_ROLE = {"spam": "junk"}


def mentions_folder(node: Node) -> bool:
    """Whether the query says where to look; if not, trash and spam are left out, as in Gmail."""
    if isinstance(node, InFolder):
        return True
    if isinstance(node, Not):
        return mentions_folder(node.node)
    if isinstance(node, And | Or):
        return any(mentions_folder(child) for child in node.nodes)
    return False


def fts_phrase(node: Text) -> str:
    """The FTS5 query of one text term: always a quoted phrase (so nothing the user typed is
    read as FTS5 syntax), restricted to its column when the term names a field."""
    phrase = '"' + node.value.replace('"', '""') + '"'
    fts_column = _FTS_COLUMN.get(node.field or "")
    return f"{fts_column} : {phrase}" if fts_column else phrase


def _indexed(node: Node) -> bool:
    """A text term the full-text index answers (not `filename:`, not punctuation alone)."""
    return isinstance(node, Text) and node.field != "filename" and bool(_WORD.search(node.value))


def fts_conjunction(node: Node) -> tuple[str | None, list[Node]]:
    """SQLite: the text terms of a conjunction as one FTS5 query, and the terms left over.

    `a b -c` becomes `"a" AND "b" NOT "c"`: FTS5 intersects the terms' lists itself, stepping
    through the rarest, where one `IN (...)` per term would have SQLite gather every match of
    each (a common word: tens of thousands of rows) before comparing. A conjunction without a
    positive text term has no FTS5 query (FTS5 cannot start from a NOT)."""
    terms: list[Node] = list(node.nodes) if isinstance(node, And) else [node]
    positive: list[Text] = []
    negative: list[Text] = []
    rest: list[Node] = []
    for term in terms:
        if isinstance(term, Text) and _indexed(term):
            positive.append(term)
        elif isinstance(term, Not) and isinstance(term.node, Text) and _indexed(term.node):
            negative.append(term.node)
        else:
            rest.append(term)
    if not positive:
        return None, terms
    expression = " AND ".join(fts_phrase(t) for t in positive)
    expression += "".join(" NOT " + fts_phrase(t) for t in negative)
    return expression, rest


def compile_query(node: Node, *, dialect: str, user_id: uuid.UUID) -> ColumnElement[bool]:
    return _Compiler(dialect, user_id).node(node)


class _Compiler:
    def __init__(self, dialect: str, user_id: uuid.UUID) -> None:
        self.sqlite = dialect == "sqlite"
        self.user_id = user_id

    def node(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, Text):
            return self.text(node)
        if isinstance(node, Flag):
            return self.flag(node)
        if isinstance(node, CategoryIs):
            return _insight(MessageInsight.category == node.name)
        if isinstance(node, InFolder):
            return self.folder(node)
        if isinstance(node, DateBound):
            start = datetime.combine(node.day, time(0), tzinfo=UTC)
            return (
                Message.received_at >= start if node.op == "after" else Message.received_at < start
            )
        if isinstance(node, Age):
            cutoff = node.cutoff.astimezone(UTC)
            return (
                Message.received_at >= cutoff
                if node.op == "newer"
                else Message.received_at < cutoff
            )
        if isinstance(node, Size):
            return self.size(node)
        if isinstance(node, Not):
            return not_(self.node(node.node))
        if isinstance(node, And) and self.sqlite:
            expression, rest = fts_conjunction(node)
            if expression is not None:
                return and_(fts_match(expression), *(self.node(child) for child in rest))
        if isinstance(node, And):
            return and_(*(self.node(child) for child in node.nodes))
        if isinstance(node, Or):
            return or_(*(self.node(child) for child in node.nodes))
        raise TypeError(f"not a query node: {node!r}")

    # --- terms ----------------------------------------------------------------------------

    def text(self, node: Text) -> ColumnElement[bool]:
        if node.field == "filename":
            pattern = "%" + _escape_like(node.value.lower()) + "%"
            return exists().where(
                Attachment.message_id == Message.id,
                func.lower(Attachment.filename).like(pattern, escape="\\"),
            )
        if not _WORD.search(node.value):
            # Punctuation alone has no words to look up: it matches nothing.
            return false()
        return self.fts(node) if self.sqlite else self.tsquery(node)

    def fts(self, node: Text) -> ColumnElement[bool]:
        return fts_match(fts_phrase(node))

    def tsquery(self, node: Text) -> ColumnElement[bool]:
        doc: ColumnElement[Any] = literal_column(f"messages.{index.SEARCH_COLUMN}")
        # The index splits addresses and host names at "@" and "." (see index.pg_people); a
        # term is looked up both as typed and split that way.
        split = func.phraseto_tsquery("simple", func.translate(literal(node.value), "@.", "  "))
        if node.field is None:
            whole = func.phraseto_tsquery("simple", literal(node.value))
            query: Any = whole.op("||")(split)
            return doc.op("@@")(query)
        matches = doc.op("@@")(split)
        if node.field in _PG_WEIGHT:
            weighted = func.ts_filter(doc, literal_column(f"'{_PG_WEIGHT[node.field]}'"))
            return and_(matches, weighted.op("@@")(split))
        people = func.to_tsvector("simple", literal_column(index.pg_people(_PG_PEOPLE[node.field])))
        return and_(matches, people.op("@@")(split))

    def flag(self, node: Flag) -> ColumnElement[bool]:
        if node.name == "important":
            return _insight(MessageInsight.important.is_(True))
        if node.name == "needs_reply":
            return _insight(MessageInsight.needs_reply.is_(True))
        if node.name == "attachment":
            return Message.has_attachments.is_(True)
        if node.name == "unread":
            return Message.is_read.is_(False)
        if node.name == "read":
            return Message.is_read.is_(True)
        if node.name == "starred":
            return Message.is_starred.is_(True)
        return Message.is_starred.is_(False)

    def folder(self, node: InFolder) -> ColumnElement[bool]:
        if node.role == "all":
            return true()
        owned = select(Folder.id).where(Folder.user_id == self.user_id)
        if node.role is not None:
            role = _ROLE.get(node.role, node.role)
            named = func.lower(Folder.name) == node.folder.lower()
            return Message.folder_id.in_(owned.where(or_(Folder.role == role, named)))
        return Message.folder_id.in_(owned.where(func.lower(Folder.name) == node.folder.lower()))

    def size(self, node: Size) -> ColumnElement[bool]:
        if node.op == "larger":
            return Message.size > node.bytes if node.bytes < _MAX_SIZE else false()
        return Message.size < node.bytes if node.bytes <= _MAX_SIZE else true()


def _insight(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Messages whose triage (`message_insights`, one row per message) meets `condition`."""
    return exists().where(MessageInsight.message_id == Message.id, condition)


def fts_match(expression: str) -> ColumnElement[bool]:
    """Messages whose id the FTS5 query finds. The matches are gathered once (SQLite keeps
    them in a temporary index) and rows are checked against them: probing the index row by
    row instead was measured 10-20 times slower for phrases and field terms."""
    fts = table(index.FTS_TABLE, column("rowid"))
    match = literal_column(index.FTS_TABLE).op("MATCH")(literal(expression))
    return Message.id.in_(select(fts.c.rowid).where(match))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
