"""Quoted history and signature detection in plain-text bodies."""

from __future__ import annotations

import time

import pytest

from postwise.mime.quotes import find_quote_and_signature


def quote_of(text: str) -> str | None:
    quote, _ = find_quote_and_signature(text)
    return None if quote is None else text[quote:]


def signature_of(text: str) -> str | None:
    _, signature = find_quote_and_signature(text)
    return None if signature is None else text[signature:]


@pytest.mark.parametrize(
    "attribution",
    [
        "On Tue, 30 Apr 2024 at 09:00, Alice Example <alice@example.org> wrote:",
        "On 30 Apr 2024, at 09:00, Alice Example <alice@example.org> wrote:",
        'On 30/04/2024, 09:00, "Alice Example" <alice@example.org> wrote:',
        "Am Di., 30. Apr. 2024 um 09:00 Uhr schrieb Alice Example <alice@example.org>:",
        "Am 30.04.2024 um 09:00 schrieb Alice Example:",
        "Le mar. 30 avr. 2024 à 09:00, Alice Example <alice@example.org> a écrit :",
        "Le 30/04/2024 à 09:00, Alice Example a\xa0écrit\xa0:",
        "El mar, 30 abr 2024 a las 9:00, Alice Example (<alice@example.org>) escribió:",
        "Op di 30 apr. 2024 om 09:00 schreef Alice Example <alice@example.org>:",
        "Il giorno mar 30 apr 2024 alle ore 09:00 Alice Example <alice@example.org> ha scritto:",
    ],
)
def test_attribution_followed_by_quoted_lines(attribution: str) -> None:
    text = f"Sounds good, see you then.\n\n{attribution}\n> Shall we meet at ten?\n> Alice\n"
    assert quote_of(text) == f"{attribution}\n> Shall we meet at ten?\n> Alice\n"


def test_attribution_wrapped_over_two_lines() -> None:
    text = (
        "Thanks!\n\nOn Tue, Apr 30, 2024 at 9:00 AM Alice Example <\n"
        "alice@example.org> wrote:\n\n> old text\n"
    )
    assert quote_of(text) == (
        "On Tue, Apr 30, 2024 at 9:00 AM Alice Example <\nalice@example.org> wrote:\n\n> old text\n"
    )


def test_attribution_with_unprefixed_history() -> None:
    text = "Reply on top.\n\nOn Tue, 30 Apr 2024 at 09:00, Alice <a@example.org> wrote:\n\nold\n"
    assert quote_of(text) == "On Tue, 30 Apr 2024 at 09:00, Alice <a@example.org> wrote:\n\nold\n"


def test_a_line_before_quotes_is_only_an_attribution_when_it_ends_with_a_colon() -> None:
    text = "Agreed.\nOn 30 Apr 2024 Alice wrote the plan down\n> the plan\n"
    assert quote_of(text) == "> the plan\n"


def test_run_of_quoted_lines_at_the_end() -> None:
    text = "I agree.\n\n> first quoted line\n> second quoted line\n>\n> > nested\n"
    assert quote_of(text) == "> first quoted line\n> second quoted line\n>\n> > nested\n"


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "----- Original Message -----",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "-----Mensaje original-----",
        "-----Oorspronkelijk bericht-----",
        "-----Messaggio originale-----",
    ],
)
def test_outlook_original_message_separator(separator: str) -> None:
    text = f"Done.\n\n{separator}\nFrom: Alice\nSent: Tuesday\nTo: Bob\nSubject: x\n\nold\n"
    assert quote_of(text) == text[text.index(separator) :]


@pytest.mark.parametrize(
    "header",
    [
        "From: Alice <alice@example.org>\nSent: Tuesday, April 30, 2024 9:00 AM\nTo: Bob\n"
        "Subject: Plan",
        "*From:* Alice <alice@example.org>\n*Sent:* Tuesday, April 30, 2024 9:00 AM\n"
        "*To:* Bob\n*Subject:* Plan",
        "Von: Alice <alice@example.org>\nGesendet: Dienstag, 30. April 2024 09:00\nAn: Bob\n"
        "Betreff: Plan",
        "De : Alice <alice@example.org>\nEnvoyé : mardi 30 avril 2024 09:00\nÀ : Bob\nObjet : Plan",
        "De: Alice <alice@example.org>\nEnviado el: martes, 30 de abril de 2024 9:00\n"
        "Para: Bob\nAsunto: Plan",
        "Van: Alice <alice@example.org>\nVerzonden: dinsdag 30 april 2024 09:00\nAan: Bob\n"
        "Onderwerp: Plan",
        "Da: Alice <alice@example.org>\nInviato: martedì 30 aprile 2024 09:00\nA: Bob\n"
        "Oggetto: Plan",
    ],
)
def test_outlook_header_block(header: str) -> None:
    text = f"Fine by me.\n\n{header}\n\nThe old message.\n"
    assert quote_of(text) == f"{header}\n\nThe old message.\n"


