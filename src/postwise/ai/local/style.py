"""How the user writes, learned from the bodies of their sent mail: the greeting they open with
(the recipient's first name replaced by "{name}"), the line they sign off with, the name they
sign with, and how long their messages usually are. Reply drafts follow it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from statistics import median

from postwise.ai.local.sentences import (
    MAX_TEXT,
    greeting_clause,
    greeting_name,
    is_sign_off,
    words,
)
from postwise.ai.providers.base import Style

__all__ = ["MIN_TEXTS", "learn_style"]

MIN_TEXTS = 3  # fewer sent messages than this say nothing about a habit
# A habit is a pattern seen at least twice and in this share of the messages.
_MIN_COUNT = 2
_MIN_SHARE = 0.25
_MAX_SIGNATURE_NAME_WORDS = 3
_SPACES_RE = re.compile(r"[ \t]+")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text[:MAX_TEXT].splitlines() if line.strip()]


def _greeting_pattern(first_line: str) -> str | None:
    """ "Hi Dana," -> "Hi {name},"; "Hello team!" -> "Hello team!"; None if not a greeting."""
    name = greeting_name(first_line)
    clause = greeting_clause(first_line)  # "Hi Dana, the report is attached." -> "Hi Dana,"
    if name is None or clause is None:
        return None
    pattern = _SPACES_RE.sub(" ", clause)
    if name:
        pattern = re.sub(rf"\b{re.escape(name)}\b", "{name}", pattern, count=1)
        # "Dear Mr. {name}," stays formal but is about the surname: drop the honorific.
        pattern = re.sub(r"\b(?:Mr|Mrs|Ms|Dr|Prof)\.? (?=\{name\})", "", pattern)
    return pattern.strip() or None


def _sign_off(lines: list[str]) -> tuple[str | None, str | None]:
    """The sign-off line and the name under it, from the last lines of a message."""
    tail = lines[-4:]
    for index in range(len(tail) - 1, -1, -1):
        if is_sign_off(tail[index]):
            after = tail[index + 1 : index + 2]
            name = after[0] if after else None
            if name and (len(name.split()) > _MAX_SIGNATURE_NAME_WORDS or not name[:1].isupper()):
                name = None
            return tail[index], name
    return None, None


def _habit(counts: Counter[str], total: int) -> str | None:
    if not counts:
        return None
    value, count = counts.most_common(1)[0]
    return value if count >= _MIN_COUNT and count >= _MIN_SHARE * total else None


def learn_style(texts: Sequence[str], *, name: str) -> Style:
    """The user's style from the bodies of their sent messages (quotes and signatures already
    cut). With too few messages, the defaults (`Style(name=name)`)."""
    bodies = [text for text in texts if words(text)]
    if len(bodies) < MIN_TEXTS:
        return Style(name=name)
    greetings: Counter[str] = Counter()
    sign_offs: Counter[str] = Counter()
    signed_names: Counter[str] = Counter()
    lengths: list[int] = []
    for body in bodies:
        lines = _lines(body)
        lengths.append(len(words(body)))
        pattern = _greeting_pattern(lines[0]) if lines else None
        if pattern:
            greetings[pattern] += 1
        closing, signed = _sign_off(lines)
        if closing:
            sign_offs[closing] += 1
        if signed:
            signed_names[signed] += 1
    total = len(bodies)
    signed_as = _habit(signed_names, total)
    return Style(
        name=signed_as or name,
        greeting=_habit(greetings, total),
        sign_off=_habit(sign_offs, total),
        median_words=max(1, round(median(lengths))),
    )
