"""The search query language: exact trees for every operator and combination, every error code
with its position, and a seeded fuzz run for what no table thinks of."""

from __future__ import annotations

import dataclasses
import random
import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import get_args

import pytest

from postwise.kit.errors import problem_body
from postwise.search.query import (
    MAX_DEPTH,
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    Age,
    And,
    CategoryIs,
    DateBound,
    ErrorCode,
    Flag,
    InFolder,
    Node,
    Not,
    Or,
    QuerySyntaxError,
    Size,
    Text,
    parse_query,
)

NOW = datetime(2024, 3, 31, 15, 30, tzinfo=UTC)


def parse(query: str) -> Node:
    return parse_query(query, now=NOW)


def w(value: str, field: str | None = None) -> Text:
    return Text(value, False, field)  # type: ignore[arg-type]


def ph(value: str, field: str | None = None) -> Text:
    return Text(value, True, field)  # type: ignore[arg-type]


def and_(*nodes: Node) -> And:
    return And(tuple(nodes))


def or_(*nodes: Node) -> Or:
    return Or(tuple(nodes))


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 15, 30, tzinfo=UTC)


PARSES: list[tuple[str, Node]] = [
    # words, phrases, implicit AND
    ("budget", w("budget")),
    ("  budget  ", w("budget")),
    ("budget report", and_(w("budget"), w("report"))),
    ("Budget REPORT", and_(w("Budget"), w("REPORT"))),
    ('"quarterly report"', ph("quarterly report")),
    ('"solo"', ph("solo")),
    ('"a  b"', ph("a  b")),
    ('q1 "quarterly report" 2024', and_(w("q1"), ph("quarterly report"), w("2024"))),
    ('foo"bar baz"', and_(w("foo"), ph("bar baz"))),
    ('"OR" "-x" "from:a"', and_(ph("OR"), ph("-x"), ph("from:a"))),
    ("don't e-mail well-known", and_(w("don't"), w("e-mail"), w("well-known"))),
    ("café 日本語 Ünïcödé", and_(w("café"), w("日本語"), w("Ünïcödé"))),
    ("a\u00a0b\tc\nd", and_(w("a"), w("b"), w("c"), w("d"))),
    ("📎 résumé", and_(w("📎"), w("résumé"))),
    # words with a colon that are not operators
    ("https://example.com/x?a=1", w("https://example.com/x?a=1")),
    ("10:30 meeting", and_(w("10:30"), w("meeting"))),
    ("Re: lunch", and_(w("Re:"), w("lunch"))),
    ("topic:social", w("topic:social")),
    # the assistant's operators
    ("category:social", CategoryIs("social")),
    ("category:Cold_Outreach", CategoryIs("cold_outreach")),
    ("is:important", Flag("important")),
    ("needs:reply", Flag("needs_reply")),
    ("label2:x", w("label2:x")),
    ("C:\\Users\\me", w("C:\\Users\\me")),
    ("a:b:c", w("a:b:c")),
    ("{a b}", and_(w("{a"), w("b}"))),
    ("AROUND", w("AROUND")),
    (":", w(":")),
    ("x- 5", and_(w("x-"), w("5"))),
    # text fields
    ("from:alice", w("alice", "from")),
    ("from:alice@example.com", w("alice@example.com", "from")),
    ("to:bob cc:carol bcc:dan", and_(w("bob", "to"), w("carol", "cc"), w("dan", "bcc"))),
    ("subject:invoice", w("invoice", "subject")),
    ('subject:"quarterly report"', ph("quarterly report", "subject")),
    ("filename:pdf", w("pdf", "filename")),
    ('filename:"scan 01.pdf"', ph("scan 01.pdf", "filename")),
    ("FROM:Alice Subject:Hi", and_(w("Alice", "from"), w("Hi", "subject"))),
    # the value is the run after the colon, whatever it looks like
    ("subject:OR", w("OR", "subject")),
    ("subject:-draft", w("-draft", "subject")),
    ("from:to:x", w("to:x", "from")),
    ("subject:a:b", w("a:b", "subject")),
    # field groups
    ("from:(alice OR bob)", or_(w("alice", "from"), w("bob", "from"))),
    ("subject:(annual report)", and_(w("annual", "subject"), w("report", "subject"))),
    (
        'subject:("annual report" -draft)',
        and_(ph("annual report", "subject"), Not(w("draft", "subject"))),
    ),
    ("from:(alice | bob) report", and_(or_(w("alice", "from"), w("bob", "from")), w("report"))),
    ("to:((a OR b) c)", and_(or_(w("a", "to"), w("b", "to")), w("c", "to"))),
    ("subject:(x from:y)", and_(w("x", "subject"), w("y", "from"))),
    ("subject:(x is:unread)", and_(w("x", "subject"), Flag("unread"))),
    # flags
    ("has:attachment", Flag("attachment")),
    ("HAS:Attachment", Flag("attachment")),
    ("is:unread", Flag("unread")),
    ("is:read", Flag("read")),
    ("is:starred", Flag("starred")),
    ("is:unstarred", Flag("unstarred")),
    ('is:"starred"', Flag("starred")),
    # folders
    ("in:inbox", InFolder("inbox", "inbox")),
    ("in:Inbox", InFolder("Inbox", "inbox")),
    ("in:sent", InFolder("sent", "sent")),
    ("in:drafts", InFolder("drafts", "drafts")),
    ("in:trash", InFolder("trash", "trash")),
    ("in:spam", InFolder("spam", "spam")),
    ("in:junk", InFolder("junk", "spam")),
    ("in:archive", InFolder("archive", "archive")),
    ("in:all", InFolder("all", "all")),
    ("in:anywhere", InFolder("anywhere", "all")),
    ("in:Receipts", InFolder("Receipts", None)),
    ("in:Work/Projects", InFolder("Work/Projects", None)),
    ('in:"Work Projects"', InFolder("Work Projects", None)),
    ("label:clients", InFolder("clients", None)),
    ("label:INBOX", InFolder("INBOX", "inbox")),
    # dates: after is inclusive, before exclusive
    ("after:2024/01/01", DateBound("after", date(2024, 1, 1))),
    ("before:2024-02-29", DateBound("before", date(2024, 2, 29))),
    ("after:2024/1/5", DateBound("after", date(2024, 1, 5))),
    ('before:"2024-12-31"', DateBound("before", date(2024, 12, 31))),
    (
        "after:2014/01/01 before:2014/02/01",
        and_(DateBound("after", date(2014, 1, 1)), DateBound("before", date(2014, 2, 1))),
    ),
    # ages, resolved from NOW (2024-03-31 15:30 UTC)
    ("newer_than:2d", Age("newer", 2, "d", NOW - timedelta(days=2))),
    ("older_than:3w", Age("older", 3, "w", at(2024, 3, 10))),
    ("older_than:1m", Age("older", 1, "m", at(2024, 2, 29))),
    ("newer_than:13m", Age("newer", 13, "m", at(2023, 2, 28))),
    ("older_than:1y", Age("older", 1, "y", at(2023, 3, 31))),
    ("older_than:2Y", Age("older", 2, "y", at(2022, 3, 31))),
    ("newer_than:3M", Age("newer", 3, "m", at(2023, 12, 31))),
    ("older_than:1D", Age("older", 1, "d", at(2024, 3, 30))),
    # sizes: binary multiples, case-insensitive units
    ("larger:1000", Size("larger", 1000)),
    ("smaller:0", Size("smaller", 0)),
    ("larger:10b", Size("larger", 10)),
    ("larger:5K", Size("larger", 5 * 1024)),
    ("larger:5kb", Size("larger", 5 * 1024)),
    ("smaller:2M", Size("smaller", 2 * 1024**2)),
    ("smaller:2mB", Size("smaller", 2 * 1024**2)),
    ("larger:1G", Size("larger", 1024**3)),
    ("larger:1.5M", Size("larger", 1572864)),
    ("larger:1.1M", Size("larger", 1153433)),
    ('larger:"10 MB"', Size("larger", 10 * 1024**2)),
    ("size:100K", Size("larger", 100 * 1024)),
    # negation
    ("-spam", Not(w("spam"))),
    ('-"out of office"', Not(ph("out of office"))),
    ("-from:alice", Not(w("alice", "from"))),
    ("-is:read", Not(Flag("read"))),
    ("-in:trash", Not(InFolder("trash", "trash"))),
    ("--x", Not(Not(w("x")))),
    ("-(a b)", Not(and_(w("a"), w("b")))),
    ("-(a OR b) c", and_(Not(or_(w("a"), w("b"))), w("c"))),
    ("a -b", and_(w("a"), Not(w("b")))),
    ("-a OR b", or_(Not(w("a")), w("b"))),
    ("-10:30", Not(w("10:30"))),
    # OR, precedence: OR binds tighter than AND
    ("a OR b", or_(w("a"), w("b"))),
    ("a | b", or_(w("a"), w("b"))),
    ("a|b", or_(w("a"), w("b"))),
    ("a OR b OR c", or_(w("a"), w("b"), w("c"))),
    ("a b OR c", and_(w("a"), or_(w("b"), w("c")))),
    ("a OR b c", and_(or_(w("a"), w("b")), w("c"))),
    ("a OR b c OR d", and_(or_(w("a"), w("b")), or_(w("c"), w("d")))),
    ("a or b", and_(w("a"), w("or"), w("b"))),
    ("a Or b", and_(w("a"), w("Or"), w("b"))),
    ("aOR b", and_(w("aOR"), w("b"))),
    ("a AND b", and_(w("a"), w("b"))),
    ("a AND b OR c", and_(w("a"), or_(w("b"), w("c")))),
    ("a and b", and_(w("a"), w("and"), w("b"))),
    ("NOT a", and_(w("NOT"), w("a"))),
    # groups, flattening, collapsing
    ("(a)", w("a")),
    ("((a))", w("a")),
    ("(a b)", and_(w("a"), w("b"))),
    ("(a OR b) c", and_(or_(w("a"), w("b")), w("c"))),
    ("a (b c)", and_(w("a"), w("b"), w("c"))),
    ("(a OR b) OR c", or_(w("a"), w("b"), w("c"))),
    ("(a b) OR c", or_(and_(w("a"), w("b")), w("c"))),
    ("a(b)c", and_(w("a"), w("b"), w("c"))),
    ("(a OR b)(c OR d)", and_(or_(w("a"), w("b")), or_(w("c"), w("d")))),
    # combinations
    (
        "from:alice has:attachment after:2024/01/01",
        and_(w("alice", "from"), Flag("attachment"), DateBound("after", date(2024, 1, 1))),
    ),
    (
        'in:inbox is:unread -from:(newsletter OR noreply) subject:"invoice" larger:1M',
        and_(
            InFolder("inbox", "inbox"),
            Flag("unread"),
            Not(or_(w("newsletter", "from"), w("noreply", "from"))),
            ph("invoice", "subject"),
            Size("larger", 1024**2),
        ),
    ),
    (
        "(from:alice OR to:alice) newer_than:7d -in:spam",
        and_(
            or_(w("alice", "from"), w("alice", "to")),
            Age("newer", 7, "d", NOW - timedelta(days=7)),
            Not(InFolder("spam", "spam")),
        ),
    ),
    (
        "is:starred OR has:attachment filename:xlsx",
        and_(or_(Flag("starred"), Flag("attachment")), w("xlsx", "filename")),
    ),
]


