"""The bulk and automation headers triage reads: Precedence, Auto-Submitted, calendar parts."""

from __future__ import annotations

import pytest

from postwise.mime.parse import parse_message

_HEAD = b"From: Dana <dana@example.com>\r\nTo: me@example.org\r\nSubject: hello\r\n"


def test_absent_headers_are_none_and_no_calendar() -> None:
    parsed = parse_message(_HEAD + b"\r\nJust text.\r\n")
    assert parsed.precedence is None
    assert parsed.auto_submitted is None
    assert parsed.has_calendar is False


@pytest.mark.parametrize("fast", [True, False])
def test_precedence_and_auto_submitted_are_lower_cased(fast: bool) -> None:
    raw = _HEAD + b"Precedence: Bulk\r\nAuto-Submitted: Auto-Generated; owner-email=x@y\r\n"
    parsed = parse_message(raw + b"\r\nbody\r\n", fast=fast)
    assert parsed.precedence == "bulk"
    assert parsed.auto_submitted == "auto-generated; owner-email=x@y"


def test_blank_header_counts_as_absent() -> None:
    parsed = parse_message(_HEAD + b"Precedence:  \r\n\r\nbody\r\n")
    assert parsed.precedence is None


def test_text_calendar_alternative_is_a_calendar() -> None:
    raw = (
        _HEAD + b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nYou are invited.\r\n"
        b"--b\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
        b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
        b"--b--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.has_calendar is True
    assert parsed.text.strip() == "You are invited."


def test_ics_file_sent_as_octet_stream_is_a_calendar() -> None:
    raw = (
        _HEAD + b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee the invite.\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="Invite.ICS"\r\n\r\n'
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
        b"--b--\r\n"
    )
    assert parse_message(raw).has_calendar is True


def test_a_pdf_attachment_is_not_a_calendar() -> None:
    raw = (
        _HEAD + b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe invoice.\r\n"
        b"--b\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="invoice.pdf"\r\n\r\n'
        b"%PDF-1.4\r\n"
        b"--b--\r\n"
    )
    assert parse_message(raw).has_calendar is False


def test_ingest_keeps_only_the_signals_present_in_extra() -> None:
    from postwise.mail.ingest import _triage_extra

    assert _triage_extra(parse_message(_HEAD + b"\r\nplain\r\n")) == {}
    raw = _HEAD + b"Precedence: list\r\nAuto-Submitted: auto-replied\r\n"
    raw += b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    raw += b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
    raw += (
        b"--b\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n--b--\r\n"
    )
    assert _triage_extra(parse_message(raw)) == {
        "precedence": "list",
        "auto_submitted": "auto-replied",
        "calendar": True,
    }
