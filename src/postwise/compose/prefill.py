"""What a reply, reply-all or forward starts with: recipients, subject, threading headers, the
quoted original and the signature. Pure functions over plain values (no database), so every
rule here is tested without one (tests/compose/test_prefill.py).

The rules follow what Thunderbird and Gmail do:

- a reply goes to the original's Reply-To, else its sender; to the original's recipients when
  the user wrote the original; reply-all adds the original's To and Cc; never the user's own
  addresses, never an address twice (compared case-insensitively);
- one "Re: " or "Fwd: " before the subject without its markers, never "Re: Re: " or "Re: Fwd: ";
- `In-Reply-To` is the original's Message-ID and `References` its References plus that id
  (RFC 5322 section 3.6.4), at most 20 (the root and the latest) so a long thread never grows
  the header for good;
- the signature goes above the quote ("-- " on its own line in text, RFC 3676 section 4.3);
- a forward carries the original's headers block and body (and, done by the service, its
  attachments).
"""

from __future__ import annotations

import html as html_lib
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError

from postwise.compose.models import ComposeMode
from postwise.compose.schemas import Recipient
from postwise.mime.html_text import html_to_text
from postwise.mime.subjects import strip_markers

__all__ = [
    "MAX_REFERENCES",
    "Original",
    "Prefill",
    "Sender",
    "build_prefill",
    "clean_recipients",
    "forward_subject",
    "header_text",
    "reply_recipients",
    "reply_references",
    "reply_subject",
]

# Message-IDs kept in References: the first ones matter to nobody once the thread is long, and
# some servers refuse headers of several kilobytes.
MAX_REFERENCES = 20
FORWARD_SEPARATOR = "---------- Forwarded message ----------"
SIGNATURE_DELIMITER = "-- "

