"""The search query language: Gmail's operators, parsed into a typed, immutable tree.

`parse_query("from:alice has:attachment after:2024/01/01", now=...)` returns an `And` of a
`Text`, a `Flag` and a `DateBound`; a compiler turns the tree into SQLite FTS5 or PostgreSQL
full-text SQL. This module knows no database and no HTTP: a bad query raises
`QuerySyntaxError`, whose `to_problem()` is the 422 the API sends. docs/search.md is the user's
reference for the language.

The parser is written by hand (a tokenizer and a recursive descent) because no maintained
library parses Gmail's grammar, and its quirks are what users expect: `OR` binds tighter than
the implicit AND, `OR` counts only in upper case, `-` negates only when glued to its term, and
`word:` is an operator only for the known operator names (`https://x` and `10:30` are words).
A generic boolean-query library would get each of these wrong, and every error here needs a
stable code and the character offset that a search box can underline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NoReturn, TypeAlias

from postwise.kit.errors import ProblemError
from postwise.mail.insights import CATEGORIES
from postwise.search.query_values import AgeUnit, age_cutoff, parse_age, parse_day, parse_size

# Both limits protect the database: every term becomes a clause of the SQL the compiler builds.
MAX_QUERY_LENGTH = 1000
MAX_TERMS = 50
# Also keeps the recursive descent far from Python's recursion limit.
MAX_DEPTH = 10

TextField = Literal["from", "to", "cc", "bcc", "subject", "filename"]
FlagName = Literal[
    "attachment", "unread", "read", "starred", "unstarred", "important", "needs_reply"
]
FolderRole = Literal["inbox", "sent", "drafts", "trash", "spam", "archive", "all"]

ErrorCode = Literal[
    "empty_query",
    "too_long",
    "too_complex",
    "unbalanced_quote",
    "unbalanced_parenthesis",
    "empty_group",
    "empty_phrase",
    "missing_value",
    "unknown_value",
    "invalid_date",
    "invalid_age",
    "invalid_size",
    "dangling_operator",
]


# --- the tree ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """A word (`budget`) or a phrase (`"quarterly report"`), anywhere or in one field.

    `value` is what the user typed, case and accents kept: the full-text engine folds them.
    """

    value: str
    phrase: bool = False
    field: TextField | None = None


@dataclass(frozen=True, slots=True)
class Flag:
    """`has:attachment` (name "attachment") or `is:unread|read|starred|unstarred`."""

    name: FlagName


@dataclass(frozen=True, slots=True)
class CategoryIs:
    """`category:newsletter`: the assistant's (or the user's) category of the message."""

    name: str


@dataclass(frozen=True, slots=True)
class InFolder:
    """`in:` / `label:`. `role` is set for the well-known folders (`in:junk` is role "spam",
    `in:anywhere` is role "all": no folder restriction, spam and trash included); `folder` is
    the name as typed, for matching a folder by name when the account has no such role."""

    folder: str
    role: FolderRole | None = None


@dataclass(frozen=True, slots=True)
class DateBound:
    """`after:` matches mail received on or after `day`; `before:` mail received strictly
    before `day`. A calendar day: the compiler chooses the time zone it starts in."""

    op: Literal["before", "after"]
    day: date


@dataclass(frozen=True, slots=True)
class Age:
    """`older_than:` matches mail received strictly before `cutoff`, `newer_than:` mail received
    at or after it; `cutoff` is `amount` units before the `now` given to `parse_query`."""

    op: Literal["older", "newer"]
    amount: int
    unit: AgeUnit
    cutoff: datetime


@dataclass(frozen=True, slots=True)
class Size:
    """`larger:` matches messages of strictly more than `bytes`, `smaller:` strictly fewer."""

    op: Literal["larger", "smaller"]
    bytes: int


@dataclass(frozen=True, slots=True)
class Not:
    node: Node


@dataclass(frozen=True, slots=True)
class And:
    """Two or more nodes, none of them an `And` (nested ones are flattened)."""

    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Two or more nodes, none of them an `Or` (nested ones are flattened)."""

    nodes: tuple[Node, ...]