def test_outlook_header_block_with_underscore_rule() -> None:
    rule = "_" * 32
    text = (
        f"Fine by me.\n\n{rule}\nFrom: Alice <alice@example.org>\nSent: Tuesday\nTo: Bob\n"
        "Subject: Plan\n\nold\n"
    )
    assert quote_of(text) == text[text.index(rule) :]


def test_forwarded_message_is_not_quoted_history() -> None:
    text = (
        "See below.\n\n---------- Forwarded message ---------\nFrom: Alice <a@example.org>\n"
        "Date: Tue, 30 Apr 2024 at 09:00\nSubject: Plan\nTo: Bob <b@example.org>\n\nThe plan.\n"
    )
    assert quote_of(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "On Monday John wrote a long letter to the editor.\n",
        "On second thought, here is what I wrote:\nthe plan is to meet at ten.\n",
        "On 3 occasions he wrote: never again.\n",
        "He wrote: 'hello'.\nShe wrote back.\n",
        "From: the desk of the CEO\nPlease read the memo.\n",
        "From: Sales team\nTo: All staff\nRe: the memo below\n\nPlease read it.\n",
        "Am Ende schrieb er nichts.\n",
        "> a quote at the top\n\nand my answer below it\n",
        "> q1\nanswer one\n> q2\nanswer two\n",
        "On Tue, 30 Apr 2024 Alice wrote:\n> question\n\nmy answer below\n",
        "",
        "\n\n\n",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert quote_of(text) is None


def test_rfc3676_signature() -> None:
    text = "See you then.\n-- \nBob Example\nExample GmbH\n"
    assert signature_of(text) == "-- \nBob Example\nExample GmbH\n"


def test_signature_before_the_quote() -> None:
    text = (
        "Yes.\n-- \nBob\n\nOn Tue, 30 Apr 2024 at 09:00, Alice <a@example.org> wrote:\n"
        "> Lunch?\n> -- \n> Alice\n"
    )
    quote, signature = find_quote_and_signature(text)
    assert quote is not None
    assert signature is not None
    assert text[signature:quote] == "-- \nBob\n\n"
    assert text[quote:].startswith("On Tue")


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Sent from my iPad",
        "Sent from my Galaxy",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Get Outlook for Android",
        "Sent from Mail for Windows",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPhone",
        "Enviado desde mi iPhone",
        "Verstuurd vanaf mijn iPhone",
        "Inviato da iPhone",
    ],
)
def test_mobile_footer_is_a_signature(footer: str) -> None:
    text = f"Running late, ten minutes.\n\n{footer}\n"
    assert signature_of(text) == f"{footer}\n"


def test_mobile_footer_before_quoted_history() -> None:
    text = "Yes!\n\nSent from my iPhone\n\n> On 30 Apr 2024, at 09:00, Alice wrote:\n> Lunch?\n"
    quote, signature = find_quote_and_signature(text)
    assert signature is not None
    assert quote is not None
    assert text[signature:quote] == "Sent from my iPhone\n\n"


@pytest.mark.parametrize(
    "text",
    [
        "Hi\n--\nBob\n",  # no space: too often a plain separator
        "Thanks,\nBob\n",
        "Best regards,\nBob Example\n",
        "I was sent from my office to the branch.\nMore text follows here.\nAnd more.\nEnd.\n",
        "Sent from my iPhone\nbut then I wrote a lot more\nin several lines\nafter it\n",
    ],
)
def test_no_signature_false_positives(text: str) -> None:
    assert signature_of(text) is None


def test_offsets_index_into_the_text() -> None:
    text = "é ünïcode first\n-- \nsig\n\n> quoted\n"
    quote, signature = find_quote_and_signature(text)
    assert (quote, signature) == (text.index("> quoted"), text.index("-- \n"))


def test_pathological_input_is_fast() -> None:
    # Long lines with many near-matches: per-line anchored, bounded patterns stay linear.
    nasty = ("On " + "a" * 5000 + " wrote" * 200 + "\n") * 50
    nasty += ("From: " + ":" * 3000 + "\n") * 50 + ("> " * 2000 + "\n") * 200
    nasty += ("-" * 10_000 + "\n") * 20
    start = time.perf_counter()
    find_quote_and_signature(nasty)
    assert time.perf_counter() - start < 0.5
