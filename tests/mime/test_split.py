"""The fast MIME split gives the stdlib parser's results, and leaves odd mail to the stdlib."""

from __future__ import annotations

import sysconfig
from email.parser import BytesParser
from pathlib import Path

import pytest
from bench.sync.generate import Corpus

from postwise.mime.headers import POLICY
from postwise.mime.parse import parse_message
from postwise.mime.split import split_message


def _cpython_corpus() -> list[bytes]:
    folder = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
    return [path.read_bytes() for path in sorted(folder.glob("msg_*.txt"))]


def _generated(count: int) -> list[bytes]:
    return [mail.raw for mail in Corpus(7).mails(count)]


MIXED = 'multipart/mixed; boundary="b1"'


def _mail(body: str, content_type: str = MIXED, extra: str = "") -> bytes:
    head = (
        "From: Ann <ann@example.org>\r\nTo: bob@example.org\r\nSubject: test\r\n"
        "Message-ID: <t@example.org>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}\r\n{extra}\r\n"
    )
    return (head + body).encode("utf-8")


PLAIN_PART = "Content-Type: text/plain; charset=utf-8\r\n\r\nHello there\r\n"
HTML_PART = 'Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <img src="cid:x"></p>\r\n'
ATTACHMENT = (
    "Content-Type: application/pdf; name=a.pdf\r\nContent-Disposition: attachment; "
    'filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n'
)

# Mail the fast path handles itself.
PLAIN = {
    "preamble and epilogue": _mail(
        f"This is a preamble.\r\n--b1\r\n{PLAIN_PART}--b1\r\n{ATTACHMENT}--b1--\r\nepilogue\r\n"
    ),
    "nested alternative": _mail(
        '--b1\r\nContent-Type: multipart/alternative; boundary="b2"\r\n\r\n'
        f"--b2\r\n{PLAIN_PART}--b2\r\n{HTML_PART}--b2--\r\n\r\n--b1\r\n{ATTACHMENT}--b1--\r\n"
    ),
    "delimiter with trailing blanks": _mail(f"--b1 \t\r\n{PLAIN_PART}--b1--  \r\n"),
    "separator followed by text is content": _mail(
        "--b1\r\nContent-Type: text/plain\r\n\r\nline\r\n--b1x not a delimiter\r\n--b1--\r\n"
    ),
    "part without headers": _mail("--b1\r\n\r\njust text\r\n--b1--\r\n"),
    "part without body": _mail("--b1\r\nContent-Type: text/plain\r\n--b1--\r\n"),
    "close delimiter at the very end": _mail(f"--b1\r\n{PLAIN_PART}--b1--"),
    "single part": _mail("Hi Bob,\r\n\r\n> quoted\r\n-- \r\nAnn\r\n", "text/plain; charset=utf-8"),
    "no body at all": b"From: a@example.org\r\nSubject: empty\r\n",
    "related with cid": _mail(
        '--b1\r\nContent-Type: multipart/related; boundary="b3"\r\n\r\n'
        f"--b3\r\n{HTML_PART}--b3\r\nContent-Type: image/png\r\nContent-ID: <x>\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b3--\r\n--b1--\r\n"
    ),
}

# Mail whose structure only the stdlib parser may judge (it records defects or recovers).
UNUSUAL = {
    "no close delimiter": _mail(f"--b1\r\n{PLAIN_PART}"),
    "no delimiter at all": _mail("just some text\r\n"),
    "close delimiter first": _mail(f"--b1--\r\n{PLAIN_PART}"),
    "two delimiters in a row": _mail(f"--b1\r\n--b1\r\n{PLAIN_PART}--b1--\r\n"),
    "bare CR line ends": _mail(f"--b1\r{PLAIN_PART}--b1--\r\n"),
    "embedded message": _mail(
        "--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n--b1--\r\n"
    ),
    "digest": _mail(
        "--b1\r\n\r\nSubject: one\r\n\r\nbody\r\n--b1--\r\n", 'multipart/digest; boundary="b1"'
    ),
    "encoded multipart": _mail(
        f"--b1\r\n{PLAIN_PART}--b1--\r\n", extra="Content-Transfer-Encoding: base64\r\n"
    ),
    "no boundary parameter": _mail(f"--b1\r\n{PLAIN_PART}--b1--\r\n", "multipart/mixed"),
    "stray line in the header block": (
        b"From: a@example.org\r\nnot a header\r\nSubject: x\r\n\r\nhi\r\n"
    ),
    "inner multipart cut short by the outer delimiter": _mail(
        '--b1\r\nContent-Type: multipart/alternative; boundary="b2"\r\n\r\n'
        f"--b2\r\n{PLAIN_PART}--b1--\r\n"
    ),
}


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_plain_structures_take_the_fast_path_with_the_same_tree(name: str) -> None:
    raw = PLAIN[name]
    tree = split_message(raw)
    assert tree is not None
    reference = BytesParser(policy=POLICY).parsebytes(raw)
    assert [p.get_content_type() for p in tree.walk()] == [
        p.get_content_type() for p in reference.walk()
    ]
    assert [p.get_payload(decode=True) for p in tree.walk() if not p.is_multipart()] == [
        p.get_payload(decode=True) for p in reference.walk() if not p.is_multipart()
    ]
    assert tree.preamble == reference.preamble
    assert parse_message(raw) == parse_message(raw, fast=False)


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_unusual_structures_are_left_to_the_stdlib(name: str) -> None:
    raw = UNUSUAL[name]
    assert split_message(raw) is None
    assert parse_message(raw) == parse_message(raw, fast=False)


@pytest.mark.parametrize("line_end", ["crlf", "lf"])
def test_generated_mail_parses_the_same_and_takes_the_fast_path(line_end: str) -> None:
    for raw in _generated(400):
        data = raw if line_end == "crlf" else raw.replace(b"\r\n", b"\n")
        assert split_message(data) is not None
        assert parse_message(data) == parse_message(data, fast=False)


def test_cpythons_email_corpus_parses_the_same() -> None:
    corpus = _cpython_corpus()
    if not corpus:
        pytest.skip("CPython's test/test_email/data is not installed (libpython3-testsuite)")
    fast = 0
    for raw in corpus:
        fast += split_message(raw) is not None
        assert parse_message(raw) == parse_message(raw, fast=False)
    assert 0 < fast < len(corpus)  # both paths are exercised by this corpus
