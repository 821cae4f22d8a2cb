"""Action items: the sentences of a message that ask for something to be done, with the date
they are due when the sentence names one.

dateparser resolves the dates, but it costs milliseconds a call (and over a second the first
time it meets a phrase it has to guess the language of), so a cheap regex finds the date phrase
first and dateparser only ever sees that phrase, in English. "End of the day/week/month/quarter"
are computed here: dateparser does not understand them.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import dateparser

from postwise.ai.local.sentences import is_pleasantry, sentences, words
from postwise.ai.results import ActionItem

__all__ = [
    "DATE_RE",
    "IMPERATIVE_VERBS",
    "action_items",
    "date_phrases",
    "resolve_date",
    "target_dates",
]

MAX_ITEMS = 10
_MAX_TEXT = 300  # ActionItem.text's limit
_DAYS = (
    r"mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?"
)
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?"
# The date phrases understood, longest forms first. Bounded repetitions only: this runs on
# every sentence of every message that triage reads.
DATE_RE = re.compile(
    rf"\b(?:(?:(?:next|this|coming)\s+)?(?:{_DAYS})\b\.?(?:,?\s+(?:{_MONTHS})\.?\s+{_ORDINAL}\b"
    rf"(?:,?\s+\d{{4}}\b)?|,?\s+{_ORDINAL}\s+(?:of\s+)?(?:{_MONTHS})\b(?:,?\s+\d{{4}}\b)?"
    rf"|\s+the\s+\d{{1,2}}(?:st|nd|rd|th)\b)?"
    rf"|(?:{_MONTHS})\.?\s+{_ORDINAL}\b(?:,?\s+\d{{4}}\b)?"
    rf"|{_ORDINAL}\s+(?:of\s+)?(?:{_MONTHS})\b\.?(?:,?\s+\d{{4}}\b)?"
    r"|\d{4}-\d{2}-\d{2}\b|\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"
    r"|the\s+\d{1,2}(?:st|nd|rd|th)\b"
    r"|(?:the\s+)?day\s+after\s+tomorrow|today|tonight|tomorrow|tmrw"
    r"|(?:next|this|coming)\s+(?:week|month|year)\b"
    r"|(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?(?:day|week|month|year|quarter)\b"
    r"|eod|cob|eow|eom"
    r"|(?:in|within)\s+(?:\d{1,3}|a|one|two|three|four|five|six|seven|ten)\s+(?:days?|weeks?|months?)"
    r")(?!\w)",
    re.IGNORECASE,
)
_YEAR_RE = re.compile(r"\b\d{4}\b")
_MONTH_NAMED_RE = re.compile(rf"\b(?:{_MONTHS})\b|/", re.IGNORECASE)

# Cues that a sentence asks for something.
_REQUEST_RE = re.compile(
    r"\b(?:please|pls|plz|kindly|could\s+you|can\s+you|would\s+you\s+mind|will\s+you"
    r"|(?:could|can|shall)\s+we"
    r"|would\s+you\s+(?!be\b|like\b|prefer\b|want\b)|need\s+you\s+to|i\s+need|we\s+need"
    r"|you\s+(?:need|have|must|should)\s+to|you\s+must|you\s+should|make\s+sure|be\s+sure\s+to"
    r"|don't\s+forget|do\s+not\s+forget|remember\s+to|let\s+(?:me|us)\s+know|get\s+back\s+to\s+me"
    r"|action\s+required|required\s+to|deadline|due\s+(?:by|on|date|today|tomorrow)|is\s+due"
    r"|are\s+due|no\s+later\s+than|asap|as\s+soon\s+as\s+possible|i'd\s+appreciate"
    r"|i\s+would\s+appreciate|it\s+would\s+be\s+great\s+if\s+you|must\s+be|has\s+to\s+be"
    r"|have\s+to\s+be|needs?\s+to\s+be)\b",
    re.IGNORECASE,
)
# A deadline attached to whatever the sentence says ("Ben will share the icons by Wednesday").
_DEADLINE_RE = re.compile(r"\b(?:by|before|no\s+later\s+than|due)\s+(?:the\s+)?\S", re.IGNORECASE)
# Verbs that open an imperative ("Send me the deck.", "Review section 4 before Friday.").
IMPERATIVE_VERBS = frozenset(
    {"send", "review", "sign", "submit", "call", "confirm", "check", "update", "book", "schedule"}
    | {"fill", "complete", "reply", "respond", "forward", "prepare", "share", "pay", "approve"}
    | {"bring", "remember", "add", "fix", "read", "email", "upload", "register", "finish", "return"}
    | {"contact", "move", "attach", "resubmit", "rsvp", "provide", "ping", "arrange", "order"}
    | {"cancel", "renew", "print", "draft", "write", "test", "deploy", "merge", "install", "set"}
    | {"make", "ensure", "verify", "follow", "pick", "drop", "fix", "save", "disconnect", "join"}
    | {"let", "ask", "tell", "remind", "invite", "reserve", "file", "collect", "clean", "sort"}
    | {"take", "give", "look", "help", "put", "run", "plan", "stop", "double-check", "sync"}
)
# Sentences that look like requests but are not asks of the reader: marketing calls to action,
# "do not reply" footers, "please find attached", offers of help.
_NOT_AN_ASK_RE = re.compile(
    r"\b(?:shop|buy)\s+now|%\s*off|click\s+here|learn\s+more|sign\s+up\s+(?:now|today)"
    r"|do\s+not\s+reply|don't\s+reply|please\s+(?:find|see)\s+(?:attached|below|enclosed)"
    r"|let\s+(?:me|us)\s+know\s+if\s+(?:you\s+(?:have|need)|there(?:'s|\s+is)\s+anything)"
    r"|(?:if\s+you\s+(?:did\s+not|didn't)|you\s+can\s+(?:safely\s+)?ignore)",
    re.IGNORECASE,
)
# First-person commitments are the sender's to-do, not a request ("I'll send it by Friday").
_SENDER_COMMITMENT_RE = re.compile(r"^(?:i|we)(?:'ll|\s+will|'m\s+going\s+to|\s+shall)\b", re.I)
_LEAD_WORDS = frozenset({"and", "also", "then", "so", "pls", "please", "kindly", "just", "now"})

_SMALL_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_SMALL_NUMBERS |= {"seven": 7, "ten": 10}


def date_phrases(text: str) -> list[str]:
    """The date expressions found in `text`, as written."""
    return [m.group(0).rstrip(".") for m in DATE_RE.finditer(text)]


def target_dates(sentence: str) -> list[re.Match[str]]:
    """The date phrases of a sentence that say when something should happen: in "move it from
    Tuesday to Thursday", Thursday."""
    found = list(DATE_RE.finditer(sentence))
    while len(found) > 1 and sentence[: found[0].start()].rstrip().lower().endswith("from"):
        found.pop(0)
    return found


