"""Base subjects and the subject fallback of conversation threading.

`subject_key` is the JWZ / RFC 5256 base subject: reply and forward prefixes in the languages
mail clients actually emit, counters ("Re[2]:"), mailing-list tags ("[dev]") and "(fwd)"
trailers removed, whitespace collapsed, case folded.

`subject_links` decides which conversations join on subject alone (JWZ step 5). It is shared
by the in-memory JWZ threader and the database assignment so both give the same answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Generic, TypeVar

# A subject-only reply joins a conversation only if it is this close to one of its messages:
# "Re: Lunch?" should not glue together lunches months apart.
SUBJECT_WINDOW = timedelta(days=30)

# Compared after NFKC (which folds the full-width colon U+FF1A into ":") and case-insensitively.
# Single letters ("R:", "I:") are the Italian short forms; they only count before a colon.
_REPLY_WORDS = (
    "re|aw|antw|antwort|sv|vs|odp|ynt|r|ris|res|rif|r[ée]f|r[ée]p|vá|atb"
    "|απ|σχετ|回复|答复|回覆|返信|답장"
)
_FORWARD_WORDS = (
    "fwd|fw|wg|tr|doorst|pd|i|enc|rv|vb|vl|ilt|i̇lt|İlt|πρθ|továbbítás|转发|轉寄|転送|전달"
)
_PREFIX = re.compile(
    rf"(?:{_REPLY_WORDS}|{_FORWARD_WORDS})\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*:\s*",
    re.IGNORECASE,
)
_LIST_TAG = re.compile(r"\[[^\[\]]*\]\s*")
_FWD_TRAILER = re.compile(r"\s*\(fwd\)$", re.IGNORECASE)
_FWD_WRAPPER = re.compile(r"\[fwd:\s*(.*)\]$", re.IGNORECASE)

# Base subjects so common that a shared one says nothing about a shared conversation. A reply
# whose parents are missing does not join on these (a header-less reply still may: its
# subject is all it has). Compared after `subject_key`.
_GENERIC_SUBJECTS = frozenset(
    {"hi", "hello", "hey", "hallo", "bonjour", "hola", "ciao", "test", "testing", "question"}
    | {"questions", "thanks", "thank you", "fyi", "info", "update", "meeting", "reminder"}
    | {"help", "urgent", "important", "request", "invoice", "document", "documents", "photos"}
    | {"scan", "no subject", "(no subject)", "untitled", "none", "[no subject]"}
)


@lru_cache(maxsize=8192)
def _base_subject(subject: str) -> tuple[str, bool]:
    """(base subject, whether a reply/forward marker was removed), per RFC 5256 section 2.1."""
    text = " ".join(unicodedata.normalize("NFKC", subject).split())
    marked = False
    while True:
        if match := _FWD_TRAILER.search(text):
            text, marked = text[: match.start()], True
        elif match := _PREFIX.match(text):
            text, marked = text[match.end() :], True
        elif (match := _LIST_TAG.match(text)) and text[match.end() :]:
            # A tag alone ("[dev]") is the whole subject and stays.
            text = text[match.end() :]
        elif match := _FWD_WRAPPER.match(text):
            text, marked = match.group(1).strip(), True
        else:
            return text.casefold(), marked


def subject_key(subject: str) -> str:
    """The base subject, case-folded: equal keys mean "the same topic" to the fallback."""
    return _base_subject(subject)[0]


def _folded(text: str) -> str:
    """NFKC character by character where that keeps one character (the full-width colon of
    "回复\uff1a" becomes ":"), so positions in the result are positions in `text`."""
    return "".join(
        folded if len(folded := unicodedata.normalize("NFKC", c)) == 1 else c for c in text
    )


def strip_markers(subject: str) -> str:
    """The subject without its leading reply and forward markers ("Re: Fwd: AW: Plans" is
    "Plans"), case and list tags kept ("[dev] Re: Plans" is "[dev] Plans"): what a reply or a
    forward puts its own single "Re: " or "Fwd: " before, so markers never stack."""
    text = " ".join(subject.split())
    tag = ""
    while True:
        if match := _PREFIX.match(_folded(text[:40])):
            text = text[match.end() :]
        elif not tag and (match := _LIST_TAG.match(text)) and _PREFIX.match(text[match.end() :]):
            tag, text = text[: match.end()], text[match.end() :]
        else:
            return (tag + text).strip()


def is_reply_or_forward(subject: str) -> bool:
    """Whether the subject carries at least one reply or forward marker."""
    return _base_subject(subject)[1]


def is_original(in_reply_to: str | None, subject: str) -> bool:
    """A message that starts a conversation: no In-Reply-To and no reply or forward marker."""
    return not in_reply_to and not is_reply_or_forward(subject)


def is_generic_subject(key: str) -> bool:
    """Whether a base subject (`subject_key`) is too common or too short to tie mail together."""
    return key in _GENERIC_SUBJECTS or sum(c.isalnum() for c in key) < 2


G = TypeVar("G", bound=Hashable)


@dataclass(slots=True)
class SubjectGroup(Generic[G]):
    """One conversation as the subject fallback sees it."""

    gid: G
    first: datetime
    last: datetime
    # The subject of its earliest message: that message decides the conversation's topic
    # and whether it starts with a reply (its beginning is missing, unless `has_original`)
    # or an original.
    subject: str
    # Dates of its replies that carry no In-Reply-To/References at all: their place is known
    # from the subject alone.
    subject_only_replies: Sequence[datetime]
    # Whether it holds a message being threaded now; settled conversations never merge with
    # each other, so old decisions stay put.
    fresh: bool = True
    # Whether it holds an original (no In-Reply-To, no reply marker): then it has its
    # beginning even if a reply is dated earlier (clock skew, or a reply that already joined
    # it on subject in an earlier batch), and it does not go looking for another.
    has_original: bool = False


def subject_links(groups: Iterable[SubjectGroup[G]]) -> list[tuple[G, G]]:
    """Pairs of conversations to merge on subject (JWZ step 5, with guards).

    As in JWZ, a conversation whose beginning is missing (its earliest message is a reply or
    forward: a header-less one, or one whose In-Reply-To/References name only mail we do not
    have) joins another with the same base subject: preferably the nearest original within
    SUBJECT_WINDOW, otherwise the nearest conversation that also begins with a reply.

    JWZ's merging of two originals that share a subject is left out: it glues unrelated mail
    ("Weekly report", "Hello") together. A beginning-less conversation whose subject is
    generic ("Re: Hello") joins only through its header-less replies, whose subject is all
    there is to go on.
    """
    by_key: defaultdict[str, list[SubjectGroup[G]]] = defaultdict(list)
    for group in groups:
        key = subject_key(group.subject)
        if key:
            by_key[key].append(group)
    links: list[tuple[G, G]] = []
    for key, same in by_key.items():
        generic = is_generic_subject(key)
        # Conversations without their beginning, and those with one (an original).
        headless: list[SubjectGroup[G]] = []
        originals: list[SubjectGroup[G]] = []
        for group in same:
            missing = is_reply_or_forward(group.subject) and not group.has_original
            (headless if missing else originals).append(group)
        for joiner in sorted(headless, key=lambda g: g.first):
            # When its place is known from the subject alone: its own beginning (a reply to
            # mail we lack) and its header-less replies.
            anchors = [*joiner.subject_only_replies, *(() if generic else (joiner.first,))]
            if not anchors:
                continue
            others = [g for g in headless if g is not joiner]
            target = _nearest(joiner, anchors, originals) or _nearest(joiner, anchors, others)
            if target is not None:
                links.append((joiner.gid, target.gid))
    return links


def _nearest(
    joiner: SubjectGroup[G], anchors: Sequence[datetime], candidates: list[SubjectGroup[G]]
) -> SubjectGroup[G] | None:
    best: tuple[timedelta, float] | None = None
    found: SubjectGroup[G] | None = None
    for candidate in candidates:
        if not (joiner.fresh or candidate.fresh):
            continue
        gap = min(_gap(day, candidate.first, candidate.last) for day in anchors)
        # Ties go to the most recent conversation: the one a reply most likely answers.
        rank = (gap, -candidate.last.timestamp())
        if gap <= SUBJECT_WINDOW and (best is None or rank < best):
            best, found = rank, candidate
    return found


def _gap(moment: datetime, first: datetime, last: datetime) -> timedelta:
    if moment < first:
        return first - moment
    if moment > last:
        return moment - last
    return timedelta(0)
