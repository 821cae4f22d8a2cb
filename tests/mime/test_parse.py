"""parse_message: real messages, broken ones, and CPython's email test corpus."""

from __future__ import annotations

import pickle
import random
import sysconfig
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from postwise.mime.parse import Address, ParsedMessage, parse_message

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def reply_message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Jörg Müller <joerg@example.com>"
    msg["To"] = 'Alice <alice@example.org>, bob@example.net, "Carol, C." <carol@example.com>'
    msg["Cc"] = "Dave <dave@example.com>"
    msg["Bcc"] = "erin@example.com"
    msg["Reply-To"] = "Team <team@example.com>"
    msg["Subject"] = "Re: Quarterly numbers \u2013 draft ✔"
    msg["Date"] = "Wed, 01 May 2024 14:30:00 +0200"
    msg["Message-ID"] = "<reply-1@example.com>"
    msg["In-Reply-To"] = "<root@example.com>"
    msg["References"] = "<root@example.com> <mid@example.com> <root@example.com>"
    msg["List-Id"] = "Team list <team.lists.example.com>"
    msg["List-Unsubscribe"] = "<mailto:leave@example.com>, <https://example.com/unsub>"
    msg.set_content(
        "Hi Alice,\n\nThe numbers look right to me.\n\n-- \nJörg\n\n"
        "On Tue, 30 Apr 2024 at 09:00, Alice <alice@example.org> wrote:\n"
        "> Could you check the numbers?\n"
    )
    msg.add_alternative(
        "<p>Hi Alice,</p><p>The numbers look <b>right</b> to me.</p>"
        '<script>alert(1)</script><img src="https://cdn.example.com/logo.png">',
        subtype="html",
    )
    msg.add_attachment(
        b"%PDF-1.4 numbers", maintype="application", subtype="pdf", filename="Q3 \u2013 final.pdf"
    )
    return msg


def test_a_real_reply_is_parsed_completely() -> None:
    parsed = parse_message(reply_message().as_bytes())
    assert parsed.parse_error is None
    assert parsed.message_id == "reply-1@example.com"
    assert parsed.in_reply_to == "root@example.com"
    assert parsed.references == ["root@example.com", "mid@example.com"]
    assert parsed.subject == "Re: Quarterly numbers \u2013 draft ✔"
    assert parsed.from_ == Address("Jörg Müller", "joerg@example.com")
    assert parsed.to == [
        Address("Alice", "alice@example.org"),
        Address("", "bob@example.net"),
        Address("Carol, C.", "carol@example.com"),
    ]
    assert parsed.cc == [Address("Dave", "dave@example.com")]
    assert parsed.bcc == [Address("", "erin@example.com")]
    assert parsed.reply_to == [Address("Team", "team@example.com")]
    assert parsed.sent_at == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert parsed.list_id == "team.lists.example.com"
    assert parsed.list_unsubscribe == "<mailto:leave@example.com>, <https://example.com/unsub>"
    assert parsed.text.startswith("Hi Alice,\n\nThe numbers look right to me.")
    assert parsed.snippet == "Hi Alice, The numbers look right to me."
    assert parsed.quote_offset == parsed.text.index("On Tue, 30 Apr")
    assert parsed.signature_offset == parsed.text.index("-- \n")
    assert [(a.position, a.filename, a.content_type, a.content) for a in parsed.attachments] == [
        (0, "Q3 \u2013 final.pdf", "application/pdf", b"%PDF-1.4 numbers")
    ]


def test_alternative_gives_text_and_sanitised_html() -> None:
    parsed = parse_message(reply_message().as_bytes())
    assert parsed.html is not None
    assert "<b>right</b>" in parsed.html
    assert "script" not in parsed.html
    assert 'data-postwise-src="https://cdn.example.com/logo.png"' in parsed.html
    assert parsed.has_remote_images
    assert not parsed.has_tracking_pixel
    assert "<p>" not in parsed.text  # text comes from the text/plain alternative


def test_html_only_message_gets_text_from_the_html() -> None:
    msg = EmailMessage()
    msg["From"] = "news@example.com"
    msg["Subject"] = "News"
    msg.set_content(
        "<html><body><h1>Big news</h1><p>Read &amp; enjoy.</p>"
        '<img src="https://t.example.com/open.gif" width="1" height="1"></body></html>',
        subtype="html",
    )
    parsed = parse_message(msg.as_bytes())
    assert parsed.parse_error is None
    assert parsed.text == "Big news\n\nRead & enjoy."
    assert parsed.snippet == "Big news Read & enjoy."
    assert parsed.has_tracking_pixel
    assert parsed.html is not None
    assert "open.gif" not in parsed.html


