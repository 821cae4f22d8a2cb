"""Charsets: raw 8-bit headers decoded with the charsets the message declares, and the charset
labels mailers write (Outlook's, old Mac ones, WHATWG supersets) for bodies and headers alike."""

# ruff: noqa: RUF001  (the test data is Turkish, Chinese and Korean text, meant as written)

from __future__ import annotations

import base64

import pytest

from postwise.mime.headers import decode_bytes
from postwise.mime.parse import Address, parse_message

# (text, the label the message declares, the codec that wrote the bytes)
LEGACY = [
    ("안녕하세요", "euc-kr", "euc_kr"),
    ("你好，世界", "gb2312", "gb2312"),
    ("你好，世界", "big5", "big5"),
    ("Işık ağacı şöyle", "windows-1254", "cp1254"),
    ("Привет мир", "koi8-r", "koi8_r"),
    ("こんにちは", "shift_jis", "shift_jis"),
]


def _single_part(header_text: str, label: str, codec: str) -> bytes:
    raw = header_text.encode(codec)
    return (
        b"From: " + raw + b" <sender@example.com>\r\n"
        b"To: " + raw + b" <to@example.com>, plain@example.com\r\n"
        b"Subject: Re: " + raw + b"\r\n"
        b"Content-Type: text/plain; charset=" + label.encode() + b"\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + raw + b"\r\n"
    )


@pytest.mark.parametrize(("text", "label", "codec"), LEGACY)
@pytest.mark.parametrize("fast", [True, False])
def test_raw_header_bytes_use_the_declared_charset(
    text: str, label: str, codec: str, fast: bool
) -> None:
    parsed = parse_message(_single_part(text, label, codec), fast=fast)
    assert parsed.parse_error is None
    assert parsed.subject == f"Re: {text}"
    assert parsed.from_ == Address(text, "sender@example.com")
    assert parsed.to == [Address(text, "to@example.com"), Address("", "plain@example.com")]
    assert parsed.text.strip() == text


def test_the_charset_of_a_text_part_counts_when_the_top_declares_none() -> None:
    # A plain part with nothing but ASCII is labelled us-ascii; the HTML part says GB2312.
    subject = "季度报告".encode("gb2312")
    raw = (
        b"From: a@example.com\r\nSubject: " + subject + b"\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nsee the HTML\r\n"
        b"--b\r\nContent-Type: text/html; charset=gb2312\r\n\r\n<p>" + subject + b"</p>\r\n"
        b"--b--\r\n"
    )
    for fast in (True, False):
        parsed = parse_message(raw, fast=fast)
        assert parsed.subject == "季度报告"
        assert parsed.html is not None and "季度报告" in parsed.html


def test_a_forwarded_message_charset_is_not_the_outer_one() -> None:
    # The embedded message declares Big5; the outer message's own text is ISO-8859-1 (Latin),
    # so its 8-bit subject is Latin, not Big5.
    raw = (
        b"From: a@example.com\r\nSubject: Fw: caf\xe9\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nsee below\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\n"
        b"Subject: x\r\nContent-Type: text/plain; charset=big5\r\n\r\nx\r\n"
        b"--b--\r\n"
    )
    assert parse_message(raw).subject == "Fw: café"


@pytest.mark.parametrize(
    ("header", "label", "expected"),
    [
        # Valid UTF-8 wins over a single-byte declaration, which would decode it without error.
        ("Işık".encode(), "windows-1254", "Işık"),
        ("你好".encode(), "gb2312", "你好"),
        # A declaration that cannot be right (ASCII) or that the bytes refute: Windows-1252.
        (b"caf\xe9", "us-ascii", "café"),
        (b"caf\xe9 \x80", "utf-8", "café €"),
        (b"caf\xe9", "x-no-such-charset", "café"),
        # An encoded word in an unknown charset falls back to the declared one too.
        (b"=?unknown-8bit?b?" + base64.b64encode("你好".encode("gbk")) + b"?=", "gbk", "你好"),
    ],
)
def test_the_order_of_guesses(header: bytes, label: str, expected: str) -> None:
    raw = (
        b"From: a@example.com\r\nSubject: " + header + b"\r\n"
        b"Content-Type: text/plain; charset=" + label.encode() + b"\r\n\r\nbody\r\n"
    )
    assert parse_message(raw).subject == expected


def test_an_8bit_attachment_name_uses_the_declared_charset() -> None:
    name = "報告.pdf".encode("big5")
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=big5\r\n\r\nhi\r\n"
        b"--b\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="' + name + b'"\r\n\r\n%PDF\r\n'
        b"--b--\r\n"
    )
    for fast in (True, False):
        assert [a.filename for a in parse_message(raw, fast=fast).attachments] == ["報告.pdf"]


@pytest.mark.parametrize(
    ("label", "codec", "text"),
    [
        ("ks_c_5601-1987", "cp949", "똠방각하 안녕하세요"),  # cp949-only syllable
        ("korean", "cp949", "똠방각하"),
        ("x-euc-kr", "euc_kr", "안녕하세요"),
        ("windows-949", "cp949", "똠방각하"),
        ("CHINESEBIG5", "big5", "你好，世界"),
        ("x-x-big5", "big5", "你好"),
        ("cn-big5", "big5", "你好"),
        ("gb_2312-80", "gb2312", "你好"),
        ("x-gbk", "gbk", "你好"),
        ("x-sjis", "cp932", "①日本"),
        ("x-mac-japanese", "cp932", "①日本"),
        ("x-euc-jp", "euc_jp", "日本語"),
        ("iso-8859-8-i", "iso8859_8", "שלום"),
        ("iso-8859-6-i", "iso8859_6", "مرحبا"),
        ("windows-874", "cp874", "สวัสดี"),
        ("tis-620", "cp874", "สวัสดี"),
        ("unicode-1-1-utf-7", "utf-7", "Grüße"),
        ("unicode-1-1-utf-8", "utf-8", "Grüße"),
        ("x-mac-roman", "mac_roman", "Grüße"),
        ("x-mac-ce", "mac_latin2", "Zażółć gęślą"),
        ("x-mac-cyrillic", "mac_cyrillic", "Привет"),
        ("x-mac-icelandic", "mac_iceland", "Þórður"),
        ("x-cp1251", "cp1251", "Привет"),
        ("koi8-ru", "koi8_u", "Привіт"),
        ("iso-8859-9", "cp1254", "Işık €"),  # WHATWG: ISO-8859-9 means Windows-1254
    ],
)
def test_charset_labels_mailers_write(label: str, codec: str, text: str) -> None:
    data = text.encode(codec)
    assert decode_bytes(data, label) == text
    raw = (
        b"From: a@example.com\r\nSubject: " + data + b"\r\n"
        b"Content-Type: text/plain; charset=" + label.encode() + b"\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + data + b"\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.text.strip() == text
    if codec not in ("utf-7", "utf-8"):  # a header in UTF-7 is not a thing; UTF-8 is tried first
        assert parsed.subject == text