Addresses = Sequence[Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class Original:
    """The message answered or forwarded, as the mail store holds it."""

    message_id: str | None
    subject: str
    from_name: str
    from_address: str
    date: datetime | None
    text: str
    # Sanitised HTML, ready to show (None: a plain-text message).
    html: str | None
    to: Addresses = ()
    cc: Addresses = ()
    reply_to: Addresses = ()
    references: Sequence[str] = ()
    thread_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    """Who answers: every address that is the user's (lower case), and the signature of the
    mailbox the draft is sent from."""

    own_addresses: frozenset[str]
    signature_text: str = ""
    signature_html: str = ""


@dataclass(frozen=True, slots=True)
class Prefill:
    to: list[dict[str, str]] = field(default_factory=list)
    cc: list[dict[str, str]] = field(default_factory=list)
    subject: str = ""
    text: str = ""
    html: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    thread_id: uuid.UUID | None = None
    # The user's address the original was written to, for the From of the answer (None: the
    # mailbox's own).
    from_address: str | None = None


# --- recipients ---------------------------------------------------------------------------------


def header_text(value: str) -> str:
    """Text safe in a header: control characters and line breaks (which a decoded header of
    hostile mail may carry) become spaces, runs of white space one."""
    return " ".join(
        "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in value).split()
    )


def clean_recipients(items: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Recipients as a draft stores them: names made header-safe, addresses normalised as the
    API does; what is no address (a group's "undisclosed-recipients:;") is left out."""
    cleaned: list[dict[str, str]] = []
    for item in items:
        try:
            recipient = Recipient(
                name=header_text(item.get("name", ""))[:200], address=item.get("address", "")
            )
        except ValidationError:
            continue
        cleaned.append(recipient.model_dump())
    return cleaned


def _without(items: Iterable[Mapping[str, str]], excluded: set[str]) -> list[dict[str, str]]:
    """`items` minus the `excluded` addresses and repeats; adds what it keeps to `excluded`."""
    kept: list[dict[str, str]] = []
    for item in clean_recipients(items):
        key = item["address"].lower()
        if key not in excluded:
            excluded.add(key)
            kept.append(item)
    return kept


def _from_user(original: Original, own: frozenset[str]) -> bool:
    return original.from_address.lower() in own


def reply_recipients(
    original: Original, own: frozenset[str], *, reply_all: bool
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(To, Cc) of a reply or reply-all."""
    seen = set(own)
    if _from_user(original, own):
        # Answering one's own message (a follow-up): to the people it went to.
        to = _without(original.to, seen)
        cc = _without(original.cc, seen) if reply_all else []
        return to, cc
    sender = {"name": original.from_name, "address": original.from_address}
    to = _without(original.reply_to or [sender], seen)
    cc = _without([*original.to, *original.cc], seen) if reply_all else []
    return to, cc


def _addressed_to(original: Original, own: frozenset[str]) -> str | None:
    """The user's address the original was sent to, if one was."""
    for item in (*original.to, *original.cc):
        address = item.get("address", "").lower()
        if address in own:
            return address
    return None


# --- subject and threading ----------------------------------------------------------------------


def reply_subject(subject: str) -> str:
    return f"Re: {strip_markers(header_text(subject))}".rstrip()


def forward_subject(subject: str) -> str:
    return f"Fwd: {strip_markers(header_text(subject))}".rstrip()


def reply_references(original: Original) -> list[str]:
    """The original's References and its own Message-ID, each once (the last copy kept in its
    place), at most MAX_REFERENCES: the thread's first message and the latest others, since
    clients that thread by References look for the root (RFC 5322 section 3.6.4 lets a
    trimmed list keep the first)."""
    chain = [*original.references, *([original.message_id] if original.message_id else [])]
    seen: set[str] = set()
    unique: list[str] = []
    for message_id in reversed(chain):
        if message_id and message_id not in seen:
            seen.add(message_id)
            unique.append(message_id)
    unique.reverse()
    if len(unique) <= MAX_REFERENCES:
        return unique
    return [unique[0], *unique[-(MAX_REFERENCES - 1) :]]


# --- bodies -------------------------------------------------------------------------------------


def _mailbox(name: str, address: str) -> str:
    name = header_text(name)
    return f"{name} <{address}>" if name else address


def _list(items: Addresses) -> str:
    return ", ".join(_mailbox(i.get("name", ""), i.get("address", "")) for i in items)


def _date(moment: datetime | None) -> str:
    if moment is None:
        return "an unknown date"
    utc = moment.astimezone(UTC)
    return f"{utc:%a}, {utc.day} {utc:%b %Y} at {utc:%H:%M} UTC"


def _text_of(original: Original) -> str:
    if original.text.strip() or not original.html:
        return original.text
    return html_to_text(original.html)


def _html_of(original: Original) -> str:
    if original.html:
        return original.html
    return _text_html(original.text)


def _text_html(text: str) -> str:
    """Plain text as HTML: escaped, line breaks kept."""
    return html_lib.escape(text.rstrip("\n")).replace("\n", "<br>\n")


def _signature_text(sender: Sender) -> str:
    if sender.signature_text.strip():
        return sender.signature_text.strip("\n")
    if sender.signature_html.strip():
        return html_to_text(sender.signature_html).strip("\n")
    return ""


def _signature_html(sender: Sender) -> str:
    if sender.signature_html.strip():
        return sender.signature_html
    return _text_html(sender.signature_text.strip("\n"))


def _with_signature(sender: Sender) -> tuple[str, str]:
    """The start of a body: room to write, then the signature (text, HTML)."""
    signature = _signature_text(sender)
    if not signature:
        return "\n\n", "<p><br></p>"
    text = f"\n\n{SIGNATURE_DELIMITER}\n{signature}\n"
    html = f"<p><br></p><div>{SIGNATURE_DELIMITER}<br>{_signature_html(sender)}</div>"
    return text, html


def _quote_lines(text: str) -> str:
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    return "\n".join(f"> {line}" if line else ">" for line in lines)


def reply_body(original: Original, sender: Sender) -> tuple[str, str]:
    """(text, HTML) of a reply: room to write, the signature, then the quoted original."""
    top_text, top_html = _with_signature(sender)
    attribution = (
        f"On {_date(original.date)}, {_mailbox(original.from_name, original.from_address)} wrote:"
    )
    text = f"{top_text}\n{attribution}\n{_quote_lines(_text_of(original))}\n"
    html = (
        f"{top_html}<div>{html_lib.escape(attribution)}<br></div>"
        f'<blockquote type="cite">{_html_of(original)}</blockquote>'
    )
    return text, html


def _forward_headers(original: Original) -> list[tuple[str, str]]:
    headers = [
        ("From", _mailbox(original.from_name, original.from_address)),
        ("Date", _date(original.date)),
        ("Subject", header_text(original.subject)),
        ("To", _list(original.to)),
    ]
    if original.cc:
        headers.append(("Cc", _list(original.cc)))
    return headers


def forward_body(original: Original, sender: Sender) -> tuple[str, str]:
    """(text, HTML) of a forward: room to write, the signature, the original's headers block
    and its body."""
    top_text, top_html = _with_signature(sender)
    headers = _forward_headers(original)
    block = "\n".join(f"{name}: {value}" for name, value in headers)
    text = f"{top_text}\n{FORWARD_SEPARATOR}\n{block}\n\n{_text_of(original).rstrip()}\n"
    rows = "".join(f"{name}: {html_lib.escape(value)}<br>" for name, value in headers)
    html = f"{top_html}<div>{FORWARD_SEPARATOR}<br>{rows}<br></div><div>{_html_of(original)}</div>"
    return text, html


def new_body(sender: Sender) -> tuple[str, str | None]:
    """A new message: the signature, when the mailbox has one; else nothing (plain text until
    the editor writes HTML)."""
    if not _signature_text(sender):
        return "", None
    return _with_signature(sender)


# --- the whole prefill --------------------------------------------------------------------------


def build_prefill(mode: ComposeMode, original: Original | None, sender: Sender) -> Prefill:
    """Everything a draft of `mode` starts with; `original` is required unless mode is new."""
    own = sender.own_addresses
    if mode is ComposeMode.NEW or original is None:
        text, html = new_body(sender)
        return Prefill(text=text, html=html)
    if mode is ComposeMode.FORWARD:
        text, html = forward_body(original, sender)
        return Prefill(
            subject=forward_subject(original.subject),
            text=text,
            html=html,
            references=[original.message_id] if original.message_id else [],
            thread_id=original.thread_id,
            from_address=_addressed_to(original, own),
        )
    to, cc = reply_recipients(original, own, reply_all=mode is ComposeMode.REPLY_ALL)
    text, html = reply_body(original, sender)
    return Prefill(
        to=to,
        cc=cc,
        subject=reply_subject(original.subject),
        text=text,
        html=html,
        in_reply_to=original.message_id,
        references=reply_references(original),
        thread_id=original.thread_id,
        from_address=_addressed_to(original, own),
    )