def test_html_only_reply_has_its_quote_found() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg.set_content(
        '<div>Yes, ten works.</div><div class="gmail_quote"><div class="gmail_attr">'
        "On Tue, 30 Apr 2024 at 09:00, Alice &lt;alice@example.org&gt; wrote:<br></div>"
        "<blockquote>Shall we meet at ten?</blockquote></div>",
        subtype="html",
    )
    parsed = parse_message(msg.as_bytes())
    assert parsed.quote_offset is not None
    assert parsed.text[parsed.quote_offset :] == (
        "On Tue, 30 Apr 2024 at 09:00, Alice <alice@example.org> wrote:\n> Shall we meet at ten?"
    )
    assert parsed.snippet == "Yes, ten works."


def test_plain_only_message_has_no_html() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg.set_content("just text\n")
    parsed = parse_message(msg.as_bytes())
    assert parsed.html is None
    assert parsed.text == "just text"
    assert not parsed.has_remote_images
    assert parsed.subject == ""
    assert parsed.sent_at is None
    assert parsed.parse_error is None


def test_related_inline_images_and_real_attachments() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg.set_content("See the logo.")
    msg.add_alternative('<p>See <img src="cid:logo@example.com"> the logo.</p>', subtype="html")
    html_part = list(msg.iter_parts())[1]
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(PNG, maintype="image", subtype="png", cid="<logo@example.com>")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="photo.png")
    parsed = parse_message(msg.as_bytes())
    assert parsed.parse_error is None
    assert parsed.text.strip() == "See the logo."
    assert parsed.html is not None
    assert 'src="cid:logo@example.com"' in parsed.html
    inline, attached = parsed.attachments
    assert (inline.position, inline.content_id, inline.is_inline) == (0, "logo@example.com", True)
    assert inline.content == PNG
    assert inline.content_type == "image/png"
    assert (attached.position, attached.filename, attached.is_inline) == (1, "photo.png", False)
    assert attached.content_id is None


def test_inline_disposition_with_content_id_is_inline_even_unreferenced() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg.set_content("text")
    msg.add_attachment(PNG, maintype="image", subtype="png", disposition="inline", cid="<x@y>")
    (part,) = parse_message(msg.as_bytes()).attachments
    assert part.is_inline
    assert part.content_id == "x@y"


def test_forwarded_message_is_an_attachment_not_the_body() -> None:
    inner = EmailMessage()
    inner["From"] = "alice@example.org"
    inner["Subject"] = "The original"
    inner.set_content("secret original body\n")
    inner.add_attachment(PNG, maintype="image", subtype="png", filename="inner.png")
    outer = EmailMessage()
    outer["From"] = "bob@example.net"
    outer["Subject"] = "Fwd: The original"
    outer.set_content("Have a look.\n")
    outer.add_attachment(inner)
    parsed = parse_message(outer.as_bytes())
    assert parsed.parse_error is None
    assert "secret original body" not in parsed.text
    assert [a.content_type for a in parsed.attachments] == ["message/rfc822"]
    embedded = BytesParser(policy=policy.default).parsebytes(parsed.attachments[0].content)
    assert embedded["Subject"] == "The original"
    assert "secret original body" in parse_message(parsed.attachments[0].content).text


