"""Known answers for each header rule triage starts from (`ai.local.signals`)."""

from __future__ import annotations

import pytest

from postwise.ai.local.signals import Signals, header_signals, is_noreply
from postwise.ai.mailview import MailView, view_of_parsed
from postwise.mime.parse import parse_message

ME = "sam@example.org"


def mail(**changes: object) -> MailView:
    fields: dict[str, object] = {
        "subject": "Lunch",
        "from_name": "Dana",
        "from_address": "dana@example.com",
        "text": "Lunch on Friday?",
        "to": (ME,),
        "user_addresses": frozenset({ME}),
    }
    fields.update(changes)
    return MailView(**fields)  # type: ignore[arg-type]


def test_a_plain_note_to_the_user_alone_has_no_machine_signal() -> None:
    signals = header_signals(mail())
    assert signals == Signals(
        bulk=False,
        list=False,
        automated=False,
        noreply=False,
        broadcast_sender=False,
        calendar=False,
        to_me=True,
        cc_me=False,
        direct=True,
        from_me=False,
        recipients=1,
    )
    assert not signals.machine


def test_list_id_means_a_mailing_list_sent_in_bulk() -> None:
    signals = header_signals(mail(list_id="team.lists.example.com"))
    assert signals.list and signals.bulk and signals.machine


def test_list_unsubscribe_alone_is_bulk_but_no_list() -> None:
    signals = header_signals(mail(list_unsubscribe="<mailto:leave@example.com>"))
    assert signals.bulk and not signals.list


@pytest.mark.parametrize(
    ("precedence", "bulk", "listed"),
    [
        ("bulk", True, False),
        ("junk", True, False),
        ("list", True, True),
        (" bulk ", True, False),
        ("first-class", False, False),
        (None, False, False),
    ],
)
def test_precedence(precedence: str | None, bulk: bool, listed: bool) -> None:
    signals = header_signals(mail(precedence=precedence))
    assert (signals.bulk, signals.list) == (bulk, listed)


@pytest.mark.parametrize(
    ("value", "automated"),
    [
        ("auto-generated", True),
        ("auto-replied", True),
        ("auto-notified", True),
        ("auto-generated; owner-email=ops@example.com", True),
        ("no", False),
        ("no; comment", False),
        (None, False),
    ],
)
def test_auto_submitted_other_than_no_is_automated(value: str | None, automated: bool) -> None:
    assert header_signals(mail(auto_submitted=value)).automated is automated


def test_delivery_reports_are_automated_without_the_header() -> None:
    assert header_signals(mail(from_address="MAILER-DAEMON@mx.example.com")).automated


@pytest.mark.parametrize(
    "address",
    [
        "no-reply@accounts.google.com",
        "noreply@github.com",
        "NoReply@Example.com",
        "no_reply2@example.com",
        "do-not-reply@bank.example",
        "donotreply@example.com",
        "notifications@github.com",
        "notification@slack.com",
        "notify@x.com",
        "alerts@bank.example",
        "bounces+123-abc@mail.example.com",
        "mailer-daemon@googlemail.com",
    ],
)
def test_noreply_senders(address: str) -> None:
    assert is_noreply(address)
    assert header_signals(mail(from_address=address.lower())).machine


@pytest.mark.parametrize(
    "address",
    [
        "dana@example.com",
        "nora.reply@example.com",
        "noreen@example.com",
        "info@example.com",
        "support@example.com",
        "replies@example.com",
        "notion-fan@example.com",
    ],
)
def test_people_and_answered_addresses_are_not_noreply(address: str) -> None:
    assert not is_noreply(address)


@pytest.mark.parametrize(
    ("address", "broadcast"),
    [
        ("news@paper.example", True),
        ("newsletter+x@shop.example", True),
        ("info@shop.example", True),
        ("dana@example.com", False),
        ("hr@example.com", False),
    ],
)
def test_broadcast_senders(address: str, broadcast: bool) -> None:
    assert header_signals(mail(from_address=address)).broadcast_sender is broadcast


def test_a_calendar_part_is_a_signal() -> None:
    assert header_signals(mail(has_calendar=True)).calendar


@pytest.mark.parametrize(
    ("to", "cc", "to_me", "cc_me", "direct", "recipients"),
    [
        ((ME,), (), True, False, True, 1),
        ((ME, "lee@example.com"), (), True, False, False, 2),
        (("lee@example.com",), (ME,), False, True, False, 2),
        ((ME,), (ME,), True, False, True, 1),  # in both: it is addressed to the user
        (("team@example.com",), (), False, False, False, 1),  # Bcc or a list: neither
        ((), (), False, False, False, 0),
    ],
)
def test_own_address_in_to_versus_cc(
    to: tuple[str, ...],
    cc: tuple[str, ...],
    to_me: bool,
    cc_me: bool,
    direct: bool,
    recipients: int,
) -> None:
    signals = header_signals(mail(to=to, cc=cc))
    assert (signals.to_me, signals.cc_me, signals.direct) == (to_me, cc_me, direct)
    assert signals.recipients == recipients


def test_without_known_user_addresses_nothing_is_to_me() -> None:
    signals = header_signals(mail(user_addresses=frozenset()))
    assert not (signals.to_me or signals.cc_me or signals.direct or signals.from_me)


def test_the_user_s_own_mail() -> None:
    assert header_signals(mail(from_address=ME, to=("dana@example.com",))).from_me


def test_tokens_name_the_signals_that_hold() -> None:
    signals = header_signals(mail(list_unsubscribe="<https://x.example/u>", cc=("a@x.example",)))
    assert signals.tokens() == ["hdr_bulk", "hdr_to_me", "hdr_rcpt2"]


def test_signals_from_a_raw_message() -> None:
    raw = (
        b"From: GitHub <notifications@github.com>\r\n"
        b"To: Sam <Sam@Example.org>\r\n"
        b"Cc: Lee <lee@example.org>\r\n"
        b"Subject: [acme/api] Fix the cache (PR #12)\r\n"
        b"List-Id: acme/api <api.acme.github.com>\r\n"
        b"List-Unsubscribe: <mailto:unsub@reply.github.com>\r\n"
        b"Precedence: list\r\n"
        b"Auto-Submitted: auto-generated\r\n"
        b"\r\n"
        b"@lee requested your review.\r\n"
    )
    view = view_of_parsed(parse_message(raw), user_addresses=frozenset({ME}))
    signals = header_signals(view)
    assert signals.bulk and signals.list and signals.automated and signals.noreply
    assert signals.to_me and not signals.direct and signals.recipients == 2
