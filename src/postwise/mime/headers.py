"""Header and charset decoding for `postwise.mime.parse`.

Mail headers and bodies arrive in every charset, declared or not, right or wrong; this module
turns them into clean text (no NUL, no lone surrogates) and parses the top-level headers the
database stores.

Speed: `policy.default` as shipped re-parses each part's Content-Type about five times while the
parser builds the tree and spends 100-250 us per address header, so the parser's policy memoises
parsed header objects (same semantics, each distinct value parsed once), and address, date, id
and encoded-word headers take a strict fast path for the common syntax, falling back to
`policy.default` (then to the raw value) for anything else.
"""

from __future__ import annotations

import binascii
import codecs
import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

__all__ = [
    "POLICY",
    "Address",
    "Headers",
    "clean",
    "decode_bytes",
    "decode_words",
    "header_text",
    "normalize_message_id",
    "parse_date",
    "parse_headers",
]

_MAX_PARSED_HEADER = 8192
# Longer address lists skip policy.default (superlinear: 60 KB took seconds) for getaddresses.
_MAX_POLICY_ADDRESSES = 4096


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    address: str


class _ParsePolicy(EmailPolicy):
    """`policy.default` with parsed header objects memoised (they are immutable)."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name"):
            return value
        # policy.default's parser is superlinear; no real MIME header comes near this size.
        return _parsed_header(name, value[:_MAX_PARSED_HEADER])


POLICY = _ParsePolicy()


# Values repeat across messages (`text/plain; charset=utf-8`) and within one: the parser asks
# for each part's Content-Type several times.
@functools.lru_cache(maxsize=256)
def _parsed_header(name: str, value: str) -> Any:
    return EmailPolicy.header_fetch_parse(POLICY, name, value)


# --- text decoding ------------------------------------------------------------------------------

# Labels mail uses for charsets Python names differently or that have a superset mail clients
# actually mean (WHATWG Encoding Standard): Latin-1 and ASCII labels mean Windows-1252, GB2312
# means GB18030, Shift_JIS means Windows-31J.
_CHARSET_ALIASES = {
    **dict.fromkeys(("us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin1"), "cp1252"),
    **dict.fromkeys(("latin-1", "iso_8859-1", "l1", "windows-1252"), "cp1252"),
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "euc-cn", "cn-gb"), "gb18030"),
    **dict.fromkeys(("ks_c_5601-1987", "ks_c_5601", "euc-kr", "ksc5601"), "cp949"),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "x-sjis", "windows-31j"), "cp932"),
    **dict.fromkeys(("windows-874", "tis-620", "iso-8859-11"), "cp874"),
    **dict.fromkeys(("x-mac-roman", "macintosh"), "mac-roman"),
    "iso-8859-8-i": "iso-8859-8",
    "big5": "big5hkscs",
}
# Labels that say nothing about the bytes.
_NO_CHARSET = frozenset(
    {"", "x-unknown", "unknown", "unknown-8bit", "default", "x-user-defined", "8bit", "7bit"}
    | {"binary", "charset", "none"}
)
# Codecs whose ASCII-only byte strings are not ASCII text.
_NOT_ASCII_SAFE = ("utf-16", "utf-32", "utf-7", "iso2022", "hz", "cp037", "cp500", "cp1140")


@functools.lru_cache(maxsize=256)
def _codec(charset: str | None) -> str | None:
    """Python codec name for a declared charset, or None when unknown or meaningless."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    if label in _NO_CHARSET:
        return None
    try:
        info = codecs.lookup(_CHARSET_ALIASES.get(label, label))
    except (LookupError, ValueError):
        return None
    # codecs.lookup also knows bytes-to-bytes codecs such as "zlib" and "base64".
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 text with a few bad sequences (truncation, a stray byte), else None."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return text if bad * 10 <= non_ascii else None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes as text, trusting the declared charset only as far as the bytes agree with it."""
    codec = _codec(charset)
    if data.isascii() and (codec is None or not codec.startswith(_NOT_ASCII_SAFE)):
        return data.decode("ascii")
    if codec is None or codec == "cp1252":
        # Undeclared, or declared as Latin-1/ASCII: valid UTF-8 is far more likely to be UTF-8
        # mislabelled than Windows-1252 that happens to form valid UTF-8 sequences.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", "replace")
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        pass
    if codec == "utf-8":
        # Declared UTF-8 but written by a Windows-1252 client, or UTF-8 with a few bad bytes.
        return _mostly_utf8(data) or data.decode("cp1252", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(codec, "replace")
    except (UnicodeError, LookupError, ValueError):  # codecs such as idna raise regardless
        return data.decode("cp1252", "replace")


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def clean(value: str) -> str:
    """Text safe for any database: no NUL, no lone surrogates (from undecodable bytes)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii() and _SURROGATE_RE.search(value):
        value = _SURROGATE_RE.sub("\ufffd", value)
    return value


# --- headers ------------------------------------------------------------------------------------

_FOLD_RE = re.compile(r"\r?\n(?=[ \t])")


def header_text(value: str) -> str:
    """A raw header value as text: unfolded, 8-bit bytes decoded (UTF-8, else Windows-1252)."""
    if "\n" in value or "\r" in value:
        value = _FOLD_RE.sub("", value).replace("\r", "").replace("\n", "")
    if not value.isascii():
        # The parser keeps undecoded 8-bit header bytes as surrogate escapes.
        try:
            raw = value.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:
            return clean(value)
        value = decode_bytes(raw, None)
    return value


_WORD = r"=\?[^?\s]{1,75}\?[QqBb]\?[^?\s]{0,2000}\?="
_ENCODED_WORD_RE = re.compile(r"=\?([^?\s]{1,75})\?([QqBb])\?([^?\s]{0,2000})\?=")
# Adjacent encoded words: the whitespace between them is not part of the text (RFC 2047 6.2).
_ENCODED_RUN_RE = re.compile(rf"{_WORD}(?:[ \t]*{_WORD})*")


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    try:
        raw = payload.encode("ascii")
        if encoding in "Bb":
            return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4))
        return binascii.a2b_qp(raw, header=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None


def _decode_run(match: re.Match[str]) -> str:
    # Bytes of consecutive words in one charset are joined before decoding: mailers split
    # multi-byte characters across words.
    chunks: list[tuple[str, bytearray]] = []
    for charset, encoding, payload in _ENCODED_WORD_RE.findall(match.group(0)):
        label = charset.partition("*")[0].lower()  # RFC 2231 language suffix
        data = _word_bytes(encoding, payload)
        if data is None:
            return match.group(0)
        if chunks and chunks[-1][0] == label:
            chunks[-1][1].extend(data)
        else:
            chunks.append((label, bytearray(data)))
    return "".join(decode_bytes(bytes(data), label) for label, data in chunks)


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, with our charset fallbacks."""
    if "=?" not in value:
        return value
    decoded = _ENCODED_RUN_RE.sub(_decode_run, value)
    if "=?" in decoded and "?=" in decoded and len(value) <= _MAX_PARSED_HEADER:
        # Malformed words (spaces inside, bad base64): policy.default's decoder is more lenient.
        try:
            return str(POLICY.header_factory("x-postwise-decode", value))
        except Exception:
            return decoded
    return decoded


_ADDR_SPEC = r'[^\s<>"@,;:\\()\[\]]+@[^\s<>"@,;:\\()\[\]]+'
# One mailbox of the common, unambiguous forms: `a@b`, `<a@b>`, `Name <a@b>`, `"Name" <a@b>`,
# `a@b (Name)`.
_MAILBOX_RE = re.compile(
    r'\s*(?:(?:"(?P<quoted>[^"\\\r\n]*)"|(?P<name>[^",<>@;:\\\[\]()\r\n]*?))\s*'
    rf"<(?P<angle>{_ADDR_SPEC})>|(?P<bare>{_ADDR_SPEC})(?:\s*\((?P<comment>[^()\\\r\n]*)\))?)"
    r"\s*(?:,|\Z)"
)


def _fast_addresses(value: str) -> list[Address] | None:
    result: list[Address] = []
    position = 0
    while position < len(value):
        match = _MAILBOX_RE.match(value, position)
        if match is None:
            return None
        if match["bare"]:
            # `a@b (Name)`: the old way of naming the sender, still written by some mailers.
            result.append(Address(decode_words(match["comment"] or "").strip(), match["bare"]))
        else:
            name = match["quoted"] if match["quoted"] is not None else match["name"]
            result.append(Address(decode_words(name.strip()).strip(), match["angle"]))
        position = match.end()
    return result


def _addresses(name: str, raw: str | None) -> list[Address]:
    if raw is None:
        return []
    value = clean(header_text(raw))
    if not value.strip():
        return []
    fast = _fast_addresses(value)
    if fast is not None:
        return [Address(clean(a.name), a.address) for a in fast]
    parsed = None
    if len(value) <= _MAX_POLICY_ADDRESSES:
        try:
            parsed = POLICY.header_factory(name, value).addresses
        except Exception:  # policy.default raises on some malformed address lists
            parsed = None
    if parsed is not None:
        return [
            Address(clean(a.display_name.strip()), clean(a.addr_spec.strip()))
            for a in parsed
            if a.addr_spec.strip() or a.display_name.strip()
        ]
    pairs = [(n, a) for n, a in getaddresses([value]) if a.strip()]
    if pairs:
        return [Address(clean(decode_words(n).strip()), a.strip()) for n, a in pairs]
    return [Address("", value.strip())]


_MSG_ID_RE = re.compile(r"<([^<>]{1,998})>")


def _msg_ids(raw: str | None) -> list[str]:
    if raw is None:
        return []
    value = clean(header_text(raw))
    ids = [found.strip() for found in _MSG_ID_RE.findall(value)]
    if not ids:  # ids without angle brackets, as some mailers write them
        ids = [token.strip("<>") for token in value.replace(",", " ").split() if "@" in token]
    return list(dict.fromkeys(i for i in ids if i and not any(c.isspace() for c in i)))


def normalize_message_id(raw: str | None) -> str | None:
    """The Message-ID of a raw header value as it is stored: the first id, without "<>".

    The importer finds a message it imported before by this value (`imports.readers.sniff`),
    so it must read the header with this very function: any difference (8-bit bytes, NUL,
    odd spacing) would import the message a second time."""
    ids = _msg_ids(raw)
    return ids[0] if ids else None


def parse_date(raw: str | None) -> datetime | None:
    """A Date header (or an mbox From line's date) in UTC; None when it is not a date."""
    if raw is None:
        return None
    value = header_text(raw).strip()
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
        if parsed.tzinfo is None:  # "-0000": UTC, origin unknown
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _text_header(raw: str | None) -> str:
    if raw is None:
        return ""
    return " ".join(clean(decode_words(header_text(raw))).split())


def _list_id(raw: str | None) -> str | None:
    value = _text_header(raw)
    inner = _MSG_ID_RE.search(value)
    return (inner.group(1).strip() if inner else value) or None


@dataclass(slots=True)
class Headers:
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_: Address | None = None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    sent_at: datetime | None = None
    list_id: str | None = None
    list_unsubscribe: str | None = None


def parse_headers(msg: Message[Any, Any]) -> Headers:
    raw: dict[str, str] = {}
    for name, value in msg.raw_items():
        raw.setdefault(name.lower(), value)  # the first occurrence counts
    senders = _addresses("from", raw.get("from")) or _addresses("sender", raw.get("sender"))
    in_reply_to = _msg_ids(raw.get("in-reply-to"))
    return Headers(
        message_id=normalize_message_id(raw.get("message-id")),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=_msg_ids(raw.get("references")),
        subject=_text_header(raw.get("subject")),
        from_=senders[0] if senders else None,
        to=_addresses("to", raw.get("to")),
        cc=_addresses("cc", raw.get("cc")),
        bcc=_addresses("bcc", raw.get("bcc")),
        reply_to=_addresses("reply-to", raw.get("reply-to")),
        sent_at=parse_date(raw.get("date")),
        list_id=_list_id(raw.get("list-id")),
        list_unsubscribe=_text_header(raw.get("list-unsubscribe")) or None,
    )