@pytest.mark.parametrize(("query", "expected"), PARSES, ids=[query for query, _ in PARSES])
def test_parses_to_exact_tree(query: str, expected: Node) -> None:
    assert parse(query) == expected


# (query, code, position)
ERRORS: list[tuple[str, str, int]] = [
    ("", "empty_query", 0),
    ("   ", "empty_query", 0),
    ("\t\n", "empty_query", 0),
    ("x" * (MAX_QUERY_LENGTH + 1), "too_long", MAX_QUERY_LENGTH),
    (" ".join(["w"] * (MAX_TERMS + 1)), "too_complex", MAX_TERMS * 2),
    (" ".join(["is:read"] * (MAX_TERMS + 1)), "too_complex", MAX_TERMS * 8),
    ("from:(" + " ".join(["a"] * (MAX_TERMS + 1)) + ")", "too_complex", 6 + MAX_TERMS * 2),
    ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), "too_complex", MAX_DEPTH),
    ('"abc', "unbalanced_quote", 0),
    ('report "quarterly', "unbalanced_quote", 7),
    ('subject:"open', "unbalanced_quote", 8),
    ('"a" "b', "unbalanced_quote", 4),
    ('(a "b', "unbalanced_quote", 3),
    ('a) "b', "unbalanced_quote", 3),
    ("(a", "unbalanced_parenthesis", 0),
    ("a (b (c)", "unbalanced_parenthesis", 2),
    ("a)", "unbalanced_parenthesis", 1),
    (")", "unbalanced_parenthesis", 0),
    ("(a)) b", "unbalanced_parenthesis", 3),
    ("from:alice)", "unbalanced_parenthesis", 10),
    ("from:(a", "unbalanced_parenthesis", 5),
    ("()", "empty_group", 0),
    ("a ( )", "empty_group", 2),
    ("-()", "empty_group", 1),
    ("from:()", "empty_group", 5),
    ('""', "empty_phrase", 0),
    ('a " "', "empty_phrase", 2),
    ('subject:""', "empty_phrase", 8),
    ('from:(a "")', "empty_phrase", 8),
    ('is:""', "empty_phrase", 3),
    ("from:", "missing_value", 0),
    ("a to: b", "missing_value", 2),
    ("subject: hello", "missing_value", 0),
    ("(cc:)", "missing_value", 1),
    ("is:", "missing_value", 0),
    ("in: inbox", "missing_value", 0),
    ("after:", "missing_value", 0),
    ("larger:|", "missing_value", 0),
    ("is:(unread OR starred)", "missing_value", 0),
    ("-from:", "missing_value", 1),
    ("is:purple", "unknown_value", 3),
    ("has:foo", "unknown_value", 4),
    ("has:attachments", "unknown_value", 4),
    ("a is:urgent", "unknown_value", 5),
    ("category:spam", "unknown_value", 9),
    ("needs:coffee", "unknown_value", 6),
    ('is:"un read"', "unknown_value", 3),
    ("after:2024/13/01", "invalid_date", 6),
    ("before:2023/02/29", "invalid_date", 7),
    ("after:yesterday", "invalid_date", 6),
    ("after:01/02/2024", "invalid_date", 6),
    ("before:2024/01-01", "invalid_date", 7),
    ("after:24/01/01", "invalid_date", 6),
    ("after:٢٠٢٤/01/01", "invalid_date", 6),
    ("older_than:5", "invalid_age", 11),
    ("older_than:d", "invalid_age", 11),
    ("newer_than:0d", "invalid_age", 11),
    ("newer_than:2h", "invalid_age", 11),
    ("newer_than:-2d", "invalid_age", 11),
    ("older_than:1.5y", "invalid_age", 11),
    ("older_than:99999y", "invalid_age", 11),
    ("older_than:99999m", "invalid_age", 11),
    ("older_than:123456d", "invalid_age", 11),
    ("larger:big", "invalid_size", 7),
    ("larger:10T", "invalid_size", 7),
    ("smaller:1.5", "invalid_size", 8),
    ("larger:-5", "invalid_size", 7),
    ("larger:M", "invalid_size", 7),
    ("larger:10MiB", "invalid_size", 7),
    ("a OR", "dangling_operator", 2),
    ("OR b", "dangling_operator", 0),
    ("OR", "dangling_operator", 0),
    ("a OR OR b", "dangling_operator", 2),
    ("(a OR) b", "dangling_operator", 3),
    ("(OR a)", "dangling_operator", 1),
    ("a |", "dangling_operator", 2),
    ("| a", "dangling_operator", 0),
    ("a AND", "dangling_operator", 2),
    ("AND a", "dangling_operator", 0),
    ("a AND OR b", "dangling_operator", 2),
    ("a OR AND b", "dangling_operator", 2),
    ("-", "dangling_operator", 0),
    ("a - b", "dangling_operator", 2),
    ("a -", "dangling_operator", 2),
    ("(a -)", "dangling_operator", 3),
    ("-OR b", "dangling_operator", 0),
    ("a --", "dangling_operator", 3),
    ("- - a", "dangling_operator", 0),
    ("-- a", "dangling_operator", 1),
    ("- -a", "dangling_operator", 0),
    ("-|a", "dangling_operator", 0),
]