Node: TypeAlias = Text | Flag | CategoryIs | InFolder | DateBound | Age | Size | Not | And | Or


# --- errors -----------------------------------------------------------------------------------


class QuerySyntaxError(ValueError):
    """A query the parser refuses. `position` is a 0-based offset into the query in Unicode
    code points (0 <= position <= len(query)); `message` counts characters from 1, as a person
    reading it does."""

    def __init__(self, code: ErrorCode, position: int, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.position = position
        self.message = message

    def to_problem(self) -> ProblemError:
        return ProblemError(
            422,
            "invalid_query",
            self.message,
            title="Invalid search query",
            errors=[{"code": self.code, "position": self.position, "message": self.message}],
        )


def _fail(code: ErrorCode, position: int, message: str) -> NoReturn:
    raise QuerySyntaxError(code, position, message)


def _at(position: int) -> str:
    return f"character {position + 1}"


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:39] + "…")


# --- tokens -----------------------------------------------------------------------------------

TokenKind = Literal["word", "phrase", "lparen", "rparen", "or", "and", "not", "operator"]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: TokenKind
    text: str  # a word, a phrase's inside, or an operator's lower-case name
    position: int
    end: int


_TEXT_FIELDS: dict[str, TextField] = {
    "from": "from",
    "to": "to",
    "cc": "cc",
    "bcc": "bcc",
    "subject": "subject",
    "filename": "filename",
}
_OPERATORS: frozenset[str] = frozenset(_TEXT_FIELDS) | {
    "has",
    "is",
    "needs",
    "category",
    "in",
    "label",
    "before",
    "after",
    "older_than",
    "newer_than",
    "larger",
    "smaller",
    "size",
}
_OPERATOR_PREFIX = re.compile(r"([A-Za-z_]+):")
_DELIMITERS = frozenset('()"|')

_HAS_VALUES: dict[str, FlagName] = {"attachment": "attachment"}
_IS_VALUES: dict[str, FlagName] = {
    "unread": "unread",
    "read": "read",
    "starred": "starred",
    "unstarred": "unstarred",
    "important": "important",
}
_NEEDS_VALUES: dict[str, FlagName] = {"reply": "needs_reply"}
_FOLDER_ROLES: dict[str, FolderRole] = {
    "inbox": "inbox",
    "sent": "sent",
    "drafts": "drafts",
    "trash": "trash",
    "spam": "spam",
    "junk": "spam",
    "archive": "archive",
    "all": "all",
    "anywhere": "all",
}


