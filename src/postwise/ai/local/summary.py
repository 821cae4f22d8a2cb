"""Extractive summaries on the local provider: a one-line summary of a message (triage runs it
for every message, so it is regex work only) and a thread summary with key points, open
questions and action items.

The one-liner picks the message's first sentence of substance (greetings, pleasantries,
boilerplate, headings and the sign-off skipped), drops empty openings ("I wanted to let you know
that"), and trims it at a clause boundary: a reference one-liner is about a dozen words, so a
longer candidate loses more precision than it gains recall.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from postwise.ai.local import actions
from postwise.ai.local.sentences import (
    drop_filler_prefix,
    greeting_name,
    is_boilerplate,
    is_pleasantry,
    sentences,
    words,
)
from postwise.ai.mailview import MailView
from postwise.ai.results import ActionItem, ThreadSummary

__all__ = ["baseline", "one_line", "thread_summary"]

MAX_WORDS = 20  # the hard cap for a one-liner
_SOFT_WORDS = 15  # past this, cut at a clause boundary when there is one
_MIN_CLAUSE_WORDS = 7  # ... but never leave fewer words than this
_SHORT_WORDS = 6  # a sentence this short may take the next one along

_SUBJECT_PREFIX_RE = re.compile(
    r"^\s*+(?:(?:re|fw|fwd|aw|wg|tr|sv|vs|antw|rif|r)\s*+(?:\[\d+\])?\s*+:\s*+|\[[^\]]{1,40}\]\s*+)+",
    re.IGNORECASE,
)
_URL_RE = re.compile(r"<?\b(?:https?://|www\.)\S+>?", re.IGNORECASE)
_SPACES_RE = re.compile(r"\s+")
# Sentences that announce rather than say: "Quick question.", "Good news!", "Design sync".
_WEAK_RE = re.compile(
    r"^(?:\W*(?:good|great|bad|exciting)\s+news|quick\s+(?:question|update|one|note)"
    r"|congratulations|congrats|update|reminder|important|hello|hi|hey|welcome|ok|okay"
    r"|see\s+below|(?:please\s+)?see\s+(?:attached|below)|details\s+below)\b",
    re.IGNORECASE,
)
# Words a trimmed line must not end on: they promise a continuation that was cut.
_DANGLING = frozenset(
    {"a", "an", "the", "to", "of", "for", "with", "in", "on", "at", "by", "from", "into", "and"}
    | {"or", "but", "so", "that", "which", "who", "whose", "is", "are", "was", "were", "be"}
    | {"will", "would", "can", "could", "should", "has", "have", "had", "do", "does", "my", "your"}
    | {"our", "their", "his", "her", "its", "this", "these", "those", "as", "than", "if", "when"}
    | {"while", "because", "about", "over", "under", "after", "before", "via", "per", "we", "i"}
    | {"you", "they", "it", "not", "also", "just", "very", "more", "most", "such", "both", "all"}
)
# Where a long sentence may be cut without leaving a fragment (the cut goes before the match).
_CLAUSE_RE = re.compile(
    r"(?:[,;:]\s|\s[-\u2013\u2014]\s|\s\((?!\S{1,3}\))|\s(?:and|but|which|while|so|because|as|since"
    r"|although|though|whereas|unless|rather\s+than|including|otherwise)\s)",
    re.IGNORECASE,
)


def clean_subject(subject: str) -> str:
    return _SUBJECT_PREFIX_RE.sub("", subject or "").strip()


def _is_weak(sentence: str) -> bool:
    """An announcement or a heading ("Good news!", "THE MORNING BYTE"), not the point."""
    tokens = words(sentence)
    if len(tokens) < 3 or (len(tokens) < 5 and _WEAK_RE.match(sentence)):
        return True
    letters = [c for c in sentence if c.isalpha()]
    return len(tokens) < 8 and len(letters) > 3 and all(c.isupper() for c in letters)


_DATE_COMMA_BEFORE_RE = re.compile(
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day$|\d$", re.IGNORECASE
)
_DATE_COMMA_AFTER_RE = re.compile(
    r"\s*(?:\d|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b)", re.IGNORECASE
)


def _inside_date(text: str, match: re.Match[str]) -> bool:
    """A comma in "Thursday, November 28" or "November 28, 2024" is no clause boundary."""
    if "," not in match.group(0):
        return False
    return bool(
        _DATE_COMMA_BEFORE_RE.search(text, max(0, match.start() - 12), match.start())
        and _DATE_COMMA_AFTER_RE.match(text, match.end() - 1)
    )


def _trim(text: str, *, keep: int = _MIN_CLAUSE_WORDS) -> str:
    """At most MAX_WORDS words, cut at a clause boundary (after `keep` words at least) past
    _SOFT_WORDS, never ending on a word that needs a continuation."""
    text = _SPACES_RE.sub(" ", _URL_RE.sub("", text)).strip()
    tokens = text.split(" ")
    if len(tokens) > _SOFT_WORDS:
        best = None
        for match in _CLAUSE_RE.finditer(text):
            kept = len(text[: match.start()].split())
            if kept > _SOFT_WORDS:
                break
            if kept >= keep and not _inside_date(text, match):
                best = match.start()
        if best is not None:
            text = text[:best].rstrip()
            tokens = text.split(" ")
    if len(tokens) > MAX_WORDS:
        tokens = tokens[:_SOFT_WORDS]
    while len(tokens) > 1 and tokens[-1].lower().strip(",;:-\u2013\u2014(\"'") in _DANGLING:
        tokens.pop()
    return " ".join(tokens).rstrip(",;:-\u2013\u2014( ")


def _pick(candidates: list[str]) -> tuple[str, int]:
    """The first sentence of substance, with the next one when it is very short or a lead-in
    ("Here are the notes from the review:"); and how many words the trim must keep (the joined
    sentence is the point, so the cut may not fall at the join)."""
    for index, sentence in enumerate(candidates):
        if _is_weak(sentence):
            continue
        sentence = drop_filler_prefix(sentence)
        lead_in = sentence.rstrip().endswith(":")
        if (lead_in or len(words(sentence)) < _SHORT_WORDS) and index + 1 < len(candidates):
            keep = len(sentence.split()) + 3
            following = drop_filler_prefix(candidates[index + 1])
            return f"{sentence.rstrip(' .:')}: {following}", keep
        return sentence, _MIN_CLAUSE_WORDS
    return (candidates[0] if candidates else ""), _MIN_CLAUSE_WORDS


def _is_courtesy(sentence: str) -> bool:
    """A pleasantry, or a greeting met past the first line ("Project update #7 / Hi backers!")."""
    return is_pleasantry(sentence) or (len(sentence) < 40 and greeting_name(sentence) is not None)


def one_line(mail: MailView) -> str:
    """A one-line summary of what the message itself says (its body, else its subject)."""
    candidates = [s for s in sentences(mail.body) if not _is_courtesy(s)]
    picked, keep = _pick(candidates)
    line = _trim(picked, keep=keep)
    if len(words(line)) < 2 or is_boilerplate(line):
        line = _trim(clean_subject(mail.subject))
    return line[:1].upper() + line[1:]


def baseline(mail: MailView) -> str:
    """The target to beat: the body's first sentence cut to ten words (the eval compares)."""
    text = _SPACES_RE.sub(" ", mail.body).strip()
    match = re.search(r"[.!?](?:\s|$)", text)
    first = text[: match.end()] if match else text
    return " ".join(first.split()[:10])


