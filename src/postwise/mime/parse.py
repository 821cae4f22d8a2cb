"""Raw RFC 5322 bytes to what the database stores: `parse_message`.

Mail in the wild is often malformed, so every step has a fallback and `parse_message` never
raises: a message we cannot fully parse is still stored, with `parse_error` set and whatever could
be salvaged. Header and charset decoding live in `mime_headers`, HTML in `sanitize`, quote and
signature detection in `quotes`.

Runs in a ProcessPoolExecutor: only module-level functions, plain picklable results, and no state
but per-process caches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email import errors as email_errors
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from email.utils import collapse_rfc2231_value
from typing import Any
from urllib.parse import unquote

from postwise.mime.headers import (
    POLICY,
    Address,
    Headers,
    Source,
    clean,
    decode_bytes,
    decode_words,
    header_text,
    parse_headers,
)
from postwise.mime.html_text import html_to_text
from postwise.mime.quotes import find_quote_and_signature
from postwise.mime.sanitize import sanitize_html
from postwise.mime.split import split_message

__all__ = ["Address", "ParsedAttachment", "ParsedMessage", "parse_message"]


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    position: int
    filename: str
    content_type: str
    content: bytes
    content_id: str | None
    is_inline: bool


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str
    from_: Address | None
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    reply_to: list[Address]
    sent_at: datetime | None
    text: str
    html: str | None
    snippet: str
    quote_offset: int | None
    signature_offset: int | None
    attachments: list[ParsedAttachment]
    has_remote_images: bool
    has_tracking_pixel: bool
    list_id: str | None
    list_unsubscribe: str | None
    parse_error: str | None
    # Bulk and automation signals for triage (lower case; None when absent), and whether a
    # text/calendar part or an .ics file came with the message.
    precedence: str | None = None
    auto_submitted: str | None = None
    has_calendar: bool = False


SNIPPET_LENGTH = 200
_MAX_DEPTH = 40  # MIME nesting; real mail rarely goes past 6
_SALVAGE_TEXT_LIMIT = 1 << 20  # bytes of an unparseable body shown as text


# Re-serialises embedded messages as close to the original as the parsed tree allows.
_SERIALISE_POLICY = POLICY.clone(max_line_length=None, linesep="\r\n")


# --- body and attachments -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Found:
    """An attachment met during the walk; `is_inline` needs the HTML, known only at the end."""

    filename: str
    content_type: str
    content: bytes
    content_id: str | None
    disposition: str | None


@dataclass(slots=True)
class _Walk:
    source: Source  # the message, whose declared charsets decode 8-bit filenames
    attachments: list[_Found] = field(default_factory=list)
    problem: str | None = None
    # Text parts kept as attachments (they have a filename) but marked inline: the body when the
    # message has no other (mailers such as VM and Apple Mail send notes this way).
    inline_texts: list[str] = field(default_factory=list)
    inline_htmls: list[str] = field(default_factory=list)


_BODY_TYPES = frozenset({"text/plain", "text/html"})
# Other renderings of the body that mean nothing to a reader when shown as files.
_SKIPPED_ALTERNATIVES = frozenset({"text/x-amp-html", "text/watch-html", "text/enriched"})
_META_CHARSET_RE = re.compile(
    rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?([A-Za-z0-9_.:-]{1,40})", re.I
)
_UNSAFE_FILENAME_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CID_REF_RE = re.compile(r"cid:([^\"'\s>)]+)", re.IGNORECASE)


def _param(part: Message[Any, Any], name: str) -> str:
    value = part.get_param(name)
    if value is None:
        return ""
    return str(collapse_rfc2231_value(value) if isinstance(value, tuple) else value).lower()


def _unflow(text: str, *, delsp: bool) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676)."""
    out: list[str] = []
    current: str | None = None
    current_depth = 0
    for line in text.split("\n"):
        content = line.lstrip(">")
        depth = len(line) - len(content)
        content = content.removeprefix(" ")  # space-stuffing, or the space after ">"
        if current is not None and depth != current_depth:
            out.append(">" * current_depth + " " + current if current_depth else current)
            current = None
        soft = content.endswith(" ") and content != "-- "
        if current is None:
            current, current_depth = "", depth
        current += content[:-1] if soft and delsp else content
        if not soft:
            out.append(">" * depth + " " + current if depth else current)
            current = None
    if current is not None:
        out.append(">" * current_depth + " " + current if current_depth else current)
    return "\n".join(out)


