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
import contextlib
import functools
import re
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any, TypeAlias

__all__ = [
    "POLICY",
    "Address",
    "Headers",
    "Source",
    "clean",
    "declared_charsets",
    "decode_bytes",
    "decode_words",
    "header_text",
    "normalize_message_id",
    "parse_date",
    "parse_headers",
    "safe_list_unsubscribe",
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

# Labels mailers write that Python does not know (Outlook's, old Mac and Netscape ones, the
# "-i"/"-e" Hebrew and Arabic variants that only say how the text is laid out).
_LABELS = {
    **dict.fromkeys(("chinesebig5", "x-x-big5", "cn-big5", "x-big5", "x-mac-chinesetrad"), "big5"),
    **dict.fromkeys(("x-euc-kr", "windows-949", "x-windows-949", "ks_c_5601-1989"), "cp949"),
    **dict.fromkeys(("csksc56011987", "iso-ir-149", "x-mac-korean"), "cp949"),
    **dict.fromkeys(("x-gbk", "gb_2312-80", "x-mac-chinesesimp", "x-gb2312"), "gb18030"),
    **dict.fromkeys(("x-sjis", "x-mac-japanese", "windows-31j"), "cp932"),
    **dict.fromkeys(("x-euc-jp", "x-euc"), "euc_jp"),
    **dict.fromkeys(("iso-8859-8-i", "iso-8859-8-e", "logical", "visual"), "iso8859-8"),
    **dict.fromkeys(("iso-8859-6-i", "iso-8859-6-e"), "iso8859-6"),
    **dict.fromkeys(("unicode-1-1-utf-8", "x-unicode20utf8", "unicode-2-0-utf-8"), "utf-8"),
    **dict.fromkeys(("unicode-1-1-utf-7", "x-unicode-2-0-utf-7", "unicode-2-0-utf-7"), "utf-7"),
    **dict.fromkeys(("x-mac-roman", "x-mac"), "mac-roman"),
    **dict.fromkeys(("x-mac-ce", "x-mac-centraleurroman"), "mac-latin2"),
    **dict.fromkeys(("x-mac-cyrillic", "x-mac-ukrainian"), "mac-cyrillic"),
    "x-mac-icelandic": "mac-iceland",
    "windows-874": "cp874",
    "koi8-ru": "koi8-u",
}
# Charsets whose superset mail clients actually write (WHATWG Encoding Standard): Latin-1 and
# ASCII labels mean Windows-1252, ISO-8859-9 Windows-1254, GB2312 and GBK GB18030, EUC-KR and
# KS C 5601 Windows-949, Shift_JIS Windows-31J, TIS-620 Windows-874. Keyed by Python's codec
# name, so every spelling Python knows ("korean", "ks_c_5601-1987", "csbig5") is covered.
_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
    "tis-620": "cp874",
    "iso8859-11": "cp874",
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
    label = _LABELS.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        # "x-" marks a label as unofficial, not a different charset: "x-cp1251", "x-euc-tw".
        if not label.startswith("x-"):
            return None
        try:
            info = codecs.lookup(label[2:])
        except (LookupError, ValueError):
            return None
    # codecs.lookup also knows bytes-to-bytes codecs such as "zlib" and "base64".
    if not getattr(info, "_is_text_encoding", True):
        return None
    return _SUPERSETS.get(info.name, info.name)


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 text with a few bad sequences (truncation, a stray byte), else None."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return text if bad * 10 <= non_ascii else None


# The message whose declared charsets (`declared_charsets`) decode 8-bit bytes found where no
# charset is stated; None for none. Passed rather than the charsets themselves: most mail
# never needs them, and the walk over the parts is done on first need only.
Source: TypeAlias = "Message[Any, Any] | None"


@functools.lru_cache(maxsize=256)
def _guesses(declared: tuple[str, ...]) -> tuple[str, ...]:
    """The codecs worth trying on unlabelled bytes, from a message's declared charsets.

    Windows-1252 (what Latin-1 and ASCII labels mean) is left to the end: it decodes nearly
    any bytes, so a body declared ISO-8859-1 in one part must not hide the GB2312 of another.
    Codecs in which ASCII is not ASCII (UTF-16, ISO-2022) cannot have written a header."""
    found: list[str] = []
    for label in declared:
        codec = _codec(label)
        if codec and codec != "cp1252" and not codec.startswith(_NOT_ASCII_SAFE):
            found.append(codec)
    return tuple(dict.fromkeys(found))


def _decode_unlabelled(data: bytes, source: Source) -> str:
    """Bytes that carry no charset of their own: raw 8-bit header bytes, encoded words in an
    unknown charset, bodies without a declaration.

    Strict UTF-8 first: RFC 6532 mailers write UTF-8 headers whatever their body says, and
    legacy text almost never forms valid UTF-8 by accident (its multi-byte sequences need
    exact lead/continuation pairs), whereas a single-byte declared charset such as
    Windows-1254 would "decode" UTF-8 into mojibake without an error. Then the charsets the
    message declares, in order: a mailer that writes 8-bit headers writes them in the charset
    it writes the text in (EUC-KR, GB2312, Big5...). Windows-1252 last, as before."""
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for codec in _guesses(declared_charsets(source)):
        if codec == "utf-8":  # declared UTF-8 with a stray bad byte is still UTF-8
            if (text := _mostly_utf8(data)) is not None:
                return text
            continue
        try:
            return data.decode(codec)
        except (UnicodeError, LookupError, ValueError):
            continue
    return data.decode("cp1252", "replace")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes as text, trusting the declared charset only as far as the bytes agree with it."""
    codec = _codec(charset)
    if data.isascii() and (codec is None or not codec.startswith(_NOT_ASCII_SAFE)):
        return data.decode("ascii")
    if codec is None or codec == "cp1252":
        # Undeclared, or declared as Latin-1/ASCII: valid UTF-8 is far more likely to be UTF-8
        # mislabelled than Windows-1252 that happens to form valid UTF-8 sequences.
        return _decode_unlabelled(data, None)
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


def header_text(value: str, source: Source = None) -> str:
    """A raw header value as text: unfolded, 8-bit bytes decoded (UTF-8, else the charsets
    the `source` message declares, else Windows-1252)."""
    if "\n" in value or "\r" in value:
        value = _FOLD_RE.sub("", value).replace("\r", "").replace("\n", "")
    if not value.isascii():
        # The parser keeps undecoded 8-bit header bytes as surrogate escapes.
        try:
            raw = value.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:
            return clean(value)
        value = _decode_unlabelled(raw, source)
    return value


_MAX_CHARSET_PARTS = 100


# Per process, and gone with the message: a message with several 8-bit headers is walked once.
_DECLARED: weakref.WeakKeyDictionary[Message[Any, Any], tuple[str, ...]] = (
    weakref.WeakKeyDictionary()
)


def declared_charsets(msg: Source) -> tuple[str, ...]:
    """The charsets `msg` declares for itself and its text parts, in order."""
    if msg is None:
        return ()
    found = _DECLARED.get(msg)
    if found is None:
        found = _DECLARED[msg] = _walk_charsets(msg)
    return found


def _walk_charsets(msg: Message[Any, Any]) -> tuple[str, ...]:
    labels: list[str] = []
    stack = [msg]
    seen = 0
    # A Content-Type the policy cannot read ends the walk: the charsets found so far still help.
    with contextlib.suppress(Exception):
        # Without recursion and with a bound: a hostile message may nest thousands of levels.
        while stack and seen < _MAX_CHARSET_PARTS:
            part = stack.pop()
            seen += 1
            # The memoised header object, not get_param(), which parses the value again.
            header = part.get("content-type")
            maintype = str(getattr(header, "maintype", "text"))
            params = getattr(header, "params", None) or {}
            if (maintype == "text" or maintype == "multipart") and params.get("charset"):
                labels.append(str(params["charset"]))
            payload = part.get_payload() if maintype == "multipart" else None
            if isinstance(payload, list):
                # Embedded messages (message/*) are left out: their charsets are their own.
                stack.extend(p for p in reversed(payload) if isinstance(p, Message))
    return tuple(labels)


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


def _decode_run(match: re.Match[str], source: Source) -> str:
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
    return "".join(
        decode_bytes(bytes(data), label)
        if _codec(label)
        else _decode_unlabelled(bytes(data), source)  # "unknown-8bit", "x-unknown"
        for label, data in chunks
    )


def decode_words(value: str, source: Source = None) -> str:
    """Decode RFC 2047 encoded words, with our charset fallbacks."""
    if "=?" not in value:
        return value
    decoded = _ENCODED_RUN_RE.sub(lambda match: _decode_run(match, source), value)
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


def _fast_addresses(value: str, source: Source) -> list[Address] | None:
    result: list[Address] = []
    position = 0
    while position < len(value):
        match = _MAILBOX_RE.match(value, position)
        if match is None:
            return None
        if match["bare"]:
            # `a@b (Name)`: the old way of naming the sender, still written by some mailers.
            comment = match["comment"] or ""
            result.append(Address(decode_words(comment, source).strip(), match["bare"]))
        else:
            name = match["quoted"] if match["quoted"] is not None else match["name"]
            result.append(Address(decode_words(name.strip(), source).strip(), match["angle"]))
        position = match.end()
    return result


def _addresses(name: str, raw: str | None, source: Source) -> list[Address]:
    if raw is None:
        return []
    value = clean(header_text(raw, source))
    if not value.strip():
        return []
    fast = _fast_addresses(value, source)
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
        return [Address(clean(decode_words(n, source).strip()), a.strip()) for n, a in pairs]
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


def _text_header(raw: str | None, source: Source = None) -> str:
    if raw is None:
        return ""
    return " ".join(clean(decode_words(header_text(raw, source), source)).split())


def _list_id(raw: str | None) -> str | None:
    value = _text_header(raw)
    inner = _MSG_ID_RE.search(value)
    return (inner.group(1).strip() if inner else value) or None


# What an unsubscribe click may open. Anything else (javascript:, data:, file:, a custom app
# scheme) is an attack on whoever renders the link, never a way to leave a list.
_UNSUBSCRIBE_SCHEMES = ("mailto:", "https:", "http:")
_BRACKETED_RE = re.compile(r"<([^<>]*)>")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# Printable ASCII but "<" and ">": nothing to unfold, decode or clean.
_SAFE_TARGET = r"<(?i:mailto|https?):[!-;=?-~]+>"
# The form nearly every sender writes, and the one returned: kept as is, without the slow path.
_SAFE_UNSUBSCRIBE_RE = re.compile(rf"{_SAFE_TARGET}(?:, {_SAFE_TARGET})*")


def safe_list_unsubscribe(value: str | None) -> str | None:
    """A List-Unsubscribe value (RFC 2369) reduced to its mailto:, https: and http: targets,
    as `<uri>, <uri>`; None when none is left.

    Also applied when stored values are read, so rows parsed before this filter existed are
    served filtered too."""
    if not value:
        return None
    if _SAFE_UNSUBSCRIBE_RE.fullmatch(value):
        return value
    # RFC 2369 brackets each target; some senders leave them out ("mailto:x@y, https://...").
    uris = _BRACKETED_RE.findall(value) if "<" in value else value.split(",")
    kept: list[str] = []
    for uri in uris:
        # Whitespace inside the brackets is folding, to be ignored (RFC 2369 section 2).
        target = "".join(uri.split())
        scheme, colon, rest = target.partition(":")
        if (
            colon
            and rest
            and f"{scheme.lower()}:" in _UNSUBSCRIBE_SCHEMES
            and not _CONTROL_RE.search(target)
        ):
            kept.append(f"<{target}>")
    return ", ".join(kept) or None


def _list_unsubscribe(raw: str | None) -> str | None:
    if raw is None:
        return None
    if _SAFE_UNSUBSCRIBE_RE.fullmatch(raw):
        return raw  # the usual form, which decoding would leave as it is
    return safe_list_unsubscribe(_text_header(raw))


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
    precedence: str | None = None  # lower case
    auto_submitted: str | None = None  # lower case, parameters kept ("auto-generated; x=y")


def _lowered(raw: str | None) -> str | None:
    return _text_header(raw).lower() or None


def parse_headers(msg: Message[Any, Any]) -> Headers:
    """The stored top-level headers; 8-bit bytes in them decoded with `msg`'s charsets."""
    raw: dict[str, str] = {}
    for name, value in msg.raw_items():
        raw.setdefault(name.lower(), value)  # the first occurrence counts
    senders = _addresses("from", raw.get("from"), msg) or _addresses(
        "sender", raw.get("sender"), msg
    )
    in_reply_to = _msg_ids(raw.get("in-reply-to"))
    return Headers(
        message_id=normalize_message_id(raw.get("message-id")),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=_msg_ids(raw.get("references")),
        subject=_text_header(raw.get("subject"), msg),
        from_=senders[0] if senders else None,
        to=_addresses("to", raw.get("to"), msg),
        cc=_addresses("cc", raw.get("cc"), msg),
        bcc=_addresses("bcc", raw.get("bcc"), msg),
        reply_to=_addresses("reply-to", raw.get("reply-to"), msg),
        sent_at=parse_date(raw.get("date")),
        list_id=_list_id(raw.get("list-id")),
        list_unsubscribe=_list_unsubscribe(raw.get("list-unsubscribe")),
        precedence=_lowered(raw.get("precedence")),
        auto_submitted=_lowered(raw.get("auto-submitted")),
    )