def test_tnef_is_just_an_attachment() -> None:
    msg = EmailMessage()
    msg["From"] = "outlook@example.com"
    msg.set_content("See attached.")
    tnef = b"\x78\x9f\x3e\x22" + b"\x00" * 64
    msg.add_attachment(tnef, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    (part,) = parse_message(msg.as_bytes()).attachments
    assert (part.content_type, part.filename, part.content) == (
        "application/ms-tnef",
        "winmail.dat",
        tnef,
    )


def raw_mixed(*parts: bytes, headers: bytes = b"From: a@example.com\r\n") -> bytes:
    body = b"".join(b"--B\r\n" + part + b"\r\n" for part in parts)
    return (
        headers
        + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        + body
        + b"--B--\r\n"
    )


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        (b'attachment; filename="=?UTF-8?B?w6l0w6kucGRm?="', "été.pdf"),
        (b"attachment; filename*=utf-8''%E2%80%93%20report.pdf", "\u2013 report.pdf"),
        (b"attachment; filename*0*=utf-8''a%C3%A9; filename*1=b.pdf", "aéb.pdf"),
        (b'attachment; filename="../../etc/passwd"', "_.._etc_passwd"),
        (b'attachment; filename="C:\\\\Windows\\\\evil.exe"', "C:_Windows_evil.exe"),
        (b'attachment; filename="invoice\xe2\x80\xaefdp.exe"', "invoicefdp.exe"),
        (b'attachment; filename="tab\there.txt"', "tabhere.txt"),
        (b'attachment; filename="  .hidden  "', "hidden"),
        (b"attachment", ""),
    ],
)
def test_attachment_filenames_are_decoded_and_made_safe(disposition: bytes, expected: str) -> None:
    raw = raw_mixed(
        b"Content-Type: text/plain\r\n\r\nbody",
        b"Content-Type: application/octet-stream\r\nContent-Disposition: "
        + disposition
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC",
    )
    parsed = parse_message(raw)
    assert parsed.parse_error is None
    assert [(a.filename, a.content) for a in parsed.attachments] == [(expected, b"\x00\x01\x02")]


def test_filename_from_content_type_name() -> None:
    raw = raw_mixed(
        b"Content-Type: text/plain\r\n\r\nbody",
        b'Content-Type: application/pdf; name="scan.pdf"\r\n\r\n%PDF',
    )
    assert [a.filename for a in parse_message(raw).attachments] == ["scan.pdf"]


def test_long_filename_keeps_its_extension() -> None:
    name = "x" * 400 + ".pdf"
    raw = raw_mixed(
        b"Content-Type: text/plain\r\n\r\nbody",
        b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="'
        + name.encode()
        + b'"\r\n\r\n%PDF',
    )
    (part,) = parse_message(raw).attachments
    assert len(part.filename) == 255
    assert part.filename.endswith(".pdf")


def test_html_charset_from_meta_when_mime_has_none() -> None:
    html = '<html><head><meta charset="koi8-r"></head><body>Привет</body></html>'
    raw = b"From: a@example.com\r\nContent-Type: text/html\r\n\r\n" + html.encode("koi8-r")
    assert parse_message(raw).text == "Привет"


def test_format_flowed_is_unwrapped() -> None:
    body = (
        b"This is a long line that the sender's client \r\nwrapped softly.\r\n"
        b"> quoted text that \r\n> continues\r\n-- \r\nsig\r\n"
    )
    raw = (
        b"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\n\r\n"
        + body
    )
    parsed = parse_message(raw)
    assert parsed.text.split("\n")[:4] == [
        "This is a long line that the sender's client wrapped softly.",
        "> quoted text that continues",
        "-- ",
        "sig",
    ]


def test_alternative_renderings_are_not_attachments() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/alternative; boundary=A\r\n\r\n"
        b"--A\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
        b"--A\r\nContent-Type: text/x-amp-html\r\n\r\n<html amp4email>amp</html>\r\n"
        b"--A\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n"
        b"--A\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\n"
        b"--A--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.text.strip() == "plain"
    assert parsed.html == "<p>html</p>"
    assert [a.content_type for a in parsed.attachments] == ["text/calendar"]


def test_the_last_alternative_of_a_kind_wins() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/alternative; boundary=A\r\n\r\n"
        b"--A\r\nContent-Type: text/plain\r\n\r\nplain first\r\n"
        b"--A\r\nContent-Type: text/plain; format=flowed\r\n\r\npreferred\r\n"
        b"--A--\r\n"
    )
    assert parse_message(raw).text == "preferred"


def test_non_root_parts_of_related_are_resources() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/related; boundary=R\r\n\r\n"
        b"--R\r\nContent-Type: text/html\r\n\r\n<p>root</p>\r\n"
        b"--R\r\nContent-Type: text/html\r\nContent-ID: <frag@x>\r\n\r\n<p>fragment</p>\r\n"
        b"--R--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.html == "<p>root</p>"
    assert [(a.content_type, a.content_id) for a in parsed.attachments] == [("text/html", "frag@x")]


