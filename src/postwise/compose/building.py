"""The message a draft becomes: RFC 5322 bytes and the SMTP envelope. Pure: no database, no I/O
except reading attachment contents through the callable it is given.

- Built with `email.message.EmailMessage` under `policy.SMTP` (CRLF, RFC 2047 for non-ASCII
  names and subjects, RFC 2231 for non-ASCII filenames). When an address itself is not ASCII
  (a non-ASCII local part), the whole message is built under `policy.SMTPUTF8` instead
  (RFC 6532) and must travel with the SMTPUTF8 extension (`Envelope.smtputf8`).
- Bodies are 7-bit (quoted-printable or base64): no server has to speak 8BITMIME, and what the
  server stores is byte for byte what was built.
- Structure: text/plain alone; or multipart/alternative (text, HTML) with the text generated
  from the HTML when only HTML was written; the HTML and its inline images (`cid:`) in
  multipart/related; other attachments in multipart/mixed around it all.
- Bcc is in the envelope only, never in the headers of what is delivered; the copies kept by the
  user (the Drafts mirror, the Sent copy: `with_bcc_header`) carry it, so they still say who
  was in Bcc.
- Message-ID, In-Reply-To and References are written as given and folded between ids: left to
  the policy, an id longer than a line was turned into an RFC 2047 encoded word, which no
  client reads as an id (threading would break).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime

from postwise.accounts.models import MailAccount
from postwise.compose.models import Draft, DraftAttachment
from postwise.mime.html_text import html_to_text

__all__ = [
    "BlobReader",
    "BuildError",
    "BuiltMessage",
    "Envelope",
    "HeaderInjectionError",
    "build_message",
    "envelope_of",
    "with_bcc_header",
]

# Reads an attachment's bytes by its sha256 (a BlobStore's `get`).
BlobReader = Callable[[str], bytes]

# refold_source="none": headers stored raw (the id lists, see `_set_ids`) are written as
# folded here; headers set as values are still folded by the policy.
_ASCII_POLICY = email_policy.SMTP.clone(cte_type="7bit", refold_source="none")
_UTF8_POLICY = email_policy.SMTPUTF8.clone(cte_type="7bit", refold_source="none")
# A msg-id without its brackets: visible ASCII, no brackets, no whitespace (RFC 5322 3.6.4).
_MSG_ID = re.compile(r"[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+")
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
# Types that may not be sent as base64 (RFC 2046 5.2.1, 5.1): sent as 7bit when they can be,
# else as opaque bytes.
_NO_BASE64 = ("multipart", "message")


class BuildError(ValueError):
    """The draft cannot become a message (the reason is for the user)."""


class HeaderInjectionError(BuildError):
    """A header value holds a line break or another control character."""


@dataclass(frozen=True, slots=True)
class Envelope:
    sender: str
    # Everyone the message goes to (To, Cc and Bcc), each once, in that order.
    recipients: tuple[str, ...]
    # An address is not ASCII: the server must offer SMTPUTF8 (RFC 6531).
    smtputf8: bool


@dataclass(frozen=True, slots=True)
class BuiltMessage:
    raw: bytes
    envelope: Envelope


def _check_line(value: str, field: str) -> str:
    """The schemas refuse these on the way in; a row written another way must still never
    put a line break (a new header, a new SMTP command) into the message."""
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise HeaderInjectionError(f"The {field} holds a line break or control character.")
    return value


def _address(name: str, address: str, field: str) -> Address:
    _check_line(name, field)
    _check_line(address, field)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in address):
        raise BuildError(f"{address!r} in {field} is not an email address.")
    # username/domain rather than addr_spec: the parser behind addr_spec refuses a non-ASCII
    # local part even under SMTPUTF8, where it is legal.
    return Address(display_name=name, username=local, domain=domain)


def _addresses(values: Iterable[dict[str, str]] | None, field: str) -> list[Address]:
    return [_address(v.get("name", ""), v.get("address", ""), field) for v in values or ()]


def _send_as_name(account: MailAccount, address: str) -> str:
    """The display name for `address`: its send-as entry's, else the mailbox's sender name
    (never `display_name`, the mailbox's label in Postwise)."""
    try:
        entries = json.loads(account.send_as or "[]")
    except ValueError:
        entries = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and str(entry.get("address", "")).lower() == address.lower():
            return str(entry.get("name") or "") or account.sender_name
    return account.sender_name


def _sender(draft: Draft, account: MailAccount) -> Address:
    address = (draft.from_address or account.email).lower()
    allowed = {account.email.lower()}
    try:
        entries = json.loads(account.send_as or "[]")
        allowed.update(str(e["address"]).lower() for e in entries if isinstance(e, dict))
    except (ValueError, KeyError, TypeError):
        pass
    if address not in allowed:
        # The send-as address was removed after the draft chose it.
        raise BuildError(f"{address} is no longer one of this mailbox's addresses.")
    return _address(_send_as_name(account, address), address, "sender")


def _ascii(address: Address) -> bool:
    return address.addr_spec.isascii()


def _set_ids(message: EmailMessage, name: str, ids: Sequence[str]) -> None:
    """`<id>` each, one per line: written raw (see the module docstring)."""
    if ids:
        message.set_raw(name, "\n ".join(f"<{i}>" for i in ids))


def _valid_ids(ids: Iterable[str | None]) -> list[str]:
    """Ids from received mail, without their brackets; one a header cannot carry is left out
    rather than refusing to send the reply."""
    found: list[str] = []
    for value in ids:
        cleaned = (value or "").strip().strip("<>")
        if _MSG_ID.fullmatch(cleaned) and cleaned not in found:
            found.append(cleaned)
    return found


def _headers(
    message: EmailMessage,
    draft: Draft,
    sender: Address,
    *,
    bcc: list[Address],
    now: datetime,
) -> None:
    message["From"] = sender
    to = _addresses(draft.to, "To")
    cc = _addresses(draft.cc, "Cc")
    if to:
        message["To"] = to
    if cc:
        message["Cc"] = cc
    if bcc:
        message["Bcc"] = bcc
    message["Subject"] = _check_line(draft.subject or "", "subject")
    message["Date"] = format_datetime(now.astimezone(UTC))
    own_id = (draft.message_id or "").strip("<>")
    if not _MSG_ID.fullmatch(own_id):
        raise HeaderInjectionError("The draft's Message-ID is not a valid message id.")
    _set_ids(message, "Message-ID", [own_id])
    _set_ids(message, "In-Reply-To", _valid_ids([draft.in_reply_to])[:1])
    _set_ids(message, "References", _valid_ids(draft.references or []))


def _mime_type(value: str) -> tuple[str, str]:
    lowered = (value or "").strip().lower().partition(";")[0].strip()
    if not _MIME_TYPE.fullmatch(lowered):
        return "application", "octet-stream"
    maintype, _, subtype = lowered.partition("/")
    return maintype, subtype


def _filename(value: str) -> str | None:
    # An uploaded file's name is not something the user typed into a header: control
    # characters are replaced, not refused.
    cleaned = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in value)
    cleaned = cleaned.strip()
    return cleaned or None


