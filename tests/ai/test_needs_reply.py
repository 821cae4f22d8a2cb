"""Needs-reply (rules, cues and the model), triage as a whole, and the local provider."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from postwise.ai.local import category, reply, summary
from postwise.ai.local.needs_reply import needs_reply, reply_cues, trained_model
from postwise.ai.local.signals import header_signals
from postwise.ai.local.triage import triage, warm_up
from postwise.ai.mailview import MailView
from postwise.ai.providers.base import ReplyRequest, Style, TaskSpec
from postwise.ai.providers.local import LocalProvider
from postwise.ai.results import Analysis, Category, ThreadSummary, Tone, Triage

ME = "sam@harbor.example"
SENT = datetime(2024, 11, 12, 9, 30, tzinfo=UTC)  # a Tuesday


def mail(text: str, subject: str = "Hello", **changes: object) -> MailView:
    fields: dict[str, object] = {
        "subject": subject,
        "from_name": "Ines Duarte",
        "from_address": "ines.duarte@harbor.example",
        "text": text,
        "to": (ME,),
        "sent_at": SENT,
        "user_addresses": frozenset({ME}),
    }
    fields.update(changes)
    return MailView(**fields)  # type: ignore[arg-type]


QUESTION = "Hi Sam, can you send me the signed contract by Friday? Legal is waiting on it."


# --- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"list_unsubscribe": "<https://news.example/u>"},
        {"list_id": "updates.news.example"},
        {"precedence": "bulk"},
        {"auto_submitted": "auto-generated"},
        {"from_address": "no-reply@harbor.example"},
        {"has_calendar": True},
        {"from_address": ME, "to": ("lee@harbor.example",)},
    ],
    ids=["unsubscribe", "list-id", "precedence", "auto-submitted", "noreply", "calendar", "mine"],
)
def test_machine_calendar_and_own_mail_never_need_a_reply(changes: dict[str, object]) -> None:
    flag, confidence = needs_reply(mail(QUESTION, **changes))
    assert flag is False
    assert confidence >= 0.85


# --- the model ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        QUESTION,
        "Are you free for a call on Thursday afternoon to go over the launch plan?",
        "Please review the attached proposal and let me know your thoughts by Wednesday.",
        "I need your approval on the budget before I can place the order.",
        "Let me know which day works for the site visit next week.",  # no question mark
        "Could you forward me the slides from this morning?",
    ],
)
def test_questions_and_requests_to_the_user_need_a_reply(text: str) -> None:
    flag, confidence = needs_reply(mail(text))
    assert flag is True
    assert 0.5 <= confidence <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "Thanks so much, that's perfect!",
        "FYI: the office is closed on Monday for the holiday. No action needed.",
        "I've updated the deck with the new numbers. Let me know if you have any questions.",
        "Deploy is done, all checks green. I'll keep an eye on the error rates tonight.",
        "Got it, see you at 3.",
    ],
)
def test_updates_thanks_and_courtesy_closings_need_none(text: str) -> None:
    flag, confidence = needs_reply(mail(text))
    assert flag is False
    assert 0.5 <= confidence <= 1.0


def test_a_request_to_someone_else_with_the_user_in_cc() -> None:
    text = "Lee, can you book a room for the retro on Friday? Copying Sam for visibility."
    cc = mail(text, to=("lee@harbor.example",), cc=(ME,))
    assert needs_reply(cc)[0] is False


def test_reply_cues() -> None:
    cues = reply_cues(mail(QUESTION), header_signals(mail(QUESTION)))
    assert {"q1", "q_you", "req2", "deadline", "hdr_direct"} <= set(cues)  # "can you", "send me"
    closing = mail("Attached is the report. Let me know if you have any questions.")
    assert {"q0", "req0"} <= set(reply_cues(closing, header_signals(closing)))
    thanks = mail("Thanks a lot!")
    assert "thanks_only" in reply_cues(thanks, header_signals(thanks))


def test_quoted_questions_do_not_count() -> None:
    text = "Sounds good, thanks!\n\nOn Monday Sam wrote:\n> Can you send it by Friday?\n"
    quoted = mail(text, quote_offset=text.index("On Monday"))
    assert needs_reply(quoted)[0] is False


# --- triage ---------------------------------------------------------------------------------


def test_triage_combines_the_tasks() -> None:
    result = triage(mail(QUESTION, subject="Signed contract"), now=SENT)
    assert result.category is Category.WORK
    assert result.needs_reply is True
    assert 0.5 <= result.needs_reply_confidence <= 1.0
    assert result.summary == summary.one_line(mail(QUESTION, subject="Signed contract"))
    assert [item.due for item in result.action_items] == [date(2024, 11, 15)]


def test_triage_finds_no_to_do_in_a_promotion() -> None:
    promo = mail(
        "Please shop our winter sale by Sunday: 40% off everything with code SNOW.",
        subject="40% off ends Sunday",
        from_address="deals@shop.example",
        list_unsubscribe="<https://shop.example/u>",
    )
    result = triage(promo, now=SENT)
    assert result.category is Category.PROMOTION
    assert result.needs_reply is False
    assert result.action_items == []


def test_warm_up_trains_each_model_once() -> None:
    warm_up()
    model, reply_model = category.default_model(), trained_model()
    warm_up()
    assert category.default_model() is model
    assert trained_model() is reply_model


# --- the local provider ---------------------------------------------------------------------


def _spec(name: str, schema: type) -> TaskSpec:  # type: ignore[type-arg]
    return TaskSpec(name=name, schema=schema, version=1, instructions="")


async def test_local_provider_triage_reads_dates_from_the_message() -> None:
    provider = LocalProvider(clock=lambda: datetime(2030, 1, 1, tzinfo=UTC))
    assert (provider.name, provider.model) == ("local", "postwise-local-1")
    message = mail(QUESTION)
    answer = await provider.structured(_spec("triage", Triage), [mail("older"), message])
    assert answer == triage(message, now=SENT)
    undated = mail(QUESTION, sent_at=None)
    later = await provider.structured(_spec("triage", Triage), [undated])
    assert later.action_items[0].due == date(2030, 1, 4)  # the Friday after the clock's day


async def test_local_provider_thread_summary_and_analysis() -> None:
    provider = LocalProvider()
    thread = [mail("Can we move the review to Thursday?"), mail("Thursday works, thanks!")]
    found = await provider.structured(_spec("thread_summary", ThreadSummary), thread)
    assert found == summary.thread_summary(thread, now=SENT)
    analysis = await provider.structured(_spec("analysis", Analysis), [mail(QUESTION)])
    assert isinstance(analysis, Analysis)
    with pytest.raises(ValueError, match="no task named"):
        await provider.structured(_spec("horoscope", Triage), [mail(QUESTION)])
    with pytest.raises(ValueError, match="at least one"):
        await provider.structured(_spec("triage", Triage), [])


async def test_local_provider_streams_the_template_draft_word_by_word() -> None:
    request = ReplyRequest([mail(QUESTION)], Tone.FRIENDLY, None, Style(name="Sam"))
    pieces = [piece async for piece in LocalProvider().reply(request)]
    assert len(pieces) > 3
    assert all(len(piece.split()) == 1 for piece in pieces)
    assert "".join(pieces) == reply.draft_reply(request)
    assert await LocalProvider().embed(["anything"]) is None
