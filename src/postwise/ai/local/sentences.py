"""Shared text plumbing for the local tasks: what part of a body is the message (greetings,
pleasantries, newsletter boilerplate and the sign-off are not), and where its sentences are.

Hand-written rather than a library: the sentence splitters worth having (nltk's punkt, pysbd,
spaCy) are not installed, punkt needs a data download, and mail needs mail-specific rules anyway
(a "Hi Dana," line, bullets, hard-wrapped lines, "View in browser"). Every pattern is anchored or
bounded, so the cost stays linear in the text; triage runs this for every message.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_TEXT",
    "content_lines",
    "drop_filler_prefix",
    "greeting_clause",
    "greeting_name",
    "is_boilerplate",
    "is_greeting_line",
    "is_pleasantry",
    "is_sign_off",
    "sentences",
    "split_sentences",
    "words",
]

# Only the start of a long body is read: the point of a message is near its top, and a bound on
# the input bounds the cost of every task.
MAX_TEXT = 6000

_GREETING_WORDS = (
    r"hi|hello|hey|heya|hiya|howdy|dear|greetings|good\s+(?:morning|afternoon|evening|day)"
    r"|morning|afternoon|evening|hallo|bonjour|hola|ciao|yo"
)
# "Hi Dana," / "Dear Mr. Smith," / "Hello team!" alone on a line, or at the head of one.
_GREETING_RE = re.compile(
    rf"^\s{{0,8}}(?:{_GREETING_WORDS})\b"
    r"(?P<rest>(?:\s{1,4}(?:mr|mrs|ms|dr|prof)\.)?[^\n,!:.;?]{0,40}?)\s{0,4}(?:[,!:;.]+|$)",
    re.IGNORECASE,
)
# A bare "Dana," or "Team," opening line.
_NAME_ONLY_GREETING_RE = re.compile(r"^\s{0,8}[A-Z][\w'.-]{0,30}(?: [A-Z][\w'.-]{0,30}){0,2},\s*$")
_NOT_NAMES = frozenset(
    {"yes", "no", "sure", "ok", "okay", "agreed", "absolutely", "right", "well", "so", "also"}
    | {"sorry", "thanks", "great", "perfect", "done", "update", "hmm", "oh", "ah", "indeed"}
    | {"correct", "exactly", "understood", "noted", "fine", "however", "btw", "ps", "p.s."}
)
_HONORIFIC_RE = re.compile(r"^(?:mr|mrs|ms|miss|dr|prof|sir|madam|mx)\.?$", re.IGNORECASE)
_GROUP_NAMES = frozenset(
    {"all", "team", "everyone", "everybody", "folks", "guys", "there", "y'all", "both", "again"}
    | {"you", "friend", "friends", "sir", "madam", "colleagues", "customer", "valued", "world"}
)

_SIGN_OFF_RE = re.compile(
    r"^\s{0,8}(?:best(?:\s+regards|\s+wishes)?|kind(?:est)?\s+regards|warm(?:est)?\s+regards"
    r"|warmly|regards|many\s+thanks|thanks(?:\s+again|\s+so\s+much|\s+a\s+lot|\s+all)?|thx|ta"
    r"|thank\s+you(?:\s+so\s+much|\s+again)?|cheers|sincerely(?:\s+yours)?|yours(?:\s+truly"
    r"|\s+sincerely|\s+faithfully)?|all\s+the\s+best|talk\s+(?:soon|later)|speak\s+soon"
    r"|take\s+care|br|rgds|with\s+thanks|love|xx+|best,?\s+\w{1,20}|respectfully"
    r"|have\s+a\s+(?:great|good|nice|lovely)\s+(?:day|weekend|week|evening)"
    r"|(?:thanks|thank\s+you)\s+(?:(?:so|very)\s+much\s+)?for\s+your\s+(?:cooperation|help"
    r"|understanding|patience|time|attention|support|business))[ \t]{0,4}[,.!]*"
    r"[ \t]*$",
    re.IGNORECASE,
)

_BOILERPLATE_RE = re.compile(
    r"(?:view|read|open)\s+(?:this\s+(?:e-?mail|message|newsletter)\s+)?(?:in|on)\s+(?:your\s+)?"
    r"(?:browser|web|app)|view\s+(?:it\s+)?online|web\s+version|having\s+trouble\s+viewing"
    r"|(?:can't|cannot|can\s+not)\s+see\s+(?:this|the)|unsubscribe|opt[\s-]out"
    r"|(?:manage|update|change)\s+(?:your\s+)?(?:e-?mail\s+)?(?:preferences|subscription)"
    r"|you\s+(?:are\s+receiving|received)\s+this|this\s+(?:e-?mail|message)\s+was\s+sent\s+to"
    r"|forward\s+to\s+a\s+friend|add\s+us\s+to\s+your\s+address\s+book|privacy\s+policy"
    r"|all\s+rights\s+reserved|©|\(c\)\s+\d{4}|caution:\s+this\s+e-?mail\s+originated"
    r"|^\s*+\[?external\]?\s*+(?:e-?mail|sender)?\s*+:?\s*+$|^\s*\[(?:image|cid)[^\]]{0,200}\]\s*$"
    r"|click\s+here\s+to\s+(?:view|unsubscribe)|powered\s+by\s+\w+"
    r"|^\s*(?:sent|envoy[ée])\s+(?:from|de)\s+my\s|reply\s+to\s+this\s+e-?mail\s+directly"
    r"|view\s+it\s+on\s+github|^\s*(?:view|open|see)\s+(?:comment|report|message|details|online)"
    r"\s*$",
    re.IGNORECASE,
)
_NO_LETTERS_RE = re.compile(r"^[^A-Za-z\u00c0-\uffff]*$")

# Sentences that are courtesy, not content.
_PLEASANTRY_RE = re.compile(
    r"^\s*(?:i\s+|we\s+)?(?:hope|trust)\s+(?:you|this|all|everything|everyone|everybody|your"
    r"|that\s+you|things|the\s+(?:week|weekend|holidays?|trip)|y'all)\b"
    r"|^\s*(?:how\s+are\s+you|how(?:'s|\s+is)\s+(?:it\s+going|everything|your\s+week)"
    r"|how\s+have\s+you\s+been)\b"
    r"|^\s*(?:thanks|thank\s+you|many\s+thanks)(?:\s+(?:so\s+much|again|very\s+much))?"
    r"(?:\s+for\s+(?:your|the|getting\s+back|reaching\s+out|the\s+quick)\s*"
    r"(?:quick\s+|prompt\s+|kind\s+)?(?:e-?mail|message|note|reply|response|time|patience"
    r"|help|update|getting\s+back|reaching\s+out|enquiry|inquiry|interest|order|purchase"
    r"|feedback|question|questions)?)?\s*+[.!]*+\s*+$"
    r"|^\s*(?:happy\s+(?:monday|tuesday|wednesday|thursday|friday|weekend|new\s+year))\b"
    r"|^\s*(?:looking\s+forward\s+to\s+(?:hearing|your|seeing|speaking|it))"
    r"|^\s*(?:let\s+me\s+know\s+if\s+you\s+have\s+any\s+(?:questions|concerns))"
    r"|^\s*(?:please\s+)?(?:feel\s+free\s+to|don't\s+hesitate\s+to)\s+(?:reach|contact|get)"
    r"|^\s*(?:good\s+to\s+hear\s+from\s+you|nice\s+to\s+meet\s+you|long\s+time\s+no\s+see)",
    re.IGNORECASE,
)
# Openings that carry no information: "I wanted to let you know that the launch moved" says
# what "the launch moved" says.
_FILLER_PREFIX_RE = re.compile(
    r"^\s*(?:(?:i\s+)?just\s+)?(?:(?:i\s+)?(?:just\s+)?(?:wanted|want|am\s+writing|'m\s+writing"
    r"|i'm\s+writing|writing)\s+to\s+(?:let\s+you\s+know|inform\s+you|tell\s+you|say|share)"
    r"|(?:a\s+)?quick\s+(?:note|heads[\s-]up|reminder)\s+(?:to\s+(?:say|let\s+you\s+know))?"
    r"|fyi|heads[\s-]up|please\s+note|(?:please\s+)?be\s+advised)(?:\s+that)?(?:\s*+[:,-])?\s+"
    r"|^\s*(?:(?:some\s+)?(?:good|great|exciting|big)\s+news|one\s+(?:more\s+)?thing"
    r"|quick\s+(?:question|update|one))\s*+[:,!-]++\s+"
    r"|^\s*(?:this\s+is\s+|just\s+)?(?:a\s+|an\s+)?(?:quick\s+|friendly\s+|gentle\s+)?"
    r"(?:reminder|note)(?:\s+(?:that|to|of|about))?(?:\s*+[:,-])?\s+",
    re.IGNORECASE,
)

_BULLET_RE = re.compile(r"^\s{0,8}(?:[-*•·▪‣◦>]|\d{1,2}[.)]|[a-z][.)])\s+")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "inc", "ltd"}
    | {"co", "corp", "no", "approx", "dept", "est", "fig", "jan", "feb", "mar", "apr", "jun"}
    | {"jul", "aug", "sep", "sept", "oct", "nov", "dec", "a.m", "p.m", "u.s", "mt", "ph.d", "cf"}
)
# A candidate boundary: end punctuation, optional closing quotes, space, then a likely start.
# Casual mail skips capitals after "?" and "!" ("can I borrow it? mine's broken"), not after ".".
_BOUNDARY_RE = re.compile(
    r"([.!?…]{1,6})[\"'\u201d\u2019)\]]{0,3}\s{1,40}(?=[\"'\u201c\u2018(\[]?[A-Z0-9\u00c0-\u024f])"
    r"|([!?]{1,6})[\"'\u201d\u2019)\]]{0,3}\s{1,40}(?=[a-z])"
)
_LAST_WORD_RE = re.compile(r"([\w.]+)$")
_WORD_RE = re.compile(r"[A-Za-z0-9\u00c0-\u024f][\w'\u2019-]*")
_SPACES_RE = re.compile(r"\s+")


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def _only_links(line: str) -> bool:
    # Checked per token, not with a repeated regex group, which backtracks exponentially on a
    # long run of "http://http://...".
    tokens = line.split()
    return bool(tokens) and all(t.lstrip("<(").lower().startswith(_LINK_STARTS) for t in tokens)


_LINK_STARTS = ("http://", "https://", "www.", "mailto:")


def is_boilerplate(line: str) -> bool:
    return bool(_NO_LETTERS_RE.match(line) or _only_links(line) or _BOILERPLATE_RE.search(line))


def is_sign_off(line: str) -> bool:
    return len(line) <= 40 and bool(_SIGN_OFF_RE.match(line))


def is_pleasantry(sentence: str) -> bool:
    return bool(_PLEASANTRY_RE.match(sentence))


def greeting_name(line: str) -> str | None:
    """The name a greeting line addresses ("" for "Hello," or "Hi all,"), None if not a greeting.

    Only the first clause counts, so "Hi Dana, the report is attached." gives "Dana"."""
    match = _GREETING_RE.match(line)
    if match is None:
        if _NAME_ONLY_GREETING_RE.match(line) and len(line.strip()) <= 30:
            token = line.strip().rstrip(",").split()[-1]
            if token.lower() in _NOT_NAMES:
                return None  # "Yes," opens an answer
            return "" if token.lower() in _GROUP_NAMES else token
        return None
    rest = [w for w in match.group("rest").split() if not _HONORIFIC_RE.match(w)]
    if len(rest) > 3:
        return None  # "Hey, what happened to the build" is a sentence, not a greeting
    if not rest or rest[0].lower() in _GROUP_NAMES:
        return ""
    if not rest[0][:1].isupper():
        # "Hey makers!" greets; "Morning standup moved." and "Hello world program" do not.
        ending = line[match.end() - 1 : match.end()]
        return "" if len(rest) <= 2 and ending in (",", "!") else None
    return rest[0].strip("'\"")


def greeting_clause(line: str) -> str | None:
    """The greeting at the head of `line` ("Dear Mr. Smith," of "Dear Mr. Smith, thanks..."),
    None if the line does not open with one."""
    if greeting_name(line) is None:
        return None
    match = _GREETING_RE.match(line)
    return (line[: match.end()] if match else line).strip()


def is_greeting_line(line: str) -> bool:
    return greeting_name(line) is not None


# "Thanks Alex, got your comments.": thanks as the opening of a reply, not its content.
_THANKS_OPENING_RE = re.compile(
    r"^\s{0,8}(?i:thanks|thank\s+you|many\s+thanks)(?i:\s+(?:so\s+much|again))?"
    r"(?:\s+[A-Z][\w'-]{0,30})?\s{0,4}[,!.]+\s*"
)


def _strip_greeting(line: str) -> str:
    """The line without its leading greeting ("Hi Dana, the report..." -> "the report...")."""
    if greeting_name(line) is None:
        thanks = _THANKS_OPENING_RE.match(line)
        return line[thanks.end() :] if thanks and thanks.end() < len(line) else line
    match = _GREETING_RE.match(line)
    return line[match.end() :].strip() if match else ""


def _sign_off_start(lines: list[str]) -> int | None:
    """Index of the sign-off line ("Thanks,", "Best regards,", a bare "--") when only short
    lines (a name, a title, a phone number) follow it; None when the message does not end so."""
    seen = 0
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index].strip()
        if not line:
            continue
        seen += 1
        if seen > 8:
            return None
        if is_sign_off(line) or line in ("--", "\u2014", "__"):
            return index
        if len(line.split()) > 6 and "|" not in line and "@" not in line:
            return None
    return None


def _is_name_line(line: str) -> bool:
    """A closing line that only names someone: "Linda Park", "R.", "The Notion Team",
    "Procurement Manager | Fabrikam Ltd"."""
    tokens = line.split()
    if not tokens or len(tokens) > 6 or line.rstrip()[-1:] in "!?:;,":
        return False
    if line.rstrip().endswith(".") and not (len(tokens) == 1 and len(tokens[0]) <= 3):
        return False
    return all(t[:1].isupper() or t in _NAME_JOINERS for t in tokens)


_NAME_JOINERS = frozenset(
    {"&", "|", "-", "\u2013", "of", "and", "at", "de", "van", "von", "der", "la"}
)
_FORWARD_MARKER_RE = re.compile(
    r"^\s*(?:-{3,}\s*(?:forwarded|original)\s+message|begin\s+forwarded\s+message)",
    re.IGNORECASE,
)


def content_lines(text: str) -> list[str]:
    """The lines that carry the message: no greeting, no boilerplate, no sign-off and below,
    nothing from a forwarded message."""
    lines = text[:MAX_TEXT].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, line in enumerate(lines):
        if _FORWARD_MARKER_RE.match(line):
            lines = lines[:index]
            break
    cut = _sign_off_start(lines)
    if cut is not None:
        lines = lines[:cut]
    out: list[str] = []
    for line in lines:
        if not line.strip():
            out.append("")
            continue
        if is_boilerplate(line):
            continue
        if not any(out):
            line = _strip_greeting(line)
            if not line:
                continue
        out.append(line.rstrip())
    while out and not out[-1]:
        out.pop()
    # A bare name (and a title) closing the message, two lines at most.
    for _ in range(2):
        if len(out) > 1 and _is_name_line(out[-1]) and (not out[-2] or _is_name_line(out[-2])):
            out.pop()
            while out and not out[-1]:
                out.pop()
        elif len(out) > 1 and _is_name_line(out[-1]) and len(out[-1].split()) <= 3:
            out.pop()
    return out


def _blocks(lines: list[str]) -> list[str]:
    """Join hard-wrapped lines into blocks; blank lines, bullets and short unpunctuated lines
    (headings, list items without a marker) end a block."""
    blocks: list[str] = []
    current: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            if current:
                blocks.append(" ".join(current))
                current = []
            continue
        bullet = _BULLET_RE.match(line)
        if bullet and current:
            blocks.append(" ".join(current))
            current = []
        current.append(line[bullet.end() :].strip() if bullet else stripped)
        # Wrapped prose fills its lines; a short line is a paragraph end, a heading or an item.
        if len(stripped) < 50 and stripped[-1:] not in ",;-(":
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    return blocks


def split_sentences(block: str) -> list[str]:
    """Sentences of one block of prose, keeping "Dr. Smith", "e.g. this" and "3.5" together."""
    block = _SPACES_RE.sub(" ", block).strip()
    out: list[str] = []
    start = 0
    for match in _BOUNDARY_RE.finditer(block):
        if match.group(1) and match.group(1) == ".":
            # Only the few characters before the stop: the token there is all that matters.
            last = _LAST_WORD_RE.search(block, max(start, match.start() - 12), match.start())
            token = last.group(1).lower().rstrip(".") if last else ""
            if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                continue
        piece = block[start : match.end()].strip()
        if piece:
            out.append(piece)
        start = match.end()
    tail = block[start:].strip()
    if tail:
        out.append(tail)
    return out


def sentences(text: str) -> list[str]:
    """Every sentence of the message's own content, in order (see `content_lines`)."""
    out: list[str] = []
    for block in _blocks(content_lines(text)):
        out.extend(split_sentences(block))
    return out


def drop_filler_prefix(sentence: str) -> str:
    """The sentence without an empty opening ("Just a quick reminder that ...")."""
    match = _FILLER_PREFIX_RE.match(sentence)
    if match is None or match.end() >= len(sentence) - 3:
        return sentence
    rest = sentence[match.end() :]
    return rest[:1].upper() + rest[1:]