def _content_options(maintype: str, data: bytes) -> tuple[str, str, str]:
    """(maintype, subtype override or "", cte): base64 unless the type forbids it."""
    if maintype not in _NO_BASE64:
        return maintype, "", "base64"
    seven_bit = data.isascii() and all(len(line) <= 998 for line in data.splitlines())
    if maintype == "message" and seven_bit:
        return maintype, "", "7bit"
    return "application", "octet-stream", "base64"


def _attach(
    target: MIMEPart,
    part: DraftAttachment,
    data: bytes,
    *,
    related: bool,
) -> None:
    maintype, subtype = _mime_type(part.content_type)
    maintype, override, cte = _content_options(maintype, data)
    subtype = override or subtype
    filename = _filename(part.filename or "")
    if related:
        cid = _check_line((part.content_id or "").strip().strip("<>"), "attachment's Content-ID")
        target.add_related(
            data,
            maintype,
            subtype,
            cid=f"<{cid}>",
            disposition="inline",
            filename=filename,
            cte=cte,
        )
    else:
        target.add_attachment(data, maintype, subtype, filename=filename, cte=cte)


def _body(
    message: EmailMessage,
    draft: Draft,
    attachments: Sequence[DraftAttachment],
    read_blob: BlobReader,
) -> None:
    html = draft.html
    text = draft.text or ""
    if html is not None and not text.strip():
        text = html_to_text(html)
    message.set_content(text)
    inline = [a for a in attachments if a.is_inline and a.content_id and html is not None]
    others = [a for a in attachments if a not in inline]
    if html is not None:
        message.add_alternative(html, subtype="html")
        *_, html_part = message.iter_parts()
        for part in inline:
            _attach(html_part, part, read_blob(part.sha256), related=True)
        if inline:
            # RFC 2387: the type of the related set's root, which some clients rely on.
            html_part.set_param("type", "text/html")
    for part in others:
        _attach(message, part, read_blob(part.sha256), related=False)
    for sub in message.walk():
        # The email package repeats MIME-Version in every part it adds; it belongs at the top
        # only (RFC 2045 4).
        if sub is not message:
            del sub["MIME-Version"]


