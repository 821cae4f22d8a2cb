"""Conversation threading: base subjects and JWZ in memory (the database: test_thread_store).

The corpus tests generate conversations whose true grouping is known (branching replies,
subject-only replies, In-Reply-To-only replies, copies in two folders, Gmail thread ids,
unrelated mail sharing a subject) and check that both the in-memory algorithm and the
incremental database assignment, fed in shuffled batches, recover it exactly.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

import pytest

from postwise.mail.threading import (
    ThreadInput,
    is_reply_or_forward,
    subject_key,
    thread_messages,
)
from tests.mail.threading_corpus import ALL_MAIL, INBOX, T0, known_groups, make_corpus

# --- subjects -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "key", "reply"),
    [
        ("Hello World", "hello world", False),
        ("  Hello \t  World \r\n ", "hello world", False),
        ("Re: Hello", "hello", True),
        ("RE: Re: re:Hello", "hello", True),
        ("Re:Re:Hello", "hello", True),
        ("Re[2]: Hello", "hello", True),
        ("RE [3] : Hello", "hello", True),
        ("Re(2): Hello", "hello", True),
        ("Re^2: Hello", "hello", True),
        ("Re : Bonjour", "bonjour", True),
        ("Fwd: Hello", "hello", True),
        ("FW: Hello", "hello", True),
        ("Fwd[3]: Hello", "hello", True),
        ("AW: WG: Angebot", "angebot", True),
        ("SV: VS: Möte", "möte", True),
        ("Antw: Doorst: Offerte", "offerte", True),
        ("TR: RE : Réunion", "réunion", True),
        ("R: I: Riunione", "riunione", True),
        ("RIF: Riunione", "riunione", True),
        ("Odp: PD: Spotkanie", "spotkanie", True),
        ("回复\uff1a会议", "会议", True),
        ("答复: 会议", "会议", True),
        ("转发\uff1a会议", "会议", True),
        ("ΑΠ: ΣΧΕΤ: Συνάντηση", "συνάντηση", True),
        ("ΠΡΘ: Συνάντηση", "συνάντηση", True),
        ("YNT: İLT: Toplant\u0131", "toplant\u0131", True),
        ("[dev] Build broken", "build broken", False),
        ("Re: [dev] Build broken", "build broken", True),
        ("[dev] Re: [dev] RE: Build broken", "build broken", True),
        ("[dev]", "[dev]", False),
        ("Hello (fwd)", "hello", True),
        ("[Fwd: Hello]", "hello", True),
        ("\uff28\uff25\uff2c\uff2c\uff2f", "hello", False),  # full-width letters
        ("Re:", "", True),
        ("", "", False),
        # Words that merely start like a prefix are the subject, not a prefix.
        ("Regarding: the plan", "regarding: the plan", False),
        ("Info: server down", "info: server down", False),
        ("Reply needed", "reply needed", False),
        ("Fwd without colon", "fwd without colon", False),
    ],
)
def test_subject_key(subject: str, key: str, reply: bool) -> None:
    assert subject_key(subject) == key
    assert is_reply_or_forward(subject) is reply


def test_corpus_has_every_kind_of_mail() -> None:
    """Guards the corpus itself: the tests below are only as strong as its variety."""
    mails = make_corpus(1)
    conversations = known_groups(mails)
    assert len(conversations) >= 60
    assert any(len(group) >= 10 for group in conversations)
    assert any(not m.references and not m.in_reply_to and m.subject.startswith("Re") for m in mails)
    assert any(m.in_reply_to and not m.references for m in mails)
    assert any(m.message_id is None and m.in_reply_to for m in mails)
    assert any(m.folder == ALL_MAIL for m in mails)
    assert any(m.subject.startswith("Re: new angle") for m in mails)
    ids = {m.message_id for m in mails}
    missing_parents = [m for m in mails if m.in_reply_to and m.in_reply_to not in ids]
    assert {subject_key(m.subject) for m in missing_parents} == {
        "budget review",
        "hello",
        "quarterly plan",
    }
    branching = defaultdict(int)
    for m in mails:
        if m.in_reply_to and m.folder == INBOX:
            branching[m.in_reply_to] += 1
    assert max(branching.values()) >= 2


# --- JWZ in memory --------------------------------------------------------------------------


def _groups(result: list[list[int | str]]) -> set[frozenset[int | str]]:
    return {frozenset(group) for group in result}


@pytest.mark.parametrize("seed", range(12))
def test_thread_messages_recovers_known_conversations(seed: int) -> None:
    mails = make_corpus(seed)
    random.Random(seed).shuffle(mails)
    result = thread_messages([m.thread_input() for m in mails])
    assert _groups(result) == known_groups(mails)
    dates = {m.key: m.date for m in mails}
    for group in result:
        assert [dates[str(k)] for k in group] == sorted(dates[str(k)] for k in group)
    firsts = [dates[str(group[0])] for group in result]
    assert firsts == sorted(firsts)


def _input(key: str, mid: str | None, *, refs: Sequence[str] = (), irt: str | None = None,
           subject: str = "Topic", day: float = 0) -> ThreadInput:  # fmt: skip
    return ThreadInput(key, mid, irt, tuple(refs), subject, T0 + timedelta(days=day))


def test_thread_messages_survives_reference_loops_and_self_references() -> None:
    result = thread_messages(
        [
            _input("a", "a@x", refs=["b@x"], subject="Loop"),
            _input("b", "b@x", refs=["a@x"], subject="Re: Loop", day=1),
            _input("c", "c@x", refs=["c@x", "a@x", "c@x", "b@x"], subject="Re: Loop", day=2),
            _input("self", "self@x", refs=["self@x"], irt="self@x", subject="Alone"),
        ]
    )
    assert _groups(result) == {frozenset("abc"), frozenset({"self"})}


def test_thread_messages_keeps_duplicates_and_missing_ids() -> None:
    result = thread_messages(
        [
            _input("root", "r@x", subject="Plan"),
            _input("copy", "r@x", subject="Plan"),  # the same mail in another folder
            _input("reply", "q@x", refs=["r@x"], subject="Re: Plan", day=1),
            _input("no-id-reply", None, refs=["r@x", "q@x"], subject="Re: Plan", day=2),
            _input("no-id-1", None, subject="Plan"),
            _input("no-id-2", None, subject="Plan"),
        ]
    )
    assert _groups(result) == {
        frozenset({"root", "copy", "reply", "no-id-reply"}),
        frozenset({"no-id-1"}),
        frozenset({"no-id-2"}),
    }


def test_thread_messages_joins_siblings_of_a_missing_parent() -> None:
    # Both answer a message we never got: JWZ's empty container keeps them together.
    result = thread_messages(
        [
            _input("b", "b@x", refs=["gone@x"], subject="Re: Gone"),
            _input("c", "c@x", refs=["root@x", "gone@x"], subject="Re: Gone", day=1),
            _input("d", "d@x", refs=["root@x", "other@x"], subject="Re: Gone", day=2),
        ]
    )
    assert _groups(result) == {frozenset("bcd")}


def test_subject_fallback_rules_in_memory() -> None:
    result = thread_messages(
        [
            _input("report-1", "r1@x", subject="Weekly report"),
            _input("report-2", "r2@x", subject="Weekly report", day=7),
            # Two originals never join on subject; a reply whose parent we lack joins the
            # nearest original (JWZ: its root is a "Re:" whose parent is missing) ...
            _input("dangling", "d@x", irt="r0@x", subject="Re: Weekly report", day=8),
            # ... and so does a reply with no headers at all.
            _input("bare", "b@x", subject="RE: Weekly report", day=9),
            _input("lunch", "l1@x", subject="Lunch?"),
            _input("late-bare", "l2@x", subject="Re: Lunch?", day=45),
            _input("late-dangling", "l3@x", irt="l0@x", subject="Re: Lunch?", day=46),
            _input("bare-1", "x1@x", subject="Re: Orphan"),
            _input("bare-2", "x2@x", subject="Fwd: Orphan", day=3),
        ]
    )
    assert _groups(result) == {
        frozenset({"report-1"}),
        frozenset({"report-2", "dangling", "bare"}),
        frozenset({"lunch"}),
        # Too far from "Lunch?" (SUBJECT_WINDOW), close to each other: both lack a beginning.
        frozenset({"late-bare", "late-dangling"}),
        frozenset({"bare-1", "bare-2"}),
    }


def test_a_reply_whose_parents_are_missing_joins_its_subject() -> None:
    result = thread_messages(
        [
            _input("budget", "budget@x", subject="Budget 2025"),
            # Both name only mail this mailbox never got (we were copied in later).
            _input(
                "reply",
                "reply@x",
                refs=["gone-1@x", "gone-2@x"],
                irt="gone-2@x",
                subject="Re: Budget 2025",
                day=2,
            ),
            _input(
                "answer",
                "answer@x",
                refs=["gone-1@x", "gone-2@x", "reply@x"],
                irt="reply@x",
                subject="AW: Re: Budget 2025",
                day=3,
            ),
            # Two beginning-less conversations with one subject and no original: one thread.
            _input("fw-1", "fw1@x", irt="lost-1@x", subject="Fwd: Offsite agenda", day=1),
            _input("fw-2", "fw2@x", irt="lost-2@x", subject="Re: Offsite agenda", day=2),
        ]
    )
    assert _groups(result) == {
        frozenset({"budget", "reply", "answer"}),
        frozenset({"fw-1", "fw-2"}),
    }


def test_a_missing_parent_join_has_guards() -> None:
    result = thread_messages(
        [
            _input("hello", "hello@x", subject="Hello"),
            # A generic subject says nothing: the reply stays on its own ...
            _input("hello-reply", "hr@x", irt="other-hello@x", subject="Re: Hello", day=1),
            _input("empty", "e@x", subject=""),
            _input("empty-reply", "er@x", irt="gone@x", subject="Re:", day=1),
            # ... as does one whose own parent is here: its conversation has its beginning.
            _input("status-a", "sa@x", subject="Status update"),
            _input("status-a-reply", "sar@x", irt="sa@x", subject="Re: Status update", day=0.1),
            _input("status-b", "sb@x", subject="Status update", day=1),
        ]
    )
    assert _groups(result) == {
        frozenset({"hello"}),
        frozenset({"hello-reply"}),
        frozenset({"empty"}),
        frozenset({"empty-reply"}),
        frozenset({"status-a", "status-a-reply"}),
        frozenset({"status-b"}),
    }


@pytest.mark.parametrize("order", ["oldest-first", "newest-first", "shuffled"])
def test_thread_messages_handles_a_10000_message_chain(order: str) -> None:
    ids = [f"m{n}@x" for n in range(10_000)]
    messages = [
        _input(f"k{n}", ids[n], refs=[ids[0], *ids[max(1, n - 9) : n]], day=n / 100)
        for n in range(10_000)
    ]
    if order == "newest-first":
        messages.reverse()
    elif order == "shuffled":
        random.Random(7).shuffle(messages)
    started = time.monotonic()
    result = thread_messages(messages)
    assert time.monotonic() - started < 10
    assert len(result) == 1
    assert result[0] == [f"k{n}" for n in range(10_000)]


def test_thread_messages_handles_a_deep_parent_only_chain() -> None:
    # Each message names only its parent, delivered newest first: every link is found late.
    messages = [
        _input(f"k{n}", f"m{n}@x", irt=f"m{n - 1}@x" if n else None, day=n / 1000)
        for n in reversed(range(10_000))
    ]
    result = thread_messages(messages)
    assert len(result) == 1
    assert len(result[0]) == 10_000
