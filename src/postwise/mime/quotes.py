"""Where quoted history and the signature start in a plain-text body.

The reader folds both away, and the snippet leaves them out, so a wrong answer hides what the
sender wrote. The rules therefore lean towards "not found":

- quoted text is only ever the *tail* of the message: history below a top-posted reply. A quote
  at the top with the answer below it (bottom posting), or quotes interleaved with answers, are
  the message itself and are not reported;
- the tail starts at a "-----Original Message-----" line, an Outlook header block ("From: ..."
  followed by "Sent:"/"To:"/"Subject:" lines, in the common languages), an attribution line
  ("On <date>, <name> wrote:" and its German, French, Spanish, Dutch and Italian forms) or a run
  of "> " lines that lasts to the end;
- the signature is the RFC 3676 "-- " line, or a mobile footer ("Sent from my iPhone") among the
  last lines before the quote. "--", "Thanks," and the like are not treated as signatures.

Everything is a per-line check or a regex anchored at a line start with bounded repetition, so
the cost is linear in the text length.
"""

from __future__ import annotations

import re

__all__ = ["find_quote_and_signature"]

# A line longer than this is prose, not an attribution or a header.
_MAX_MARKER_LINE = 400
# A "-- " delimiter followed by more than this many non-blank lines is not a signature.
_MAX_SIGNATURE_LINES = 40
# Mobile footers are looked for among this many non-blank lines at the end.
_FOOTER_WINDOW = 3