def _end_of(unit: str, today: date) -> date:
    if unit == "day":
        return today
    if unit == "week":  # the working week: this Friday, or next Friday at a weekend
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if unit == "month":
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if unit == "quarter":
        last_month = ((today.month - 1) // 3 + 1) * 3
        return date(today.year, last_month, calendar.monthrange(today.year, last_month)[1])
    return date(today.year, 12, 31)


_END_OF_RE = re.compile(
    r"end\s+of\s+(?:the\s+|this\s+|(?P<next>next)\s+)?(?P<unit>day|week|month|year|quarter)",
    re.IGNORECASE,
)
_SHORTHANDS = {"eod": "day", "cob": "day", "eow": "week", "eom": "month"}
_IN_UNITS_RE = re.compile(r"(?:in|within)\s+(\w+)\s+(day|week|month)", re.IGNORECASE)


def _relative(phrase: str, today: date) -> date | None:
    """The phrases dateparser gets wrong or does not know."""
    lowered = phrase.lower()
    if lowered in _SHORTHANDS:
        return _end_of(_SHORTHANDS[lowered], today)
    match = _END_OF_RE.search(phrase)
    if match:
        unit = match.group("unit").lower()
        if match.group("next"):
            # One past the end of this period lies in the next one.
            return _end_of(unit, _end_of(unit, today) + timedelta(days=1 if unit != "week" else 3))
        return _end_of(unit, today)
    match = _IN_UNITS_RE.match(phrase)
    if match and not match.group(1).isdigit():
        count = _SMALL_NUMBERS.get(match.group(1).lower())
        if count is None:
            return None
        unit = match.group(2).lower()
        return today + timedelta(days=count * {"day": 1, "week": 7, "month": 30}[unit])
    return None


def resolve_date(phrase: str, *, now: datetime) -> date | None:
    """The date `phrase` (as found by DATE_RE) means, seen from `now`; None when unsure."""
    return _resolve(phrase.strip().lower()[:60], now.date())


# Mail that arrives together shares its day and its phrases ("tomorrow", "Friday"): a cache
# spares most dateparser calls (about a millisecond each) when triage reads a batch.
@lru_cache(maxsize=4096)
def _resolve(phrase: str, today: date) -> date | None:
    special = _relative(phrase, today)
    if special is not None:
        return special
    # Noon of the day: a due date does not depend on the hour the message was read.
    base = datetime.combine(today, time(12))
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"}
    try:
        parsed: datetime | None = dateparser.parse(phrase, languages=["en"], settings=settings)
    except Exception:  # dateparser raises odd errors on odd input; a date is optional
        return None
    if parsed is None:
        return None
    due = parsed.date()
    if due < today and not _YEAR_RE.search(phrase):
        # "Dec 12" seen in late December, or "the 15th" after the 15th: the next one is meant.
        due = _next_year(due) if _MONTH_NAMED_RE.search(phrase) else _next_month(due)
    return due


def _next_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _next_month(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def _is_ask(sentence: str) -> bool:
    if _NOT_AN_ASK_RE.search(sentence) or is_pleasantry(sentence):
        return False
    if _REQUEST_RE.search(sentence):
        return True
    if _SENDER_COMMITMENT_RE.match(sentence):
        return False
    tokens = [w.lower() for w in words(sentence)[:3]]
    while tokens and tokens[0] in _LEAD_WORDS:
        tokens.pop(0)
    if tokens and tokens[0] in IMPERATIVE_VERBS and not sentence.rstrip().endswith("?"):
        return True
    return bool(_DEADLINE_RE.search(sentence) and DATE_RE.search(sentence))


def _clip(sentence: str) -> str:
    if len(sentence) <= _MAX_TEXT:
        return sentence
    return sentence[: _MAX_TEXT - 1].rsplit(" ", 1)[0] + "…"


def action_items(text: str, *, now: datetime) -> list[ActionItem]:
    """Up to ten requests found in `text` (a message body), in order, each with the date it is
    due when it names one."""
    items: list[ActionItem] = []
    for sentence in sentences(text):
        if len(items) >= MAX_ITEMS:
            break
        if len(words(sentence)) < 2 or not _is_ask(sentence):
            continue
        clipped = _clip(sentence)
        due = None
        for match in target_dates(clipped)[:3]:
            due = resolve_date(match.group(0).rstrip("."), now=now)
            if due is not None:
                break
        if all(item.text != clipped for item in items):
            items.append(ActionItem(text=clipped, due=due))
    return items
