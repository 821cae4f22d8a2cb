"""A fast path to the same MIME tree the stdlib parser builds, for well-formed mail.

Why not just `BytesParser`: its feed parser pushes every line of every body through Python
(a 40 KB newsletter or a base64 attachment is hundreds of `readline` calls) and compiles a
regular expression for every multipart boundary it meets (the `re` cache is no help: boundaries
are unique). On a full initial sync that was more than half of all parsing CPU (bench/sync).

Here the stdlib still parses every header block (so headers, defaults and header defects are
exactly its own), but bodies are split with `bytes.find` on the boundary and kept whole. Only
mail whose structure is plain takes this path: anything the feed parser would treat specially
or record a defect for (bare CR line ends, a missing or repeated delimiter, no close delimiter,
an encoded multipart, message/* parts, multipart/digest, deep nesting, a header block with a
stray line) returns None, and the caller parses the whole message with the stdlib instead. A
test holds the two paths to the same parse results on every corpus we have.
"""

from __future__ import annotations

import itertools
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any

from postwise.mime.headers import POLICY

__all__ = ["split_message"]

_MAX_DEPTH = 20
_MAX_PARTS = 500
_PLAIN_ENCODINGS = frozenset({"7bit", "8bit", "binary"})
_HEADER_PARSER = BytesParser(policy=POLICY)


class _Unusual(Exception):
    """The structure needs the stdlib parser's full treatment."""


def split_message(raw: bytes) -> EmailMessage | None:
    """The parsed tree of `raw`, or None when only the stdlib parser may judge it."""
    if raw.count(b"\r") != raw.count(b"\r\n"):
        return None  # bare CRs end lines for the feed parser; find() would not see them
    try:
        budget = [_MAX_PARTS]
        msg = _part(raw, 0, budget)
    except _Unusual:
        return None
    return msg  # type: ignore[return-value]


def _head_and_body(data: bytes) -> tuple[bytes, bytes]:
    """Split at the first empty line; a part may start with it (no headers at all)."""
    if data.startswith(b"\r\n"):
        return b"", data[2:]
    if data.startswith(b"\n"):
        return b"", data[1:]
    crlf = data.find(b"\n\r\n")
    lf = data.find(b"\n\n")
    if crlf < 0 and lf < 0:
        return data, b""
    if lf < 0 or 0 <= crlf < lf:
        return data[: crlf + 1], data[crlf + 3 :]
    return data[: lf + 1], data[lf + 2 :]


def _part(data: bytes, depth: int, budget: list[int]) -> Message[Any, Any]:
    budget[0] -= 1
    if depth > _MAX_DEPTH or budget[0] < 0:
        raise _Unusual
    head, body = _head_and_body(data)
    msg = _HEADER_PARSER.parsebytes(head, headersonly=True)
    # A line that is not a header ends the header block for the feed parser: it lands in the
    # payload (with a defect), and the split above would have been wrong.
    if msg.defects or msg.get_payload():
        raise _Unusual
    maintype = msg.get_content_maintype()
    if maintype == "message":
        raise _Unusual  # embedded messages are parsed as messages, with their own rules
    if maintype != "multipart":
        msg.set_payload(body.decode("ascii", "surrogateescape"))
        return msg
    boundary = msg.get_boundary()
    encoding = str(msg.get("content-transfer-encoding", "8bit")).lower()
    if not boundary or msg.get_content_subtype() == "digest" or encoding not in _PLAIN_ENCODINGS:
        raise _Unusual
    preamble, pieces, epilogue = _split(body, ("--" + boundary).encode("ascii", "surrogateescape"))
    msg.set_payload([_part(piece, depth + 1, budget) for piece in pieces])
    msg.preamble = preamble
    msg.epilogue = epilogue
    return msg


def _delimiter_end(body: bytes, at: int, separator: bytes) -> tuple[int, bool] | None:
    """If a delimiter line starts at `at`: where its line ends (after the line end) and
    whether it closes. The feed parser's rule: the separator, an optional "--", blanks, then
    the end of the line or of the data."""
    end = at + len(separator)
    closing = body.startswith(b"--", end)
    if closing:
        end += 2
    while end < len(body) and body[end] in b" \t":
        end += 1
    if end == len(body):
        return end, closing
    if body.startswith(b"\r\n", end):
        return end + 2, closing
    if body[end] == 0x0A:
        return end + 1, closing
    return None


def _strip_line_end(data: bytes) -> bytes:
    # RFC 2046: the line end before a delimiter belongs to the delimiter.
    if data.endswith(b"\r\n"):
        return data[:-2]
    if data.endswith(b"\n"):
        return data[:-1]
    return data


def _split(body: bytes, separator: bytes) -> tuple[str | None, list[bytes], str]:
    """Preamble, part contents and epilogue of a multipart body."""
    delimiters: list[tuple[int, int, bool]] = []  # (line start, line end, closing)
    search_from = 0
    while True:
        if not delimiters and search_from == 0 and body.startswith(separator):
            at = 0
        else:
            found = body.find(b"\n" + separator, search_from)
            if found < 0:
                break
            at = found + 1
        search_from = at + len(separator)
        line = _delimiter_end(body, at, separator)
        if line is None:
            continue  # the separator followed by something else: not a delimiter
        delimiters.append((at, line[0], line[1]))
        if line[1]:
            break
    # No delimiter, no close delimiter, or a close delimiter first: defects in the feed
    # parser's eyes, and its recovery is the one to use.
    if len(delimiters) < 2 or not delimiters[-1][2] or delimiters[0][2]:
        raise _Unusual
    first = delimiters[0][0]
    preamble = _strip_line_end(body[:first]).decode("ascii", "surrogateescape") if first else None
    pieces = []
    for (_, start, _closing), (next_at, _, _) in itertools.pairwise(delimiters):
        if next_at == start:
            raise _Unusual  # two delimiters in a row: the feed parser skips the empty part
        pieces.append(_strip_line_end(body[start:next_at]))
    epilogue = body[delimiters[-1][1] :].decode("ascii", "surrogateescape")
    return preamble, pieces, epilogue