@pytest.mark.parametrize(
    ("query", "code", "position"), ERRORS, ids=[query[:40] for query, _, _ in ERRORS]
)
def test_error_code_and_position(query: str, code: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    assert (caught.value.code, caught.value.position) == (code, position)
    assert 0 <= caught.value.position <= len(query)
    assert caught.value.message == str(caught.value)
    # The message says where, counting from 1 as a reader does.
    if code not in ("empty_query", "too_long"):
        assert f"character {position + 1}" in caught.value.message


def test_every_error_code_has_a_case() -> None:
    assert {code for _, code, _ in ERRORS} == set(get_args(ErrorCode))


def test_limits_are_inclusive() -> None:
    assert parse("x" * MAX_QUERY_LENGTH) == w("x" * MAX_QUERY_LENGTH)
    assert parse(" ".join(["w"] * MAX_TERMS)) == And((w("w"),) * MAX_TERMS)
    deep = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse(deep) == w("a")


def test_messages_read_well() -> None:
    cases = {
        'report "quarterly': "Unclosed quote starting at character 8.",
        "(a": "The parenthesis opened at character 1 is never closed.",
        "a)": "The closing parenthesis at character 2 has no opening one.",
        "a ( )": "Empty parentheses at character 3.",
        "from: alice": "from: at character 1 needs a value right after the colon.",
        "is:(read)": "is: at character 1 takes a single value, not a group.",
        "is:purple": (
            "Unknown value 'purple' for is: at character 4; "
            "use is:unread, is:read, is:starred, is:unstarred, is:important."
        ),
        "after:2024/13/01": (
            "'2024/13/01' at character 7 is not a date: write YYYY/MM/DD or YYYY-MM-DD."
        ),
        "a OR": "OR at character 3 needs a term on each side.",
        "a - b": "The '-' at character 3 must be glued to what it excludes, as in -word.",
        "": "The search query is empty.",
    }
    for query, message in cases.items():
        with pytest.raises(QuerySyntaxError) as caught:
            parse(query)
        assert caught.value.message == message, query


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse("is:" + "x" * 200)
    assert "'" + "x" * 39 + "…'" in caught.value.message


def test_to_problem_is_the_422_the_api_sends() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse('report "quarterly')
    problem = caught.value.to_problem()
    assert (problem.status, problem.code) == (422, "invalid_query")
    body = problem_body(
        problem.status, problem.code, detail=problem.detail, title=problem.title, **problem.extra
    )
    assert body == {
        "type": "about:blank",
        "title": "Invalid search query",
        "status": 422,
        "code": "invalid_query",
        "detail": "Unclosed quote starting at character 8.",
        "errors": [
            {
                "code": "unbalanced_quote",
                "position": 7,
                "message": "Unclosed quote starting at character 8.",
            }
        ],
    }


def test_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        parse("")


def test_now_must_be_time_zone_aware() -> None:
    with pytest.raises(TypeError):
        parse_query("a", now=datetime(2024, 1, 1))


def test_ages_keep_the_time_zone_of_now() -> None:
    paris = timezone(timedelta(hours=2))
    now = datetime(2024, 5, 31, 9, 0, tzinfo=paris)
    assert parse_query("newer_than:1m", now=now) == Age(
        "newer", 1, "m", datetime(2024, 4, 30, 9, 0, tzinfo=paris)
    )


def test_tree_is_immutable_and_hashable() -> None:
    tree = parse("a (b OR -c)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.nodes = ()  # type: ignore[misc, union-attr]
    assert hash(tree) == hash(parse("a (b OR -c)"))
    assert not hasattr(tree, "__dict__")


# --- fuzz: every input either parses into a well-formed tree or fails with a located error ----

FRAGMENTS = [
    "a", "bé", "日本", "OR", "AND", "or", "|", "-", "--", "(", ")", '"', '"x y"', '""', ":",
    "from:", "from:x", "subject:", "is:", "is:unread", "is:x", "has:attachment", "in:", "in:x",
    "label:", "after:", "after:2024/01/01", "before:2024-02-30", "older_than:", "older_than:3m",
    "newer_than:0d", "larger:", "larger:5M", "smaller:1.5", "size:9", "https://x", "10:30",
    "\u00a0", " ", " ", "  ", "\t",
]  # fmt: skip


def _check_tree(node: Node) -> None:
    if isinstance(node, And | Or):
        assert len(node.nodes) >= 2
        for child in node.nodes:
            assert not isinstance(child, type(node))
            _check_tree(child)
    elif isinstance(node, Not):
        _check_tree(node.node)
    elif isinstance(node, Text):
        assert node.value.strip()
        assert node.phrase or not any(char.isspace() for char in node.value)


def _points_at_cause(query: str, error: QuerySyntaxError) -> bool:
    rest = query[error.position :]
    expected = {
        "unbalanced_quote": lambda: rest.startswith('"'),
        "unbalanced_parenthesis": lambda: rest[:1] in ("(", ")"),
        "empty_group": lambda: rest.startswith("("),
        "empty_phrase": lambda: rest.startswith('"'),
        "dangling_operator": lambda: rest[:1] in ("-", "|") or rest.startswith(("OR", "AND")),
        "missing_value": lambda: rest.split(":", 1)[0].lower().isidentifier(),
    }
    return expected.get(error.code, lambda: True)()


def test_fuzz_parses_or_fails_with_a_located_error() -> None:
    rng = random.Random(20240331)
    outcomes: set[str] = set()
    for _ in range(5000):
        query = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 12)))
        error: QuerySyntaxError | None = None
        try:
            tree = parse(query)
        except QuerySyntaxError as raised:
            error = raised
        else:
            _check_tree(tree)
            outcomes.add("ok")
        if error is not None:
            assert 0 <= error.position <= len(query), query
            assert _points_at_cause(query, error), (query, error.code, error.position)
            outcomes.add(error.code)
    # The generator must reach every kind of outcome, or this test proves little.
    assert outcomes >= {
        "ok",
        "empty_query",
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
    }


def test_examples_in_the_user_docs_parse() -> None:
    docs = Path(__file__).parents[2] / "docs" / "search.md"
    blocks = re.findall(r"```text\n(.*?)```", docs.read_text(encoding="utf-8"), re.DOTALL)
    examples = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert len(examples) == 4
    for example in examples:
        parse(example)
