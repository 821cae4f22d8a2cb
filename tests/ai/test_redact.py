"""Redaction before a remote call: addresses, phone numbers and Luhn-valid card numbers become
placeholders, consistently across a request's messages, with the quote and signature offsets
kept right; addresses and phones come back in the answer (also across streamed pieces), cards
never do."""

from __future__ import annotations

import pytest

from postwise.ai.mailview import MailView
from postwise.ai.redact import Redactor, luhn_valid


def test_addresses_become_numbered_placeholders_the_same_one_for_the_same_address() -> None:
    redactor = Redactor()
    text = redactor.text(
        "Write to Dana.Lee@Example.com or ops@corp.example.org; DANA.LEE@example.com"
    )
    assert text == "Write to [email 1] or [email 2]; [email 1]"
    assert redactor.restore("Ask [email 2] first") == "Ask ops@corp.example.org first"


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+1 (555) 123-4567",
        "(555) 123-4567",
        "030 1234 5678",
        "0049-30-901820",
        "07700900123",
    ],
)
def test_phone_numbers_are_replaced(phone: str) -> None:
    redactor = Redactor()
    assert redactor.text(f"Call me on {phone} tonight.") == "Call me on [phone 1] tonight."
    assert redactor.restore("[phone 1]") == phone


def test_a_bare_number_counts_as_a_phone_after_a_phone_word() -> None:
    assert Redactor().text("Mobile: 5551234567") == "Mobile: [phone 1]"
    # Without the cue, a bare run of digits is an order or reference number.
    assert Redactor().text("Order 5551234567 shipped") == "Order 5551234567 shipped"


@pytest.mark.parametrize(
    "text",
    [
        "Due 2024-03-14, or 14.03.2024 at the latest",
        "The server is at 192.168.10.20",
        "It costs 1 200 000 EUR, that is 1,234,567.50 USD",
        "Invoice 12345 of 3 items",
        "Version 1.2.3 is out",
    ],
)
def test_dates_addresses_amounts_and_short_numbers_are_left_alone(text: str) -> None:
    assert Redactor().text(text) == text


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("5500005555555559")
    assert not luhn_valid("4111111111111112")


def test_card_numbers_are_replaced_only_when_luhn_valid_and_never_restored() -> None:
    redactor = Redactor()
    text = redactor.text(
        "Card 4111 1111 1111 1111, also 4111-1111-1111-1111; not 4111 1111 1111 1112"
    )
    assert text == "Card [card 1], also [card 1]; not 4111 1111 1111 1112"
    assert redactor.restore("charged [card 1]") == "charged [card 1]"


def test_a_message_is_redacted_everywhere_and_its_cut_points_follow() -> None:
    body = "Hi, call +44 20 7946 0958 or mail bob@example.com.\n"
    quote = "> On Monday alice@example.com wrote:\n> hi\n"
    signature = "-- \nBob, bob@example.com, +44 20 7946 0958\n"
    mail = MailView(
        subject="From alice@example.com",
        from_name="Bob bob@example.com",
        from_address="bob@example.com",
        text=body + quote + signature,
        to=("alice@example.com",),
        cc=("carol@example.com",),
        quote_offset=len(body),
        signature_offset=len(body + quote),
        user_addresses=frozenset({"alice@example.com"}),
    )
    redactor = Redactor()
    redacted = redactor.mail(mail)
    assert redacted.from_address == "[email 1]"
    assert redacted.to == ("[email 2]",)
    assert redacted.cc == ("[email 3]",)
    assert redacted.subject == "From [email 2]"
    assert redacted.user_addresses == frozenset({"[email 2]"})
    assert redacted.body == "Hi, call [phone 1] or mail [email 1].\n"
    assert redacted.text[redacted.quote_offset :].startswith("> On Monday [email 2] wrote:")
    assert redacted.text[redacted.signature_offset :] == "-- \nBob, [email 1], [phone 1]\n"
    for field in ("subject", "from_name", "text"):
        assert "@" not in getattr(redacted, field)
    # The same mail always redacts the same way (cached answers are restored with it).
    assert Redactor().mail(mail) == redacted


def test_streamed_placeholders_are_restored_even_when_split_across_pieces() -> None:
    redactor = Redactor()
    redactor.text("Reach me at dana@example.com or +44 20 7946 0958")
    restorer = redactor.stream()
    pieces = ["Sure, I will write to [em", "ail 1] and call [", "phone 1", "]. See [note] ["]
    out = "".join(restorer.feed(piece) for piece in pieces) + restorer.flush()
    assert out == "Sure, I will write to dana@example.com and call +44 20 7946 0958. See [note] ["