def _tokenize(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(query)
    # Right after `from:` the next run of characters is the value, whatever it looks like:
    # `subject:OR`, `subject:-draft` and `from:to:x` are values, not syntax.
    after_operator = False
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
            after_operator = False
            continue
        if char == '"':
            close = query.find('"', i + 1)
            if close < 0:
                _fail("unbalanced_quote", i, f"Unclosed quote starting at {_at(i)}.")
            tokens.append(_Token("phrase", query[i + 1 : close], i, close + 1))
            i, after_operator = close + 1, False
            continue
        if char in "()|":
            kind: TokenKind = "lparen" if char == "(" else "rparen" if char == ")" else "or"
            tokens.append(_Token(kind, char, i, i + 1))
            i, after_operator = i + 1, False
            continue
        end = i
        while end < n and not query[end].isspace() and query[end] not in _DELIMITERS:
            end += 1
        run = query[i:end]
        if after_operator:
            tokens.append(_Token("word", run, i, end))
        elif char == "-":
            # Only the `-` itself: what follows is tokenized on the next turn, so `-from:x`
            # and `-(a b)` negate an operator and a group.
            end = i + 1
            tokens.append(_Token("not", "-", i, end))
        elif (match := _OPERATOR_PREFIX.match(run)) and match[1].lower() in _OPERATORS:
            end = i + match.end()
            tokens.append(_Token("operator", match[1].lower(), i, end))
            i, after_operator = end, True
            continue
        elif run in ("OR", "AND"):
            tokens.append(_Token("or" if run == "OR" else "and", run, i, end))
        else:
            tokens.append(_Token("word", run, i, end))
        i, after_operator = end, False
    return tokens


# --- the parser -------------------------------------------------------------------------------

_ENDS_OPERAND = frozenset(("or", "and", "rparen"))


def _combine(kind: type[And] | type[Or], nodes: list[Node]) -> Node:
    flat: list[Node] = []
    for node in nodes:
        flat.extend(node.nodes if isinstance(node, kind) else (node,))
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


class _Parser:
    """query := and EOF; and := or ([AND] or)*; or := unary (OR unary)*;
    unary := '-'* primary; primary := '(' and ')' | word | phrase | operator value."""

    def __init__(self, query: str, now: datetime) -> None:
        self.tokens = _tokenize(query)
        self.now = now
        self.index = 0
        self.terms = 0
        self.depth = 0

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Node:
        items = self._and(None)
        if (extra := self._peek()) is not None:
            # _and stops only at the end or at a `)`; here that `)` closes nothing.
            _fail(
                "unbalanced_parenthesis",
                extra.position,
                f"The closing parenthesis at {_at(extra.position)} has no opening one.",
            )
        # Non-blank input always yields a term, a `)` or an error, so items is not empty here.
        return _combine(And, items)

    def _and(self, field: TextField | None) -> list[Node]:
        items: list[Node] = []
        while (token := self._peek()) is not None and token.kind != "rparen":
            if token.kind == "and":
                self._take()
                following = self._peek()
                if not items or following is None or following.kind in _ENDS_OPERAND:
                    _dangling(token)
                continue
            if token.kind == "or":
                _dangling(token)
            items.append(self._or(field))
        return items

    def _or(self, field: TextField | None) -> Node:
        nodes = [self._unary(field)]
        while (token := self._peek()) is not None and token.kind == "or":
            self._take()
            following = self._peek()
            if following is None or following.kind in _ENDS_OPERAND:
                _dangling(token)
            nodes.append(self._unary(field))
        return _combine(Or, nodes)

    def _unary(self, field: TextField | None) -> Node:
        # A loop, not recursion: `------x` must not reach the recursion limit.
        negations: list[_Token] = []
        while (token := self._peek()) is not None and token.kind == "not":
            negations.append(self._take())
        following = self._peek()
        # `a - b` is a stray dash, not "a and not b": Gmail negates only a glued term.
        for negation, target in zip(negations, [*negations[1:], following], strict=False):
            if target is None or target.kind in _ENDS_OPERAND or target.position != negation.end:
                _dangling(negation)
        node = self._primary(field)
        for _ in negations:
            node = Not(node)
        return node

    def _primary(self, field: TextField | None) -> Node:
        token = self._take()
        if token.kind == "lparen":
            return self._group(token, field)
        if token.kind == "word":
            return self._term(token, Text(token.text, False, field))
        if token.kind == "phrase":
            return self._term(token, Text(_phrase(token), True, field))
        if token.kind == "operator":
            return self._operator(token)
        raise AssertionError(f"callers stop before a {token.kind} token")

    def _group(self, opening: _Token, field: TextField | None) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            _fail(
                "too_complex",
                opening.position,
                f"Parentheses nest more than {MAX_DEPTH} deep at {_at(opening.position)}.",
            )
        items = self._and(field)
        if self._peek() is None:
            _fail(
                "unbalanced_parenthesis",
                opening.position,
                f"The parenthesis opened at {_at(opening.position)} is never closed.",
            )
        self._take()
        self.depth -= 1
        if not items:
            _fail("empty_group", opening.position, f"Empty parentheses at {_at(opening.position)}.")
        return _combine(And, items)

    def _term(self, token: _Token, node: Node) -> Node:
        self.terms += 1
        if self.terms > MAX_TERMS:
            _fail(
                "too_complex",
                token.position,
                f"The query has more than {MAX_TERMS} terms; the limit is passed at "
                f"{_at(token.position)}.",
            )
        return node

    def _operator(self, operator: _Token) -> Node:
        name = operator.text
        value = self._peek()
        glued = value is not None and value.position == operator.end
        if name in _TEXT_FIELDS and glued and value is not None and value.kind == "lparen":
            # from:(alice OR bob): the words and phrases inside search the field.
            self._take()
            return self._group(value, _TEXT_FIELDS[name])
        if not glued or value is None or value.kind not in ("word", "phrase"):
            _missing_value(operator, grouped=glued and value is not None and value.kind == "lparen")
        self._take()
        text = _phrase(value) if value.kind == "phrase" else value.text
        if name in _TEXT_FIELDS:
            return self._term(operator, Text(text, value.kind == "phrase", _TEXT_FIELDS[name]))
        return self._term(operator, self._value(name, text, value.position))

    def _value(self, name: str, text: str, at: int) -> Node:
        key = text.strip().lower()
        if name == "category":
            if key not in CATEGORIES:
                _fail(
                    "unknown_value",
                    at,
                    f"Unknown category {_show(text)} at {_at(at)}; use one of: "
                    + ", ".join(CATEGORIES)
                    + ".",
                )
            return CategoryIs(key)
        if name in ("has", "is", "needs"):
            choices = {"has": _HAS_VALUES, "is": _IS_VALUES, "needs": _NEEDS_VALUES}[name]
            if key not in choices:
                _fail(
                    "unknown_value",
                    at,
                    f"Unknown value {_show(text)} for {name}: at {_at(at)}; use "
                    + ", ".join(f"{name}:{choice}" for choice in choices)
                    + ".",
                )
            return Flag(choices[key])
        if name in ("in", "label"):
            return InFolder(text, _FOLDER_ROLES.get(key))
        if name in ("before", "after"):
            day = parse_day(text)
            if day is None:
                _fail(
                    "invalid_date",
                    at,
                    f"{_show(text)} at {_at(at)} is not a date: write YYYY/MM/DD or YYYY-MM-DD.",
                )
            return DateBound("before" if name == "before" else "after", day)
        if name in ("older_than", "newer_than"):
            return self._age(name, text, at)
        size = parse_size(text)
        if size is None:
            _fail(
                "invalid_size",
                at,
                f"{_show(text)} at {_at(at)} is not a size: write bytes or a number with "
                "K, M or G, such as 500K or 10M.",
            )
        return Size("smaller" if name == "smaller" else "larger", size)

    def _age(self, name: str, text: str, at: int) -> Age:
        parsed = parse_age(text)
        hint = "write a number and d, w, m or y, such as 7d, 2w, 6m or 1y."
        if parsed is None:
            _fail("invalid_age", at, f"{_show(text)} at {_at(at)} is not an age: {hint}")
        amount, unit = parsed
        try:
            cutoff = age_cutoff(self.now, amount, unit)
        except ValueError:
            _fail("invalid_age", at, f"{_show(text)} at {_at(at)} reaches back before year 1.")
        return Age("older" if name == "older_than" else "newer", amount, unit, cutoff)


def _phrase(token: _Token) -> str:
    if not token.text.strip():
        _fail("empty_phrase", token.position, f"Empty quotes at {_at(token.position)}.")
    return token.text


def _dangling(token: _Token) -> NoReturn:
    where = _at(token.position)
    if token.kind == "not":
        message = f"The '-' at {where} must be glued to what it excludes, as in -word."
    else:
        message = f"{token.text} at {where} needs a term on each side."
    _fail("dangling_operator", token.position, message)


def _missing_value(operator: _Token, *, grouped: bool) -> NoReturn:
    where = _at(operator.position)
    if grouped:
        message = f"{operator.text}: at {where} takes a single value, not a group."
    else:
        message = f"{operator.text}: at {where} needs a value right after the colon."
    _fail("missing_value", operator.position, message)


def parse_query(query: str, *, now: datetime) -> Node:
    """Parse a search box query. `now` (time-zone aware) anchors `older_than:`/`newer_than:`.

    Raises QuerySyntaxError for a query that is empty, too long or too complex, or malformed.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise TypeError("now must be time-zone aware: ages are compared with UTC timestamps")
    if len(query) > MAX_QUERY_LENGTH:
        _fail(
            "too_long",
            MAX_QUERY_LENGTH,
            f"The query is {len(query)} characters long; the limit is {MAX_QUERY_LENGTH}.",
        )
    if not query.strip():
        _fail("empty_query", 0, "The search query is empty.")
    return _Parser(query, now).parse()