def _decode_body(part: Message[Any, Any], content_type: str) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    charset = part.get_content_charset()
    if charset is None and content_type == "text/html":
        sniffed = _META_CHARSET_RE.search(data[:4096])
        charset = sniffed.group(1).decode("ascii") if sniffed else None
    text = clean(decode_bytes(data, charset))
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if content_type == "text/plain" and _param(part, "format") == "flowed":
        text = _unflow(text, delsp=_param(part, "delsp") == "yes")
    return text


def _safe_filename(name: str, source: Source) -> str:
    """A filename that cannot name a path, hide its extension (bidi controls) or break a UI."""
    name = clean(decode_words(header_text(name), source))
    name = _UNSAFE_FILENAME_RE.sub("", name).replace("/", "_").replace("\\", "_")
    name = name.strip().lstrip(".").rstrip(". ")
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        keep = 255 - len(extension) - 1
        name = stem[:keep] + "." + extension if dot and len(extension) <= 16 else name[:255]
    return name


def _raw_header(part: Message[Any, Any], name: str) -> str | None:
    for key, value in part.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _subparts(part: Message[Any, Any]) -> list[Message[Any, Any]] | None:
    """The parts inside a multipart or message/* part; None for a leaf."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return None
    return [p for p in payload if isinstance(p, Message)]


def _message_bytes(part: Message[Any, Any]) -> bytes:
    """An embedded message/* part's content, re-serialised from the parsed tree."""
    inner = _subparts(part)
    if inner is not None:
        return b"\r\n".join(p.as_bytes(policy=_SERIALISE_POLICY) for p in inner)
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("ascii", "surrogateescape")
    return b""


def _raw_filename(part: Message[Any, Any], source: Source) -> str | None:
    """The filename parameter read from the raw header, its 8-bit bytes decoded with the
    message's charsets: the policy has already turned them into U+FFFD in `get_filename`."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        raw = _raw_header(part, header)
        if raw is None or raw.isascii():
            continue
        holder: Message[str, str] = Message(policy=compat32)
        holder[header] = header_text(raw, source)
        value = holder.get_param(param, header=header)
        if value:
            return str(collapse_rfc2231_value(value) if isinstance(value, tuple) else value)
    return None


def _filename(part: Message[Any, Any], source: Source) -> str:
    name = part.get_filename() or ""
    if "\ufffd" in name:
        name = _raw_filename(part, source) or name
    return _safe_filename(name, source)


def _found(part: Message[Any, Any], content_type: str, source: Source) -> _Found:
    if content_type.startswith("message/"):
        content = _message_bytes(part)
    else:
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
    try:
        filename = _filename(part, source)
    except Exception:  # a malformed RFC 2231 parameter
        filename = ""
    content_id = header_text(_raw_header(part, "content-id") or "").strip().strip("<>").strip()
    return _Found(
        filename=filename,
        content_type=content_type,
        content=content,
        content_id=clean(content_id) or None,
        disposition=part.get_content_disposition(),
    )


def _is_body(part: Message[Any, Any], depth: int) -> bool:
    if part.get_content_disposition() == "attachment":
        return False
    return depth == 0 or not part.get_filename()


def _collect(
    part: Message[Any, Any], walk: _Walk, depth: int, *, role: str = "body"
) -> tuple[list[str], list[str]]:
    """Body texts and HTMLs of `part`; attachments go to `walk` in walk order.

    `role` is "alternative" inside multipart/alternative and "resource" for the non-root parts
    of multipart/related.
    """
    if depth > _MAX_DEPTH:
        walk.problem = "MIME structure nested too deeply"
        return [], []
    content_type = part.get_content_type()
    maintype = content_type.partition("/")[0]
    if maintype == "message":  # forwarded mail and reports: attachments, never the body
        walk.attachments.append(_found(part, content_type, walk.source))
        return [], []
    if part.is_multipart():
        return _collect_multipart(part, content_type, walk, depth)
    if maintype == "multipart":  # its boundary never appeared: show what is there as text
        walk.problem = walk.problem or "multipart without parts"
        return [_decode_body(part, "text/plain")], []
    if content_type in _BODY_TYPES and role != "resource" and _is_body(part, depth):
        body = _decode_body(part, content_type)
        return ([body], []) if content_type == "text/plain" else ([], [body])
    if role == "alternative" and content_type in _SKIPPED_ALTERNATIVES:
        return [], []
    found = _found(part, content_type, walk.source)
    walk.attachments.append(found)
    if content_type in _BODY_TYPES and found.disposition == "inline":
        inline = walk.inline_texts if content_type == "text/plain" else walk.inline_htmls
        inline.append(_decode_body(part, content_type))
    return [], []


def _collect_multipart(
    part: Message[Any, Any], content_type: str, walk: _Walk, depth: int
) -> tuple[list[str], list[str]]:
    children = _subparts(part) or []
    texts: list[str] = []
    htmls: list[str] = []
    subtype = content_type.partition("/")[2]
    if subtype == "alternative":
        # Alternatives come in increasing order of preference: the last one of each kind wins.
        for child in children:
            child_texts, child_htmls = _collect(child, walk, depth + 1, role="alternative")
            texts = child_texts or texts
            htmls = child_htmls or htmls
        return texts, htmls
    if subtype == "related":
        start = _param(part, "start").strip("<>")
        root = next(
            (
                c
                for c in children
                if start and (_raw_header(c, "content-id") or "").strip(" <>").lower() == start
            ),
            children[0] if children else None,
        )
        for child in children:
            role = "body" if child is root else "resource"
            child_texts, child_htmls = _collect(child, walk, depth + 1, role=role)
            if child is root:
                texts, htmls = child_texts, child_htmls
        return texts, htmls
    for child in children:  # mixed, and any multipart we do not know: all parts in order
        child_texts, child_htmls = _collect(child, walk, depth + 1)
        texts += child_texts
        htmls += child_htmls
    return texts, htmls


def _attachments(found: list[_Found], html: str | None) -> list[ParsedAttachment]:
    referenced: set[str] = set()
    if html and "cid:" in html.lower():
        for ref in _CID_REF_RE.findall(html):
            referenced.update((ref.lower(), unquote(ref).lower()))
    return [
        ParsedAttachment(
            position=position,
            filename=item.filename,
            content_type=item.content_type,
            content=item.content,
            content_id=item.content_id,
            is_inline=item.content_id is not None
            and (item.content_id.lower() in referenced or item.disposition == "inline"),
        )
        for position, item in enumerate(found)
    ]


# --- the whole message --------------------------------------------------------------------------

# Defects meaning the MIME tree is not what the sender built; others (bad base64 padding, odd
# header syntax) are common in legitimate mail and already handled leniently.
_STRUCTURE_DEFECTS: tuple[tuple[type[email_errors.MessageDefect], str], ...] = (
    (email_errors.NoBoundaryInMultipartDefect, "multipart without boundary"),
    (email_errors.StartBoundaryNotFoundDefect, "multipart boundary not found"),
    (email_errors.MultipartInvariantViolationDefect, "multipart without parts"),
)
# Characters of the body looked at for the snippet (a long quote can come first).
_SNIPPET_SCAN = 20_000


def _structure_problem(msg: Message[Any, Any]) -> str | None:
    for part in _iter_parts(msg):
        for defect in part.defects:
            for kind, reason in _STRUCTURE_DEFECTS:
                if isinstance(defect, kind):
                    return reason
    return None


def _iter_parts(msg: Message[Any, Any]) -> list[Message[Any, Any]]:
    """All parts, without recursion (a hostile message may nest deeper than the stack)."""
    parts: list[Message[Any, Any]] = []
    stack = [msg]
    while stack and len(parts) < 10_000:
        part = stack.pop()
        parts.append(part)
        stack.extend(reversed(_subparts(part) or []))
    return parts


def _snippet(text: str, *ends: int | None) -> str:
    """The start of what the sender wrote now: quotes, signature and "> " lines left out."""
    end = min([len(text), *(e for e in ends if e is not None)])
    visible = text[: min(end, _SNIPPET_SCAN)]
    if ">" in visible:
        visible = "\n".join(line for line in visible.split("\n") if not line.startswith(">"))
    words = visible.split()
    if not words:
        words = text[:_SNIPPET_SCAN].split()
    snippet = " ".join(words)
    if len(snippet) <= SNIPPET_LENGTH:
        return snippet
    cut = snippet.rfind(" ", 0, SNIPPET_LENGTH + 1)
    return snippet[: cut if cut > SNIPPET_LENGTH // 2 else SNIPPET_LENGTH]


_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})


def _is_calendar(item: _Found) -> bool:
    """An invitation: a text/calendar part (often an alternative of the body) or an .ics file,
    which some mailers send as application/octet-stream."""
    return item.content_type in _CALENDAR_TYPES or item.filename.lower().endswith((".ics", ".vcs"))


def _message(
    headers: Headers,
    *,
    texts: list[str],
    htmls: list[str],
    found: list[_Found],
    problem: str | None,
) -> ParsedMessage:
    html_source = "\n".join(htmls) if htmls else None
    text = "\n\n".join(t.rstrip() for t in texts)
    if not text.strip() and html_source is not None:
        text = html_to_text(html_source)
    sanitized = sanitize_html(html_source) if html_source is not None else None
    quote_offset, signature_offset = find_quote_and_signature(text)
    return ParsedMessage(
        message_id=headers.message_id,
        in_reply_to=headers.in_reply_to,
        references=headers.references,
        subject=headers.subject,
        from_=headers.from_,
        to=headers.to,
        cc=headers.cc,
        bcc=headers.bcc,
        reply_to=headers.reply_to,
        sent_at=headers.sent_at,
        text=text,
        html=sanitized.html if sanitized is not None else None,
        snippet=_snippet(text, quote_offset, signature_offset),
        quote_offset=quote_offset,
        signature_offset=signature_offset,
        attachments=_attachments(found, html_source),
        has_remote_images=sanitized.has_remote_images if sanitized is not None else False,
        has_tracking_pixel=sanitized.has_tracking_pixel if sanitized is not None else False,
        list_id=headers.list_id,
        list_unsubscribe=headers.list_unsubscribe,
        parse_error=problem,
        precedence=headers.precedence,
        auto_submitted=headers.auto_submitted,
        has_calendar=any(_is_calendar(item) for item in found),
    )


def _parse(raw: bytes, *, fast: bool = True) -> ParsedMessage:
    msg = (split_message(raw) if fast else None) or BytesParser(policy=POLICY).parsebytes(raw)
    headers = parse_headers(msg)
    walk = _Walk(msg)
    texts, htmls = _collect(msg, walk, 0)
    if not texts and not htmls:
        texts, htmls = walk.inline_texts, walk.inline_htmls
    problem = walk.problem or _structure_problem(msg)
    if not raw.strip():
        problem = "empty message"
    elif not any(True for _ in msg.raw_items()):
        problem = "no headers"
    return _message(headers, texts=texts, htmls=htmls, found=walk.attachments, problem=problem)


def _salvage_fields(raw: bytes) -> tuple[Headers, list[str]]:
    """Headers and a text body from a message the full parse failed on."""
    try:
        top = BytesHeaderParser(policy=POLICY).parsebytes(raw)
        headers = parse_headers(top)
        split = re.search(rb"\r?\n\r?\n", raw)
        body = raw[split.end() :] if split else b""
        if top.get_content_maintype() != "text":
            return headers, []
        return headers, [clean(decode_bytes(body[:_SALVAGE_TEXT_LIMIT], top.get_content_charset()))]
    except Exception:
        return Headers(), []


def _salvage(raw: bytes, reason: str) -> ParsedMessage:
    headers, texts = _salvage_fields(raw)
    try:
        return _message(headers, texts=texts, htmls=[], found=[], problem=reason)
    except Exception:
        return ParsedMessage(
            message_id=None,
            in_reply_to=None,
            references=[],
            subject="",
            from_=None,
            to=[],
            cc=[],
            bcc=[],
            reply_to=[],
            sent_at=None,
            text="",
            html=None,
            snippet="",
            quote_offset=None,
            signature_offset=None,
            attachments=[],
            has_remote_images=False,
            has_tracking_pixel=False,
            list_id=None,
            list_unsubscribe=None,
            parse_error=reason,
            precedence=headers.precedence,
            auto_submitted=headers.auto_submitted,
        )


def parse_message(raw: bytes, *, fast: bool = True) -> ParsedMessage:
    """Parse one message. Never raises: failures give `parse_error` and best-effort fields.

    `fast=False` always uses the stdlib parser for the tree (tests compare the two paths)."""
    try:
        data = raw if isinstance(raw, bytes) else bytes(raw)
    except Exception:
        data = b""
    try:
        return _parse(data, fast=fast)
    except Exception as exc:  # anything at all: the message must still be stored
        return _salvage(data, f"could not parse message ({type(exc).__name__})")