# --- threads ----------------------------------------------------------------------------------

_MAX_POINTS = 8
_MAX_QUESTIONS = 8
_MAX_ACTIONS = 10
# A bare acknowledgement opens with one of these and says little more (see _adds_something).
_ACK_RE = re.compile(
    r"^\W{0,5}(?:thanks|thank\s+you|thx|ok|okay|sounds\s+good|great|perfect|noted|got\s+it"
    r"|will\s+do|\+1|agreed|sure|cool|nice|lgtm|looks\s+good|see\s+you|yes|no\s+problem"
    r"|makes\s+sense)\b",
    re.IGNORECASE,
)
_ACK_MAX_WORDS = 7


def _first_name(mail: MailView) -> str:
    name = mail.from_name.strip().strip("\"'")
    if name.count(",") == 1:  # "Smith, Dana"
        name = name.split(",", 1)[1].strip()
    tokens = name.split()
    if not tokens:
        return mail.from_address.split("@", 1)[0] or "Someone"
    if _HONORIFIC_RE.match(tokens[0]) and len(tokens) > 1:
        return f"{tokens[0]} {tokens[-1]}"  # "Ms. Alvarez"
    return tokens[0]


_HONORIFIC_RE = re.compile(r"^(?:mr|mrs|ms|miss|dr|prof|mx)\.?$", re.IGNORECASE)


