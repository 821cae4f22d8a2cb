"""One-line and thread summaries: the dev set against the issue's baseline, the cleaning rules
one by one, the thread summary's parts, and the cost triage pays per message."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from postwise.ai.local.rouge import scores
from postwise.ai.local.summary import MAX_WORDS, baseline, one_line, thread_summary
from postwise.ai.mailview import MailView, view_of_parsed
from postwise.mime.parse import parse_message
from postwise.mime.quotes import find_quote_and_signature

DEV_SET = Path(__file__).parent / "data" / "summary_dev.jsonl"
NOW = datetime(2024, 11, 20, 10, 0, tzinfo=UTC)  # a Wednesday


def mail(
    body: str,
    *,
    subject: str = "Hello",
    name: str = "Dana Whitfield",
    address: str = "dana@northwind.io",
    **fields: object,
) -> MailView:
    quote, signature = find_quote_and_signature(body)
    view = MailView(
        subject=subject,
        from_name=name,
        from_address=address,
        text=body,
        sent_at=NOW,
        quote_offset=quote,
        signature_offset=signature,
    )
    return replace(view, **fields)  # type: ignore[arg-type]


def _dev_rows() -> list[tuple[str, MailView, list[str]]]:
    rows = []
    for line in DEV_SET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        view = view_of_parsed(parse_message(row["message"].encode()))
        rows.append((row["id"], view, row["expect"]["summary_refs"]))
    return rows


def _mean(pairs: list[dict[str, float]]) -> dict[str, float]:
    return {key: sum(p[key] for p in pairs) / len(pairs) for key in ("rouge1", "rouge2", "rougeL")}


def test_dev_set_is_well_formed() -> None:
    rows = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 40
    assert len({row["id"] for row in rows}) == len(rows)
    for row in rows:
        assert set(row) == {"id", "message", "expect"}
        assert len(row["expect"]["summary_refs"]) == 2
        parsed = parse_message(row["message"].encode())
        assert parsed.parse_error is None, row["id"]
        assert parsed.from_ is not None and parsed.subject, row["id"]


def test_one_line_beats_the_first_sentence_baseline_on_the_dev_set() -> None:
    ours, theirs = [], []
    for _, view, refs in _dev_rows():
        ours.append(scores(one_line(view), refs))
        theirs.append(scores(baseline(view), refs))
    got, base = _mean(ours), _mean(theirs)
    print(f"\none_line {got}\nbaseline {base}")
    for key in ("rouge1", "rouge2", "rougeL"):
        assert got[key] >= base[key], key
    # A floor well under today's figures (0.52 / 0.32 / 0.48): a regression, not noise.
    assert got["rouge1"] >= 0.45 and got["rouge2"] >= 0.25 and got["rougeL"] >= 0.40


def test_one_line_is_short_and_never_ends_on_a_fragment() -> None:
    for id_, view, _ in _dev_rows():
        line = one_line(view)
        assert 2 <= len(line.split()) <= MAX_WORDS, id_
        last = line.split()[-1].lower().strip(".,;:!?\"'")
        assert last not in {"the", "a", "an", "to", "of", "and", "with", "for", "by", "is"}, id_
        assert "\n" not in line


def test_greetings_pleasantries_and_sign_off_are_skipped() -> None:
    view = mail(
        "Hi Alex,\n\nHope you're well! I wanted to let you know that the launch moved to "
        "May 3.\n\nThanks,\nDana\n"
    )
    assert one_line(view) == "The launch moved to May 3."


def test_newsletter_boilerplate_is_skipped() -> None:
    view = mail(
        "View this email in your browser\n\nTHE WEEKLY\n\nOur new pricing page goes live "
        "on Monday.\n\nUnsubscribe | Manage preferences\n",
        list_unsubscribe="<mailto:x@example.com>",
    )
    assert one_line(view) == "Our new pricing page goes live on Monday."


def test_quoted_history_and_signature_are_not_summarised() -> None:
    view = mail(
        "Done, merged.\n\n-- \nDana Whitfield\nNorthwind\n\n"
        "On Tue, Nov 19, 2024 at 9:00 AM Alex <alex@example.com> wrote:\n"
        "> Can you merge the release branch and tag it before the demo?\n"
    )
    assert one_line(view) == "Done, merged."


def test_subject_stands_in_for_an_empty_or_boilerplate_body() -> None:
    assert one_line(mail("", subject="Re: Fwd: Lunch at 12:30?")) == "Lunch at 12:30?"
    assert one_line(mail("Unsubscribe\nhttps://example.com/x\n", subject="Weekly digest #12")) == (
        "Weekly digest #12"
    )


def test_a_long_sentence_is_cut_at_a_clause_boundary() -> None:
    view = mail(
        "The shipment for purchase order 7781 has been delayed by a customs inspection at "
        "Felixstowe and is now expected to arrive on January 8 rather than December 23, which "
        "we regret."
    )
    assert one_line(view) == (
        "The shipment for purchase order 7781 has been delayed by a customs inspection at "
        "Felixstowe"
    )


THREAD = [
    mail(
        "Hi Ben,\n\nCould you send me the Q3 slides by Friday? Also, which room did we book "
        "for the review?\n\nThanks,\nDana\n",
        subject="Q3 review",
    ),
    mail(
        "We booked room 4 for the review. Slides are almost done.\n\nBen\n\n"
        "On Wed, Nov 20, 2024 at 9:00 AM Dana Whitfield <dana@northwind.io> wrote:\n"
        "> Could you send me the Q3 slides by Friday?\n",
        name="Ben Ortiz",
        address="ben@northwind.io",
    ),
    mail("Thanks!\n", name="Dana Whitfield"),
    mail(
        "One more thing: finance wants the final numbers in the appendix. Can you add them "
        "before Monday?\n\nDana\n"
    ),
]


def test_thread_summary_has_points_questions_and_actions() -> None:
    result = thread_summary(THREAD, now=NOW)
    assert result.key_points == [
        "Dana: Could you send me the Q3 slides by Friday?",
        "Ben: We booked room 4 for the review.",
        "Dana: Finance wants the final numbers in the appendix.",
    ]
    assert result.summary.startswith("Could you send me the Q3 slides by Friday")
    assert "Latest: Finance wants the final numbers" in result.summary
    # The last question has no answer yet; the first ones were answered by Ben.
    assert result.questions[0] == "Can you add them before Monday?"
    assert "Also, which room did we book for the review?" in result.questions
    assert [(item.text, item.due) for item in result.action_items] == [
        ("Could you send me the Q3 slides by Friday?", date(2024, 11, 22)),
        ("Can you add them before Monday?", date(2024, 11, 25)),
    ]
    # Nothing from the quoted history is repeated.
    assert sum("Q3 slides" in item.text for item in result.action_items) == 1


def test_thread_summary_of_acknowledgements_only_and_of_nothing() -> None:
    result = thread_summary([mail("Thanks!\n"), mail("Sounds good, see you then.\n")], now=NOW)
    assert result.key_points == []
    assert result.summary  # still says something: the last message
    empty = thread_summary([], now=NOW)
    assert empty.summary == "" and empty.key_points == [] and empty.action_items == []


def test_thread_action_items_keep_the_latest_past_the_limit() -> None:
    mails = [mail(f"Please send report {i}.\n") for i in range(14)]
    texts = [item.text for item in thread_summary(mails, now=NOW).action_items]
    assert texts == [f"Please send report {i}." for i in range(4, 14)]


@pytest.mark.parametrize("count", [1, 12])
def test_thread_summary_limits(count: int) -> None:
    mails = [
        mail(f"Update number {i}: the build {i} passed all checks today.\n") for i in range(count)
    ]
    result = thread_summary(mails, now=NOW)
    assert len(result.key_points) == min(count, 8)
    assert result.key_points[0].startswith("Dana: Update number 0")
    assert result.key_points[-1].startswith(f"Dana: Update number {count - 1}")


HOSTILE = [
    "Thanks " + "a" * 3000 + " b c d e",  # once took minutes in a backtracking pattern
    "re" + " " * 5000,
    "[external" + " " * 5000 + "x",
    "http://" * 5000 + " x",
    "a." * 20000,
    "Hi Dana,\n" * 3000,
    "Could you meet Thursday at 3pm? " * 2000,
    "\x00" * 10000,
    "A " * 50000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_summarised_quickly(text: str) -> None:
    view = mail(text, subject=text[:2000])
    start = time.perf_counter()
    line = one_line(view)
    thread_summary([view, view], now=NOW)
    assert time.perf_counter() - start < 2.0
    assert len(line.split()) <= MAX_WORDS
