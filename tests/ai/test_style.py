"""Learning the user's writing habits from their sent mail."""

from __future__ import annotations

from postwise.ai.local.style import learn_style
from postwise.ai.providers.base import Style

SENT = [
    "Hi Dana,\n\nThe slides are attached, let me know what you think.\n\nCheers,\nAl\n",
    "Hi Ben,\n\nSounds good, Thursday works.\n\nCheers,\nAl\n",
    "Hi Sam, quick one: can you check the budget numbers before Friday?\n\nCheers,\nAl\n",
    "Hello team!\n\nThe release is out. Thanks for all the work this week, it was a big "
    "one and everyone pulled together.\n\nBest,\nAl\n",
    "Thanks, will do.\n",
]


def test_greeting_sign_off_name_and_length() -> None:
    style = learn_style(SENT, name="Alex")
    assert style.greeting == "Hi {name},"
    assert style.sign_off == "Cheers,"
    assert style.name == "Al"  # how they actually sign
    # Words per message, greeting and sign-off included: 14, 8, 14, 24 and 3.
    assert style.median_words == 14


def test_too_little_mail_gives_the_defaults() -> None:
    assert learn_style(SENT[:2], name="Alex") == Style(name="Alex")
    assert learn_style(["", "  \n", "Hi Dana,\nok\n"], name="Alex") == Style(name="Alex")


def test_no_habit_means_no_greeting_or_sign_off() -> None:
    texts = [
        "Hey Dana, the build is green.\n",
        "Morning! Coffee later?\n",
        "Dear Mr. Smith,\n\nPlease find the contract attached.\n\nRegards,\nAlex Kim\n",
        "Got it.\n",
        "Yes.\n",
    ]
    style = learn_style(texts, name="Alex")
    assert style.greeting is None and style.sign_off is None
    assert style.name == "Alex"


def test_formal_greetings_use_the_name_slot() -> None:
    texts = [
        "Dear Mr. Smith,\n\nThe contract is attached.\n\nKind regards,\nAlex Kim\n",
        "Dear Ms. Jones,\n\nThank you for the quick reply.\n\nKind regards,\nAlex Kim\n",
        "Dear Priya,\n\nI confirm the meeting.\n\nKind regards,\nAlex Kim\n",
    ]
    style = learn_style(texts, name="Alex")
    assert style.greeting == "Dear {name},"
    assert style.sign_off == "Kind regards,"
    assert style.name == "Alex Kim"
