"""The message builder on its own: structure, headers, encodings, the envelope, and what it
refuses. Every message is parsed back with the standard library, as a receiving client would."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
from email.message import EmailMessage, MIMEPart
from typing import Any

import pytest

from postwise.accounts.models import MailAccount
from postwise.compose.building import (
    BuildError,
    BuiltMessage,
    HeaderInjectionError,
    build_message,
    envelope_of,
    with_bcc_header,
)
from postwise.compose.models import Draft, DraftAttachment

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
BLOBS: dict[str, bytes] = {}


def blob(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    BLOBS[digest] = data
    return digest


def account(**fields: Any) -> MailAccount:
    values: dict[str, Any] = {
        "email": "me@example.com",
        "sender_name": "Zoë Ærøskøbing",
        "send_as": json.dumps([{"name": "Help desk", "address": "help@example.com"}]),
    }
    values.update(fields)
    return MailAccount(**values)


def draft(**fields: Any) -> Draft:
    values: dict[str, Any] = {
        "from_address": "",
        "to": [{"name": "Ann", "address": "ann@example.org"}],
        "cc": [],
        "bcc": [],
        "subject": "Hello",
        "text": "Hi Ann.\n",
        "html": None,
        "in_reply_to": None,
        "references": [],
        "message_id": "m-1@example.com",
    }
    values.update(fields)
    return Draft(**values)


def attachment(
    position: int, name: str, content_type: str, data: bytes, cid: str | None = None
) -> DraftAttachment:
    return DraftAttachment(
        position=position,
        filename=name,
        content_type=content_type,
        size=len(data),
        sha256=blob(data),
        content_id=cid,
        is_inline=cid is not None,
    )


def build(
    d: Draft, attachments: list[DraftAttachment] | None = None, **options: Any
) -> BuiltMessage:
    return build_message(d, attachments or [], account(), read_blob=BLOBS.__getitem__, **options)


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def content(part: MIMEPart) -> Any:
    value = part.get_content()
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def test_a_rich_message_parses_back_as_written() -> None:
    d = draft(
        to=[{"name": "Ann Élise", "address": "ann@example.org"}],
        cc=[{"name": "Bob, the builder", "address": "bob@example.org"}],
        subject="Grüße — 日本語",
        text="Hallo Ann,\nschön.\n",
        html='<p>Hallo <b>Ann</b></p><img src="cid:logo@pw">',
        in_reply_to="orig@example.org",
        references=["root@example.org", "orig@example.org"],
    )
    parts = [
        attachment(0, "Überweisung März 2026.pdf", "application/pdf", b"%PDF-1.4 x"),
        attachment(1, "logo.png", "image/png", PNG, cid="logo@pw"),
    ]
    built = build(d, parts)
    raw = built.raw
    assert raw.isascii()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    message = parse(raw)
    assert str(message["From"]) == "Zoë Ærøskøbing <me@example.com>"
    assert message["To"].addresses[0].display_name == "Ann Élise"
    assert message["Cc"].addresses[0].display_name == "Bob, the builder"
    assert message["Subject"] == "Grüße — 日本語"
    assert message["Message-ID"] == "<m-1@example.com>"
    assert message["In-Reply-To"] == "<orig@example.org>"
    assert message["References"].split() == ["<root@example.org>", "<orig@example.org>"]
    assert message["Date"].datetime.tzinfo is not None
    assert message.get_content_type() == "multipart/mixed"
    # MIME-Version once, at the top (RFC 2045 4).
    assert raw.count(b"MIME-Version") == 1

    body, pdf = message.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    plain, related = body.iter_parts()
    assert content(plain) == "Hallo Ann,\nschön.\n"
    assert related.get_content_type() == "multipart/related"
    assert related.get_param("type") == "text/html"
    html, image = related.iter_parts()
    assert "<b>Ann</b>" in content(html)
    assert image["Content-ID"] == "<logo@pw>"
    assert image.get_content_disposition() == "inline"
    assert content(image) == PNG
    assert pdf.get_filename() == "Überweisung März 2026.pdf"
    assert b"filename*=utf-8''%C3%9Cberweisung" in raw  # RFC 2231
    assert content(pdf) == b"%PDF-1.4 x"


def test_plain_text_is_one_part_and_html_only_gets_a_text_copy() -> None:
    plain = parse(build(draft(text="Just text.\n")).raw)
    assert plain.get_content_type() == "text/plain"
    assert content(plain) == "Just text.\n"

    html_only = parse(
        build(draft(text="", html='<p>See <a href="https://example.org/x">the plan</a></p>')).raw
    )
    text, html = html_only.iter_parts()
    assert html_only.get_content_type() == "multipart/alternative"
    assert content(text).strip() == "See the plan <https://example.org/x>"
    assert "<a href" in content(html)


def test_bcc_is_in_the_envelope_only_and_each_address_once() -> None:
    d = draft(
        to=[{"name": "Ann", "address": "ann@example.org"}],
        cc=[{"name": "Ann again", "address": "ANN@example.org"}],
        bcc=[{"name": "Boss", "address": "boss@example.org"}],
    )
    built = build(d)
    assert built.envelope.sender == "me@example.com"
    assert built.envelope.recipients == ("ann@example.org", "boss@example.org")
    assert not built.envelope.smtputf8
    assert b"boss@example.org" not in built.raw
    assert "Bcc" not in parse(built.raw)
    assert envelope_of(d, account()) == built.envelope

    kept = parse(build(d, draft_copy=True).raw)
    assert kept["Bcc"] == "Boss <boss@example.org>"

    sent_copy = with_bcc_header(built.raw, d.bcc)
    assert sent_copy.endswith(built.raw)
    assert parse(sent_copy)["Bcc"] == "Boss <boss@example.org>"
    assert with_bcc_header(built.raw, []) == built.raw


@pytest.mark.parametrize(
    "fields",
    [
        {"subject": "Hello\r\nBcc: everyone@example.org"},
        {"subject": "Hello\nthere"},
        {"to": [{"name": "Ann\r\nX-Evil: 1", "address": "ann@example.org"}]},
        {"cc": [{"name": "Line\u2028break", "address": "bob@example.org"}]},
        {"to": [{"name": "", "address": "ann@example.org\r\nRCPT TO:<x@y>"}]},
        {"message_id": "m-1@example.com>\r\nBcc: x@y"},
    ],
)
def test_a_line_break_in_a_header_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(HeaderInjectionError):
        build(draft(**fields))


def test_long_reference_chains_fold_between_ids() -> None:
    ids = [f"{'x' * 70}-{n}@mail.example.org" for n in range(12)]
    built = build(draft(in_reply_to=ids[-1], references=[*ids, "not an id", "a b@c"]))
    ids_block = header_block(built.raw).partition(b"In-Reply-To:")[2]
    assert ids_block.count(b"\r\n ") == 11  # one id per line
    assert b"=?" not in ids_block  # never an encoded word, which no client reads as an id
    message = parse(built.raw)
    assert message["References"].split() == [f"<{i}>" for i in ids]
    assert message["In-Reply-To"] == f"<{ids[-1]}>"


def test_a_non_ascii_address_makes_an_smtputf8_message() -> None:
    built = build(draft(to=[{"name": "Jörg", "address": "jörg@example.org"}]))
    assert built.envelope.smtputf8
    assert built.envelope.recipients == ("jörg@example.org",)
    assert "Jörg <jörg@example.org>".encode() in built.raw  # RFC 6532: UTF-8 as it is
    parsed = email.message_from_string(built.raw.decode(), policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == "jörg@example.org"


def test_the_sender_is_the_mailbox_or_one_of_its_send_as_addresses() -> None:
    helpdesk = parse(build(draft(from_address="help@example.com")).raw)
    assert str(helpdesk["From"]) == "Help desk <help@example.com>"
    with pytest.raises(BuildError, match="no longer one of this mailbox's addresses"):
        build(draft(from_address="someone-else@example.com"))
    with pytest.raises(BuildError, match="no recipients"):
        build(draft(to=[]))
    # A draft being written may have no recipients yet; its copy in Drafts is still built.
    assert build(draft(to=[]), draft_copy=True).envelope.recipients == ()


def test_attachment_types_and_names_are_made_safe() -> None:
    forwarded = b"From: a@example.org\r\nSubject: old\r\n\r\nbody\r\n"
    parts = [
        attachment(0, "old.eml", "message/rfc822", forwarded),
        attachment(1, "weird\r\nname.bin", "not a type", b"\x00\x01"),
        attachment(2, "binary.eml", "message/rfc822", b"\xff\xfe"),
    ]
    message = parse(build(draft(), parts).raw)
    eml, weird, binary = message.iter_attachments()
    assert eml.get_content_type() == "message/rfc822"
    assert eml["Content-Transfer-Encoding"] == "7bit"  # RFC 2046 5.2.1: never base64
    assert weird.get_content_type() == "application/octet-stream"
    assert weird.get_filename() == "weird  name.bin"
    assert binary.get_content_type() == "application/octet-stream"
    assert content(binary) == b"\xff\xfe"