def _adds_something(body_sentences: list[str]) -> bool:
    """False for a bare acknowledgement ("Thanks!", "Sounds good, see you then")."""
    text = " ".join(body_sentences)
    count = len(words(text))
    return count >= 4 and not (count <= _ACK_MAX_WORDS and _ACK_RE.match(text))


def _questions(per_mail: list[tuple[MailView, list[str]]]) -> list[str]:
    """Questions, the open ones first: a question counts as answered once someone else has
    written after it."""
    open_: list[str] = []
    answered: list[str] = []
    for index, (mail, body) in enumerate(per_mail):
        later = {m.from_address for m, _ in per_mail[index + 1 :]}
        replied = bool(later - {mail.from_address})
        for sentence in body:
            if sentence.endswith("?") and len(words(sentence)) >= 3:
                target = answered if replied else open_
                if sentence not in open_ and sentence not in answered:
                    target.append(sentence[:300])
    return (open_ + answered)[:_MAX_QUESTIONS]


def _pick_points(points: list[str]) -> list[str]:
    """At most _MAX_POINTS: the first message's point and the latest ones."""
    if len(points) <= _MAX_POINTS:
        return points
    return [points[0], *points[-(_MAX_POINTS - 1) :]]


def thread_summary(mails: Sequence[MailView], *, now: datetime) -> ThreadSummary:
    """Extractive summary of a thread (oldest first): what it is about, what each message adds,
    the questions still open and the action items, all from the messages' own text."""
    per_mail = [(mail, [s for s in sentences(mail.body) if not _is_courtesy(s)]) for mail in mails]
    points: list[str] = []
    lines: list[str] = []
    for mail, body in per_mail:
        if not _adds_something(body):
            continue
        line = one_line(mail)
        if line and line not in lines:
            lines.append(line)
            points.append(f"{_first_name(mail)}: {line}"[:300])
    if not lines and mails:
        lines.append(one_line(mails[-1]))
    summary = lines[0] if lines else ""
    if len(lines) > 1:
        summary = f"{summary.rstrip('.')}. Latest: {lines[-1]}"
    return ThreadSummary(
        summary=summary[:600],
        key_points=_pick_points(points),
        questions=_questions(per_mail),
        action_items=_thread_actions(mails, now=now),
    )


def _thread_actions(mails: Sequence[MailView], *, now: datetime) -> list[ActionItem]:
    """Requests of the whole thread, in order; past the limit the latest ones are kept."""
    per_mail: list[list[ActionItem]] = []
    seen: set[str] = set()
    kept = 0
    for mail in reversed(mails):
        fresh = []
        for item in actions.action_items(mail.body, now=now):
            if item.text not in seen and kept < _MAX_ACTIONS:
                seen.add(item.text)
                fresh.append(item)
                kept += 1
        per_mail.append(fresh)
    return [item for items in reversed(per_mail) for item in items]