def test_related_start_parameter_picks_the_root() -> None:
    raw = (
        b"From: a@example.com\r\n"
        b'Content-Type: multipart/related; boundary=R; start="<root@x>"\r\n\r\n'
        b"--R\r\nContent-Type: image/png\r\nContent-ID: <img@x>\r\n\r\nPNG\r\n"
        b"--R\r\nContent-Type: text/html\r\nContent-ID: <root@x>\r\n\r\n"
        b'<img src="cid:img@x">\r\n--R--\r\n'
    )
    parsed = parse_message(raw)
    assert parsed.html == '<img src="cid:img@x">'
    assert [(a.content_id, a.is_inline) for a in parsed.attachments] == [("img@x", True)]


def test_a_cid_reference_makes_a_part_inline_whatever_its_disposition() -> None:
    raw = raw_mixed(
        b'Content-Type: text/html\r\n\r\n<img src="cid:used@x">',
        b"Content-Type: image/png\r\nContent-ID: <used@x>\r\n\r\nPNG",
        b"Content-Type: image/png\r\nContent-ID: <unused@x>\r\n\r\nPNG",
    )
    parsed = parse_message(raw)
    assert [(a.content_id, a.is_inline) for a in parsed.attachments] == [
        ("used@x", True),
        ("unused@x", False),
    ]


def test_text_with_attachment_disposition_is_not_the_body() -> None:
    raw = raw_mixed(
        b"Content-Type: text/plain\r\n\r\nthe body",
        b"Content-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nlog output",
    )
    parsed = parse_message(raw)
    assert parsed.text == "the body"
    assert [(a.content_type, a.content) for a in parsed.attachments] == [
        ("text/plain", b"log output")
    ]


def test_snippet_leaves_out_interleaved_quotes() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg.set_content("> Can you come?\nYes.\n> At ten?\nAt eleven.\n")
    assert parse_message(msg.as_bytes()).snippet == "Yes. At eleven."


def test_snippet_is_cut_at_a_word_boundary() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg.set_content("word " * 100)
    snippet = parse_message(msg.as_bytes()).snippet
    assert 150 <= len(snippet) <= 200
    assert snippet.endswith("word")


def test_inline_text_parts_with_filenames_become_the_body_when_there_is_no_other() -> None:
    raw = raw_mixed(
        b'Content-Type: text/plain\r\nContent-Disposition: inline; filename="note.txt"\r\n\r\n'
        b"the note"
    )
    parsed = parse_message(raw)
    assert parsed.text == "the note"
    assert [a.filename for a in parsed.attachments] == ["note.txt"]