def _recipients(addresses: Iterable[Address]) -> tuple[str, ...]:
    found: dict[str, str] = {}
    for address in addresses:
        found.setdefault(address.addr_spec.lower(), address.addr_spec)
    return tuple(found.values())


def envelope_of(draft: Draft, account: MailAccount) -> Envelope:
    """Who the message is from and goes to (To, Cc and Bcc, each address once)."""
    sender = _sender(draft, account)
    everyone = [*_addresses(draft.to, "To"), *_addresses(draft.cc, "Cc")]
    everyone += _addresses(draft.bcc, "Bcc")
    recipients = _recipients(everyone)
    if not recipients:
        raise BuildError("The message has no recipients.")
    utf8 = not all(_ascii(a) for a in [sender, *everyone])
    return Envelope(sender=sender.addr_spec, recipients=recipients, smtputf8=utf8)


def build_message(
    draft: Draft,
    attachments: Sequence[DraftAttachment],
    account: MailAccount,
    *,
    read_blob: BlobReader,
    now: datetime | None = None,
    draft_copy: bool = False,
) -> BuiltMessage:
    """The message to send for `draft` (with its attachments), from `account`.

    `draft_copy`: the user's copy in the Drafts folder, which keeps the Bcc header and may
    have no recipients yet. Raises BuildError (HeaderInjectionError for a line break in a
    header value)."""
    sender = _sender(draft, account)
    bcc = _addresses(draft.bcc, "Bcc")
    everyone = [sender, *_addresses(draft.to, "To"), *_addresses(draft.cc, "Cc"), *bcc]
    utf8 = not all(_ascii(a) for a in everyone)
    message = EmailMessage(policy=_UTF8_POLICY if utf8 else _ASCII_POLICY)
    _headers(message, draft, sender, bcc=bcc if draft_copy else [], now=now or datetime.now(UTC))
    _body(message, draft, sorted(attachments, key=lambda a: a.position), read_blob)
    if draft_copy:
        envelope = Envelope(sender.addr_spec, _recipients(everyone[1:]), utf8)
    else:
        envelope = envelope_of(draft, account)
    return BuiltMessage(raw=message.as_bytes(), envelope=envelope)


def with_bcc_header(raw: bytes, bcc: Sequence[dict[str, str]]) -> bytes:
    """`raw` with a Bcc header in front: the Sent copy says who was in Bcc, and every other
    byte is the one delivered."""
    addresses = _addresses(bcc, "Bcc")
    if not addresses:
        return raw
    utf8 = not all(_ascii(a) for a in addresses)
    header = EmailMessage(policy=_UTF8_POLICY if utf8 else _ASCII_POLICY)
    header["Bcc"] = addresses
    # An EmailMessage without a body serialises as its headers and the blank line.
    return header.as_bytes().removesuffix(b"\r\n") + raw
