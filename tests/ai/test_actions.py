"""Action items: which sentences ask for something, the dates they resolve to (from a fixed
`now`), the limits, and survival on hostile input."""

from __future__ import annotations

import time
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postwise.ai.local.actions import action_items, date_phrases, resolve_date

NOW = datetime(2024, 11, 20, 10, 0)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Please send me the slides by Friday.", date(2024, 11, 22)),
        ("Could you review the draft tomorrow?", date(2024, 11, 21)),
        ("Can you book a room for next Tuesday?", date(2024, 11, 26)),
        ("The deadline for the grant is Dec 12.", date(2024, 12, 12)),
        ("Please submit your timesheet by the end of the month.", date(2024, 11, 30)),
        ("I need the numbers by EOD.", date(2024, 11, 20)),
        ("Make sure the invoice is paid by end of next week.", date(2024, 11, 29)),
        ("Please reply by the 15th.", date(2024, 12, 15)),  # the 15th of November has passed
        ("Please confirm by Nov 1.", date(2025, 11, 1)),  # and so has November 1
        ("Send it within two weeks.", date(2024, 12, 4)),
        ("Could we move the review from Tuesday to Thursday?", date(2024, 11, 21)),
        ("Please RSVP by Friday, 20 December 2024.", date(2024, 12, 20)),
        ("Please review section 4 and send me your comments.", None),
        ("Payment is due by 2024-12-01.", date(2024, 12, 1)),
    ],
)
def test_requests_and_their_due_dates(text: str, due: date | None) -> None:
    items = action_items(text, now=NOW)
    assert [(item.text, item.due) for item in items] == [(text, due)]


@pytest.mark.parametrize(
    "text",
    [
        "I'll send the revised draft to legal by Friday.",  # the sender's own to-do
        "Shop now and get 30% off everything!",
        "Let me know if you have any questions.",
        "If you didn't request this, you can ignore this email.",
        "Please find attached the report for October.",
        "The launch went really well yesterday.",
        "Is this a known issue?",
        "Please do not reply to this automated message.",
    ],
)
def test_sentences_that_ask_for_nothing(text: str) -> None:
    assert action_items(text, now=NOW) == []


def test_imperatives_and_commitments_with_a_deadline() -> None:
    text = (
        "Hi team,\n\nReview section 4 before the call. Ben will share updated icons by "
        "Wednesday. We had a good week.\n\nThanks,\nDana\n"
    )
    items = action_items(text, now=NOW)
    assert [(i.text, i.due) for i in items] == [
        ("Review section 4 before the call.", None),
        ("Ben will share updated icons by Wednesday.", date(2024, 11, 27)),
    ]


def test_at_most_ten_items_and_text_within_the_schema_limit() -> None:
    text = " ".join(f"Please send report {i} by Friday." for i in range(30))
    items = action_items(text, now=NOW)
    assert len(items) == 10
    long = "Please " + "review this very long clause again " * 40 + "by Friday."
    (item,) = action_items(long, now=NOW)
    assert len(item.text) <= 300 and item.text.endswith("…")


def test_dateparser_only_sees_sentences_with_a_date_cue(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(phrase: str, **kwargs: object) -> datetime | None:
        calls.append(phrase)
        return None

    monkeypatch.setattr("dateparser.parse", counting)
    action_items("Please review the contract. Could you call the supplier?", now=NOW)
    assert calls == []
    # A day nothing else asked about, so that the answer is not cached already.
    action_items("Please send the contract on Friday.", now=datetime(2031, 1, 1))
    assert calls == ["friday"]


def test_date_phrases_and_resolution() -> None:
    text = "Are you free Thursday the 28th at 7pm, or Friday, 20 December 2024? Not Wed."
    assert date_phrases(text) == ["Thursday the 28th", "Friday, 20 December 2024", "Wed"]
    assert resolve_date("end of the quarter", now=NOW) == date(2024, 12, 31)
    assert resolve_date("this is no date", now=NOW) is None


HOSTILE = [
    "",
    "\x00\x01\x02" * 1000,
    "http://" * 5000 + " x",
    ". " * 20000,
    "a." * 20000,
    "Please " * 5000,
    "by Friday " * 3000,
    "?" * 50000,
    "Hi ," * 3000,
    "\u202e\u200f please send by friday \u202c" * 500,
    "Thanks,\n" * 5000,
    "-- \n" * 4000,
    "Please pay by 31/02/2024 or 99/99 or 0000-00-00 or Feb 30.",
    "Please send it by the 99th, in 999 weeks, next Octember.",
    "Mon Tue Wed Thu Fri " * 2000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_neither_crashes_nor_stalls(text: str) -> None:
    start = time.perf_counter()
    items = action_items(text, now=NOW)
    assert time.perf_counter() - start < 2.0
    assert len(items) <= 10


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_any_text_gives_valid_items(text: str) -> None:
    for item in action_items(text, now=NOW):
        assert 0 < len(item.text) <= 300