def test_missing_boundary_is_reported_and_the_text_kept() -> None:
    raw = (
        b"From: a@example.com\r\nSubject: broken\r\n"
        b"Content-Type: multipart/mixed\r\n\r\nHello there, this is the body.\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.parse_error is not None
    assert parsed.subject == "broken"
    assert "Hello there" in parsed.text


def test_boundary_that_never_appears_is_reported() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=XYZ\r\n\r\n"
        b"--ABC\r\nContent-Type: text/plain\r\n\r\nlost\r\n--ABC--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.parse_error is not None
    assert "lost" in parsed.text


def test_bad_base64_attachment_is_kept_leniently() -> None:
    raw = raw_mixed(
        b"Content-Type: text/plain\r\n\r\nbody",
        b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC!!!AwQ",
    )
    parsed = parse_message(raw)
    assert parsed.parse_error is None
    assert len(parsed.attachments) == 1


def nested(depth: int) -> bytes:
    head = b"From: a@example.com\r\nSubject: deep\r\n"
    body = b"Content-Type: text/plain\r\n\r\ncore\r\n"
    for level in range(depth):
        b = f"b{level}".encode()
        body = (
            b"Content-Type: multipart/mixed; boundary="
            + b
            + b"\r\n\r\n--"
            + b
            + b"\r\n"
            + body
            + b"--"
            + b
            + b"--\r\n"
        )
    return head + body


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n",
        b"\x00" * 1000,
        b"\xff\xfe" * 5000,
        b"From: a@example.com",
        b"From: a@example.com\r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--\r\n",
        b"Content-Type: message/rfc822\r\n\r\nnot a message",
        b"Content-Type: text/plain; charset=\xff\xfe\r\n\r\n\xff",
        b"Content-Transfer-Encoding: base64\r\n\r\n====",
        b"Subject: " + b"a" * 200_000 + b"\r\n\r\n" + b"b" * 200_000,
        b"To: " + b"<>," * 20_000 + b"\r\n\r\n",
        nested(60),
        nested(3000),
    ],
)
def test_never_raises(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert isinstance(parsed, ParsedMessage)
    for value in (parsed.subject, parsed.text, parsed.snippet, parsed.html or ""):
        value.encode("utf-8")
        assert "\x00" not in value


@pytest.mark.parametrize(
    "raw",
    [
        # Each took seconds before the size limits on what reaches policy.default and nh3.
        b"From: a@example.com\r\nTo: " + b"<>," * 20_000 + b"\r\n\r\nx\r\n",
        b"From: a@example.com\r\nContent-Type: text/plain; "
        + b"; ".join(b'p%d="v"' % i for i in range(15_000))
        + b"\r\n\r\nx\r\n",
        b"From: a@example.com\r\nSubject: " + b"=?utf-8?q?a b?= " * 5000 + b"\r\n\r\nx\r\n",
        b"From: a@example.com\r\nContent-Type: text/html\r\n\r\n" + b"<div>" * 50_000 + b"x",
    ],
)
def test_hostile_sizes_stay_fast(raw: bytes) -> None:
    start = time.perf_counter()
    assert isinstance(parse_message(raw), ParsedMessage)
    assert time.perf_counter() - start < 1.0


def test_empty_and_headerless_input_report_a_parse_error() -> None:
    assert parse_message(b"").parse_error == "empty message"
    assert parse_message(b"just some text\r\nwithout headers\r\n").parse_error == "no headers"


def test_too_deep_nesting_is_reported() -> None:
    assert parse_message(nested(60)).parse_error == "MIME structure nested too deeply"
    assert parse_message(nested(3000)).parse_error is not None
    shallow = parse_message(nested(20))
    assert shallow.parse_error is None
    assert shallow.text.strip() == "core"


def test_random_junk_never_raises() -> None:
    rng = random.Random(5322)
    seed = reply_message().as_bytes()
    for _ in range(300):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 40)):
            position = rng.randrange(len(data))
            data[position : position + rng.randint(0, 8)] = rng.randbytes(rng.randint(0, 8))
        assert isinstance(parse_message(bytes(data)), ParsedMessage)
    for _ in range(50):
        assert isinstance(parse_message(rng.randbytes(rng.randint(0, 4000))), ParsedMessage)


def test_results_survive_a_process_boundary() -> None:
    raw = reply_message().as_bytes()
    local = parse_message(raw)
    assert pickle.loads(pickle.dumps(local)) == local  # noqa: S301 - our own bytes
    with ProcessPoolExecutor(max_workers=1) as pool:
        assert pool.submit(parse_message, raw).result() == local


CORPUS = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
# Deliberately broken fixtures in CPython's corpus: bad or missing boundaries (15, 17, 25, 31,
# 39, 41, 42) and a message body without headers (19).
CORPUS_BROKEN = {f"msg_{n}.txt" for n in (15, 17, 19, 25, 31, 39, 41, 42)}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="CPython's test_email data is not installed")
def test_cpython_email_corpus() -> None:
    files = sorted(p for p in CORPUS.iterdir() if p.is_file())
    messages = [p for p in files if p.name.startswith("msg_")]
    assert len(messages) >= 40
    with_errors = set()
    for path in files:
        parsed = parse_message(path.read_bytes())
        assert isinstance(parsed, ParsedMessage)
        if path in messages and parsed.parse_error is not None:
            with_errors.add(path.name)
        elif path not in messages:
            assert parsed.parse_error == "no headers"  # images and sounds, not mail
    assert with_errors <= CORPUS_BROKEN
    assert len(with_errors) <= len(messages) // 5
    dingus = parse_message((CORPUS / "msg_07.txt").read_bytes())
    assert dingus.subject == "Here is your dingus fish"
    assert dingus.from_ == Address("Barry", "barry@digicool.com")
    assert [(a.filename, a.content_type) for a in dingus.attachments] == [
        ("dingusfish.gif", "image/gif")
    ]
    assert dingus.attachments[0].content.startswith(b"GIF87a")
    assert dingus.sent_at == datetime(2001, 4, 20, 23, 35, 2, tzinfo=UTC)
