"""Message analysis: intent, urgency, sentiment and entities on typical mail, from a fixed
`now`."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, datetime

import pytest

from postwise.ai.local.analysis import amounts, analyse, sentiment
from postwise.ai.mailview import MailView
from postwise.mime.quotes import find_quote_and_signature

NOW = datetime(2024, 11, 20, 10, 0)  # a Wednesday


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
        to=("alex.kim@example.com",),
        sent_at=NOW,
        quote_offset=quote,
        signature_offset=signature,
    )
    return replace(view, **fields)  # type: ignore[arg-type]


def test_a_complaint() -> None:
    result = analyse(
        mail(
            "Hello,\n\nI was charged twice for my subscription ($99 each time). I'm really "
            "frustrated. Please refund the duplicate charge as soon as possible.\n\nLinda Park\n",
            subject="Charged twice",
            name="Linda Park",
            address="linda.park@yahoo.com",
        ),
        now=NOW,
    )
    assert result.intent == "complaint"
    assert result.sentiment == "negative"
    assert result.urgency == "high"  # "as soon as possible"
    assert result.entities.amounts == ["$99"]
    assert result.entities.organisations == []  # a mail provider names no organisation
    assert [i.text for i in result.action_items] == [
        "Please refund the duplicate charge as soon as possible."
    ]


def test_an_invoice() -> None:
    result = analyse(
        mail(
            "Dear customer,\n\nYour invoice INV-2291 is available. The amount due is $1,240.50 "
            "and payment is due by November 22, 2024.\n\nRegards,\nCloudNine Billing\n",
            subject="Invoice INV-2291",
            name="CloudNine Billing",
            address="billing@cloudnine.dev",
        ),
        now=NOW,
    )
    assert result.intent == "transaction"
    assert result.urgency == "medium"  # due in two days
    assert result.entities.amounts == ["$1,240.50"]
    assert result.entities.dates == ["November 22, 2024"]
    assert result.entities.organisations == ["CloudNine Billing"]
    assert "CloudNine Billing" not in result.entities.people
    assert result.action_items[0].due == date(2024, 11, 22)


def test_a_meeting_request_with_people_and_organisations() -> None:
    body = (
        "Hi Alex,\n\nCould we meet on Thursday at 3pm to go through the Fabrikam Ltd "
        "proposal? Are you free?\n\nBest,\nGrace\n"
    )
    result = analyse(
        mail(body, name="Okafor, Grace", address="g.okafor@mail.fabrikam.co.uk"), now=NOW
    )
    assert result.intent == "scheduling"
    assert result.urgency == "high"  # Thursday is tomorrow
    assert result.entities.people == ["Grace Okafor", "Alex Kim"]
    assert result.entities.organisations == ["Fabrikam Ltd"]
    assert result.questions == [
        "Could we meet on Thursday at 3pm to go through the Fabrikam Ltd proposal?",
        "Are you free?",
    ]


def test_a_promotion_is_marketing_and_never_urgent() -> None:
    result = analyse(
        mail(
            "URGENT: 48 hours only! Every jacket is 30% off. Use code WARM30.\n\nUnsubscribe\n",
            subject="Last chance: 30% off",
            name="Lumen Outdoor",
            address="deals@lumenoutdoor.com",
            list_unsubscribe="<https://lumenoutdoor.com/u>",
        ),
        now=NOW,
    )
    assert result.intent == "marketing"
    assert result.urgency == "medium"
    assert result.entities.people == ["Alex Kim"]  # the recipient; the sender is a shop
    assert result.entities.organisations == ["Lumen Outdoor"]


def test_a_thank_you_note_is_positive_social_or_information() -> None:
    result = analyse(
        mail(
            "Hi Alex,\n\nCongratulations on the launch! The new dashboard looks great and the "
            "team is thrilled.\n\nCheers,\nSam\n",
            name="Sam Patel",
            address="sam@northwind.io",
        ),
        now=NOW,
    )
    assert result.sentiment == "positive"
    assert result.intent == "social"
    assert result.urgency == "low"
    assert result.questions == [] and result.action_items == []


def test_a_plain_update_and_an_empty_message() -> None:
    update = analyse(mail("The build passed and the release is tagged.\n"), now=NOW)
    assert (update.intent, update.urgency, update.sentiment) == ("information", "low", "neutral")
    empty = analyse(mail("", name=""), now=NOW)
    assert empty.intent == "other" and empty.entities.people == ["Alex Kim"]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I am not happy with the delay.", "negative"),
        ("No problem at all, the fix works.", "neutral"),
        ("This is great, I really appreciate the help.", "positive"),
        ("Thanks for your email.", "neutral"),  # courtesy is not sentiment
        ("Unfortunately the upload failed again.", "negative"),
    ],
)
def test_sentiment_lexicon_with_negation(text: str, label: str) -> None:
    assert sentiment(text) == label


def test_currency_amounts() -> None:
    text = "Pay $1,200.50 or EUR 30 or 30 € or £5k, USD 2.5 million; 1,000 units; 42 days."
    assert amounts(text) == ["$1,200.50", "EUR 30", "30 €", "£5k", "USD 2.5 million"]


def test_quoted_history_is_not_analysed() -> None:
    body = (
        "Sounds good.\n\nOn Tue, Nov 19, 2024 at 9:00 AM Alex <alex@example.com> wrote:\n"
        "> Can you pay the $500 invoice urgently by Friday?\n"
    )
    result = analyse(mail(body), now=NOW)
    assert result.entities.amounts == [] and result.questions == []
    assert result.urgency == "low" and result.action_items == []


@pytest.mark.parametrize(
    "body",
    ["$" * 20000, "1," * 20000, "Acme " * 5000 + "Inc", "Hi " * 10000, "\x00" * 10000],
    ids=["dollars", "numbers", "org", "greetings", "nul"],
)
def test_hostile_bodies(body: str) -> None:
    start = time.perf_counter()
    analyse(mail(body, subject=body[:5000]), now=NOW)
    assert time.perf_counter() - start < 2.0