# Candidate lines for the markers that start quoted history. Only candidates are checked further.
_CANDIDATE_RE = re.compile(
    r"^[ \t]{0,8}(?:-{3,}|_{5,}|\*{0,2}(?:From|Von|De|Van|Da|Fra|Från|Od)[ \t\xa0]{0,2}\*{0,2}:"
    r"|(?:On|Am|Le|El|Op|Il)[ \t])",
    re.MULTILINE,
)
_ORIGINAL_MESSAGE_RE = re.compile(
    r"-{3,}[ \t]{0,4}(?:Original Message|Ursprüngliche Nachricht|Message d'origine"
    r"|Mensaje original|Oorspronkelijk bericht|Messaggio originale)[ \t]{0,4}-{3,}",
    re.IGNORECASE,
)
_FORWARD_RE = re.compile(
    r"(?:-{3,}[ \t]{0,4}(?:Forwarded message|Weitergeleitete Nachricht|Message transféré"
    r"|Mensaje reenviado|Doorgestuurd bericht|Messaggio inoltrato)|Begin forwarded message:)",
    re.IGNORECASE,
)
# Outlook reply headers: the "From" line and the keys that follow it, per language.
_FROM_KEYS = frozenset({"from", "von", "de", "van", "da", "fra", "från", "od"})
_DATE_KEYS = frozenset(
    {"sent", "date", "gesendet", "datum", "envoyé", "enviado", "enviado el", "fecha"}
    | {"verzonden", "inviato", "data", "skickat", "sendt"}
)
_OTHER_KEYS = frozenset(
    {"to", "cc", "subject", "an", "betreff", "à", "objet", "para", "asunto", "aan"}
    | {"onderwerp", "a", "oggetto", "till", "ämne", "til", "emne"}
)
# Attribution: (opening word, words that must follow, lower-cased). The line ends with ":".
_ATTRIBUTIONS = (
    ("on ", ("wrote",)),
    ("am ", ("schrieb",)),
    ("le ", ("a écrit",)),
    ("el ", ("escribió",)),
    ("op ", ("schreef",)),
    ("il ", ("ha scritto",)),
)
# Evidence that an attribution names a real message: an address, a time or a year.
_ATTRIBUTION_EVIDENCE_RE = re.compile(r"@|\d{1,2}[:.]\d{2}|\b(?:19|20)\d{2}\b")
_MOBILE_FOOTER_RE = re.compile(
    r"[ \t]{0,8}(?:Sent from my |Sent from (?:Mail|Outlook|Yahoo Mail|Proton ?Mail|Samsung)"
    r"|Get Outlook for (?:iOS|Android)|Von meinem \S{1,30}(?: \S{1,30}){0,3} gesendet"
    r"|Envoyé de mon |Enviado desde mi |Verstuurd vanaf mijn |Verzonden (?:met|vanaf) mijn "
    r"|Inviato da(?:l mio)? )",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITERS = ("-- ", "--\xa0")


def _is_attribution(line: str) -> bool:
    text = line.strip().replace("\xa0", " ")
    if len(text) > _MAX_MARKER_LINE or not text.endswith(":"):
        return False
    lowered = text.lower()
    return any(
        lowered.startswith(opening) and any(word in lowered for word in words)
        for opening, words in _ATTRIBUTIONS
    )


def _attribution_end(lines: list[str], index: int) -> int | None:
    """Last line of an attribution starting at `index` (clients wrap long ones once)."""
    if _is_attribution(lines[index]):
        return index
    if index + 1 < len(lines) and _is_attribution(lines[index] + " " + lines[index + 1]):
        return index + 1
    return None


def _header_key(line: str) -> str | None:
    key, colon, _ = line.partition(":")
    if not colon or len(key) > 20:
        return None
    return key.strip(" \t\xa0*").lower()


def _is_header_block(lines: list[str], index: int) -> bool:
    """An Outlook-style "From:" line followed by a date line and a To/Cc/Subject line."""
    if _header_key(lines[index]) not in _FROM_KEYS:
        return False
    keys = {_header_key(line) for line in lines[index + 1 : index + 6]}
    return bool(keys & _DATE_KEYS) and bool(keys & _OTHER_KEYS)


def _is_forward_separator(lines: list[str], index: int) -> bool:
    """Whether the nearest non-blank line above `index` introduces a forwarded message."""
    for line in reversed(lines[max(0, index - 3) : index]):
        if line.strip():
            return bool(_FORWARD_RE.match(line.strip()))
    return False


def _next_content(lines: list[str], index: int) -> str | None:
    for line in lines[index + 1 :]:
        if line.strip():
            return line
    return None


def _hard_marker(lines: list[str], text: str, starts: list[int]) -> int | None:
    """First line that starts quoted history everything below of which is old mail."""
    line_of = _LineIndex(starts)
    for match in _CANDIDATE_RE.finditer(text):
        index = line_of(match.start())
        line = lines[index]
        if len(line) > _MAX_MARKER_LINE:
            continue
        stripped = line.strip()
        if _ORIGINAL_MESSAGE_RE.fullmatch(stripped):
            return index
        if stripped.startswith("_") and stripped.strip("_") == "":
            nxt = _next_index(lines, index)
            if (
                nxt is not None
                and _is_header_block(lines, nxt)
                and not _is_forward_separator(lines, index)
            ):
                return index
            continue
        if _is_header_block(lines, index) and not _is_forward_separator(lines, index):
            return index
        end = _attribution_end(lines, index)
        if end is None:
            continue
        following = _next_content(lines, end)
        # Followed by "> " lines: the trailing-quote rule decides. Otherwise this is unprefixed
        # history below a top-posted reply, accepted only with a date, time or address in it.
        if following is not None and not following.lstrip().startswith(">"):
            attribution = " ".join(lines[index : end + 1])
            if _ATTRIBUTION_EVIDENCE_RE.search(attribution):
                return index
    return None


def _next_index(lines: list[str], index: int) -> int | None:
    for position in range(index + 1, min(len(lines), index + 4)):
        if lines[position].strip():
            return position
    return None


class _LineIndex:
    """Maps text offsets to line numbers, for offsets visited in increasing order."""

    __slots__ = ("line", "starts")

    def __init__(self, starts: list[int]) -> None:
        self.starts = starts
        self.line = 0

    def __call__(self, offset: int) -> int:
        while self.line + 1 < len(self.starts) and self.starts[self.line + 1] <= offset:
            self.line += 1
        return self.line


def _trailing_quote(lines: list[str], end: int) -> int | None:
    """Start of the run of "> " and blank lines that reaches `end`, with its attribution."""
    index = end
    first_quoted = None
    while index > 0:
        stripped = lines[index - 1].lstrip()
        if stripped.startswith(">"):
            first_quoted = index - 1
        elif stripped:
            break
        index -= 1
    if first_quoted is None:
        return None
    previous = _previous_content(lines, first_quoted)
    if previous is not None:
        if _is_attribution(lines[previous]):
            return previous
        if previous > 0 and _is_attribution(lines[previous - 1] + " " + lines[previous]):
            return previous - 1
    return first_quoted


def _previous_content(lines: list[str], index: int) -> int | None:
    for position in range(index - 1, max(-1, index - 4), -1):
        if lines[position].strip():
            return position
    return None


def _signature(lines: list[str], end: int) -> int | None:
    """Line where the signature starts, looking only above `end` (the quote, or the end)."""
    found = None
    content_seen = 0
    for index in range(end - 1, -1, -1):
        line = lines[index]
        if line.rstrip("\r") in _SIGNATURE_DELIMITERS:
            found = index
            break
        if not line.strip():
            continue
        content_seen += 1
        if content_seen <= _FOOTER_WINDOW and _MOBILE_FOOTER_RE.match(line):
            found = index
        if content_seen > _MAX_SIGNATURE_LINES:
            break
    return found


def find_quote_and_signature(text: str) -> tuple[int | None, int | None]:
    """Offsets in `text` where quoted history and the signature start (None when absent)."""
    if not text:
        return None, None
    lines = text.split("\n")
    starts = [0] * len(lines)
    offset = 0
    for index, line in enumerate(lines):
        starts[index] = offset
        offset += len(line) + 1
    hard = _hard_marker(lines, text, starts)
    end = hard if hard is not None else len(lines)
    quote = _trailing_quote(lines, end)
    if quote is None:
        quote = hard
    signature = _signature(lines, quote if quote is not None else len(lines))
    return (
        starts[quote] if quote is not None else None,
        starts[signature] if signature is not None else None,
    )
