"""Analysis of one message on the local provider: intent, urgency, sentiment, entities (people,
organisations, dates, amounts), questions and action items, from rules over the text and the
headers. Everything is pattern work over a bounded prefix of the message: no model, no network.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

from postwise.ai.local import actions
from postwise.ai.local.sentences import (
    MAX_TEXT,
    greeting_name,
    is_pleasantry,
    is_sign_off,
    sentences,
    words,
)
from postwise.ai.mailview import MailView
from postwise.ai.results import ActionItem, Analysis, Entities

__all__ = ["amounts", "analyse", "organisations", "people", "sentiment"]

# The labels of `Analysis` (results.py); mypy checks that they agree.
Intent = Literal[
    "request",
    "question",
    "information",
    "scheduling",
    "transaction",
    "marketing",
    "social",
    "complaint",
    "other",
]
Urgency = Literal["low", "medium", "high"]
Sentiment = Literal["negative", "neutral", "positive"]

_MAX_ENTITIES = 20
_MAX_QUESTION = 300

# --- sentiment ----------------------------------------------------------------------------------
# A small lexicon with negation rather than a library: VADER (vaderSentiment, or nltk's copy,
# which needs a data download) is not installed, and three labels for mail need little more
# than this. Courtesy ("thanks", "best regards") is not counted: it is in nearly every message.
_POSITIVE = frozenset(
    {"great", "excellent", "love", "loved", "happy", "glad", "pleased", "awesome", "fantastic"}
    | {"wonderful", "appreciate", "appreciated", "congratulations", "congrats", "excited"}
    | {"perfect", "amazing", "delighted", "enjoyed", "enjoy", "brilliant", "thrilled", "good"}
    | {"nice", "impressive", "success", "successful", "approved", "welcome", "grateful", "well"}
    | {"celebrate", "thank", "thanks", "helpful", "beautiful", "exciting", "win", "won", "best"}
)
_NEGATIVE = frozenset(
    {"unfortunately", "sorry", "disappointed", "disappointing", "frustrated", "frustrating"}
    | {"angry", "unacceptable", "problem", "problems", "issue", "issues", "broken", "fail"}
    | {"failed", "fails", "failure", "error", "errors", "complaint", "bad", "terrible", "awful"}
    | {"worst", "poor", "delayed", "delay", "cancelled", "canceled", "wrong", "annoyed", "upset"}
    | {"regret", "concerned", "worried", "inconvenience", "bug", "outage", "down", "overdue"}
    | {"rejected", "denied", "declined", "late", "missing", "lost", "damaged", "refund", "twice"}
    | {"urgent", "complain", "sadly", "hate", "ridiculous", "useless", "crash", "crashes"}
)
_NEGATIONS = frozenset({"not", "no", "never", "don't", "doesn't", "didn't", "isn't", "wasn't"})
_NEGATIONS |= frozenset({"aren't", "won't", "can't", "cannot", "hardly", "without", "nothing"})


def sentiment(text: str) -> Sentiment:
    """ "positive", "negative" or "neutral" for the content sentences of `text`."""
    score = 0
    for sentence in sentences(text):
        if is_pleasantry(sentence):
            continue
        tokens = [w.lower().replace("\u2019", "'") for w in words(sentence)]
        for index, token in enumerate(tokens):
            polarity = (token in _POSITIVE) - (token in _NEGATIVE)
            if polarity and any(t in _NEGATIONS for t in tokens[max(0, index - 3) : index]):
                polarity = -polarity  # "not happy", "no problem"
            score += polarity
    if score >= 2:
        return "positive"
    if score <= -1:
        return "negative"
    return "neutral"


# --- entities -----------------------------------------------------------------------------------
_CURRENCY_SYMBOL = r"(?:US\$|[ACNHRS]\$|CA\$|AU\$|NZ\$|HK\$|[$€£¥₹₩₽])"
_CURRENCY_CODE = (
    r"(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|NZD|SEK|NOK|DKK|PLN|CZK|INR|CNY|RMB|BRL|MXN|ZAR|SGD|HKD"
    r"|KRW|RUB|TRY)"
)
_NUMBER = r"\d{1,3}(?:[,.'\u202f\u00a0]\d{3}){1,5}(?:[.,]\d{1,2})?|\d{1,12}(?:[.,]\d{1,2})?"
_SCALE = r"(?:\s?(?:k|m|bn|million|billion|thousand)\b)?"
_AMOUNT_RE = re.compile(
    rf"(?:{_CURRENCY_SYMBOL}\s?(?:{_NUMBER}){_SCALE}"
    rf"|\b{_CURRENCY_CODE}\s?(?:{_NUMBER}){_SCALE}"
    rf"|\b(?:{_NUMBER}){_SCALE}\s?(?:{_CURRENCY_SYMBOL}|{_CURRENCY_CODE}\b|(?:euros?|dollars?"
    r"|pounds?|francs?)\b))",
)
_ORG_SUFFIX_RE = re.compile(
    r"\b((?:[A-Z][\w&'-]{0,30}\s){0,3}[A-Z][\w&'-]{0,30}),?\s(Inc|Ltd|LLC|LLP|GmbH|AG|PLC|Corp"
    r"|Corporation|Co|S\.A|SA|BV|B\.V|SAS|SRL|Pty|Limited|Group|Holdings|Foundation|University)"
    r"\b\.?"
)
_ORG_LEAD_WORDS = frozenset({"The", "At", "From", "With", "For", "And", "Of", "To", "By", "In"})
# Mail providers: the sender's domain names no organisation.
_FREEMAIL = frozenset(
    {"gmail", "googlemail", "yahoo", "ymail", "outlook", "hotmail", "live", "msn", "icloud"}
    | {"me", "mac", "aol", "protonmail", "proton", "pm", "gmx", "web", "mail", "yandex", "zoho"}
    | {"fastmail", "tutanota", "hey", "qq", "163", "126", "naver", "orange", "free", "comcast"}
)
# Second-level labels under a country code: "fabrikam.co.uk" is Fabrikam, not "Co".
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "gv"})
# Address local parts that name a role, not a person.
_ROLE_WORDS = frozenset(
    {"info", "support", "team", "sales", "hello", "contact", "admin", "billing", "news", "all"}
    | {"noreply", "no", "reply", "office", "hr", "jobs", "help", "service", "marketing", "mail"}
    | {"the", "bank", "desk", "committee", "board", "facilities", "operations", "via", "inc"}
    | {"ltd", "llc", "customer", "care", "account", "accounts", "notifications", "newsletter"}
)


def _display_name(name: str) -> str:
    name = name.strip().strip("\"'")
    if name.count(",") == 1:  # "Whitfield, Dana"
        last, first = (part.strip() for part in name.split(","))
        name = f"{first} {last}"
    return name


def _name_from_address(address: str) -> str | None:
    """ "dana.whitfield@..." -> "Dana Whitfield": only first.last style local parts, which are
    names far more often than not."""
    local = address.split("@", 1)[0]
    parts = re.split(r"[._]", local)
    if len(parts) != 2 or not all(p.isalpha() and len(p) > 1 for p in parts):
        return None
    if any(p.lower() in _ROLE_WORDS for p in parts):
        return None
    return " ".join(p.capitalize() for p in parts)


def _signed_name(text: str) -> str | None:
    """The name under the sign-off ("Best,\\nPriya" -> "Priya")."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][-8:]
    for index, line in enumerate(lines[:-1]):
        if is_sign_off(line):
            name = lines[index + 1]
            tokens = name.split()
            if 0 < len(tokens) <= 3 and all(t[:1].isupper() for t in tokens) and "@" not in name:
                return name.rstrip(",.")
    return None


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _is_sender_org(mail: MailView) -> bool:
    """Whether the display name names the sender's organisation ("Lumen Outdoor" writing from
    lumenoutdoor.com, "CloudNine Billing" from cloudnine.dev) rather than a person."""
    label = _domain_label(mail.from_address)
    squashed = _squash(mail.from_name)
    return bool(label and squashed and (label in squashed or squashed in label))


def _is_person_name(name: str) -> bool:
    tokens = name.split()
    return 0 < len(tokens) <= 4 and not any(t.lower().strip(".,") in _ROLE_WORDS for t in tokens)


def people(mail: MailView, text: str) -> list[str]:
    found: list[str] = []
    if mail.from_name and not _is_sender_org(mail):
        found.append(_display_name(mail.from_name))
    for address in (*mail.to, *mail.cc):
        name = _name_from_address(address)
        if name:
            found.append(name)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    greeted = greeting_name(first_line)
    if greeted:
        found.append(greeted)
    signed = _signed_name(text)
    if signed:
        found.append(signed)
    label = _domain_label(mail.from_address)
    return _dedupe_names(
        [n for n in found if _is_person_name(n) and not (label and label in _squash(n))]
    )


def _dedupe_names(names: list[str]) -> list[str]:
    """One entry per person: "Dana" is dropped when "Dana Whitfield" is there."""
    out: list[str] = []
    for name in sorted(dict.fromkeys(n for n in names if n), key=len, reverse=True):
        first = name.split()[0].lower()
        if not any(o.lower() == name.lower() or o.split()[0].lower() == first for o in out):
            out.append(name)
    order = {name: index for index, name in enumerate(names)}
    return sorted(out, key=lambda n: order.get(n, 0))[:_MAX_ENTITIES]


def _domain_label(address: str) -> str | None:
    """The registrable name of the sender's domain ("fabrikam" for mail.fabrikam.co.uk), None
    for mail providers."""
    domain = address.rsplit("@", 1)[-1].lower()
    labels = [label for label in domain.split(".") if label]
    if len(labels) < 2:
        return None
    labels = labels[:-1]  # the top-level domain
    if len(labels) > 1 and labels[-1] in _SECOND_LEVEL:
        labels = labels[:-1]
    name = labels[-1]
    if name in _FREEMAIL or not any(c.isalpha() for c in name):
        return None
    return name


def _domain_org(mail: MailView) -> str | None:
    if _is_sender_org(mail):  # the display name spells it best: "Lumen Outdoor"
        return _display_name(mail.from_name)
    label = _domain_label(mail.from_address)
    if label is None:
        return None
    return " ".join(part.capitalize() for part in re.split(r"[-_]", label) if part)


def organisations(mail: MailView, text: str) -> list[str]:
    found: list[str] = []
    org = _domain_org(mail)
    if org:
        found.append(org)
    for match in _ORG_SUFFIX_RE.finditer(text):
        tokens = match.group(0).split()
        while tokens and tokens[0] in _ORG_LEAD_WORDS:
            tokens.pop(0)
        if len(tokens) > 1:
            found.append(" ".join(tokens).rstrip(",."))
    out: list[str] = []
    for name in found:
        lowered = name.lower()
        clash = next((o for o in out if o.lower() in lowered or lowered in o.lower()), None)
        if clash is None:
            out.append(name)
        elif len(name) > len(clash):  # "Fabrikam" then "Fabrikam Ltd": keep the full name
            out[out.index(clash)] = name
    return out[:_MAX_ENTITIES]


def amounts(text: str) -> list[str]:
    return list(dict.fromkeys(m.group(0).strip() for m in _AMOUNT_RE.finditer(text)))[
        :_MAX_ENTITIES
    ]


# --- urgency and intent ----------------------------------------------------------------------
_URGENT_RE = re.compile(
    r"\b(?:urgent(?:ly)?|asap|as\s+soon\s+as\s+possible|immediately|emergency|critical"
    r"|right\s+away|time[\s-]sensitive|action\s+required|eod|end\s+of\s+(?:the\s+)?day)\b",
    re.IGNORECASE,
)
_SOON_RE = re.compile(
    r"\b(?:soon|deadline|at\s+your\s+earliest\s+convenience|this\s+week|reminder|overdue"
    r"|final\s+notice|expires?|expiring|last\s+chance|due)\b",
    re.IGNORECASE,
)
_PROMO_RE = re.compile(
    r"\d\s?%\s?off|\b(?:sale|discount|deal|deals|offer|coupon|promo\s+code|shop\s+now|free\s+shipping"
    r"|limited[\s-]time|buy\s+now|save\s+(?:up\s+to\s+)?\d|black\s+friday|cyber\s+monday)\b",
    re.IGNORECASE,
)
_TRANSACTION_RE = re.compile(
    r"\b(?:receipt|invoice|order\s+(?:#|no\.?|number)|your\s+order|payment\s+(?:received|confirm"
    r"|due|of|failed)|amount\s+(?:due|paid)|you\s+paid|charged|booking\s+(?:confirm|reference)"
    r"|has\s+shipped|tracking\s+number|renews?\b|renewal|subscription|purchase\s+of|refund"
    r"|transaction)",
    re.IGNORECASE,
)
_COMPLAINT_RE = re.compile(
    r"\b(?:complain\w*|unacceptable|frustrated|disappointed|not\s+working|doesn't\s+work"
    r"|stopped\s+working|charged\s+twice|refund|worst|angry|ridiculous|still\s+(?:waiting|broken)"
    r"|fails?\b|broken)",
    re.IGNORECASE,
)
_SCHEDULING_RE = re.compile(
    r"\b(?:meet|meeting|call|schedule|reschedule|availability|available|free\s+(?:on|at)"
    r"|invit(?:e|ation)|appointment|calendar|slot|sync|conference|catch\s+up|move)\b",
    re.IGNORECASE,
)
_SOCIAL_RE = re.compile(
    r"\b(?:commented\s+on|liked\s+your|mentioned\s+you|tagged\s+you|followed\s+you|new\s+follower"
    r"|connection\s+request|invited\s+you\s+to\s+connect|friend\s+request|congratulations"
    r"|congrats|birthday|party|dinner|wedding|drinks|celebrat\w+)\b",
    re.IGNORECASE,
)


def _is_bulk(mail: MailView) -> bool:
    return bool(mail.list_unsubscribe or mail.list_id or mail.precedence in ("bulk", "junk"))


def _urgency(mail: MailView, text: str, items: list[ActionItem], now: datetime) -> Urgency:
    today = now.date()
    due = [item.due for item in items if item.due is not None]
    level: Urgency = "low"
    if (
        _URGENT_RE.search(mail.subject)
        or _URGENT_RE.search(text)
        or any(d <= today + timedelta(days=1) for d in due)
    ):
        level = "high"
    elif (
        any(d <= today + timedelta(days=7) for d in due)
        or _SOON_RE.search(mail.subject)
        or _SOON_RE.search(text)
    ):
        level = "medium"
    if level == "high" and _is_bulk(mail):
        return "medium"  # "Hurry, 48 hours only!" is a sales pitch, not an emergency
    return level


def _intent(
    mail: MailView, text: str, *, items: list[ActionItem], questions: list[str], mood: Sentiment
) -> Intent:
    """One rule per intent, the most specific first."""
    subject_and_text = f"{mail.subject}\n{text}"
    if mood == "negative" and _COMPLAINT_RE.search(subject_and_text) and not _is_bulk(mail):
        return "complaint"
    if _is_bulk(mail) and _PROMO_RE.search(subject_and_text):
        return "marketing"
    if _TRANSACTION_RE.search(subject_and_text) and amounts(subject_and_text):
        return "transaction"
    if mail.has_calendar or (
        _SCHEDULING_RE.search(subject_and_text) and actions.DATE_RE.search(subject_and_text)
    ):
        return "scheduling"
    if _SOCIAL_RE.search(subject_and_text):
        return "social"
    if _TRANSACTION_RE.search(subject_and_text):
        return "transaction"
    if items and not _is_bulk(mail):
        return "request"
    if questions and not _is_bulk(mail):
        return "question"
    if _is_bulk(mail) and _PROMO_RE.search(subject_and_text):
        return "marketing"
    return "information" if words(text) else "other"


def analyse(mail: MailView, *, now: datetime) -> Analysis:
    """Everything the local provider can say about one message."""
    body = mail.body
    # Entities may sit in the signature ("Procurement Manager | Fabrikam Ltd"): read up to the
    # quoted history, not only the body.
    own = mail.text[: mail.quote_offset] if mail.quote_offset is not None else mail.text
    own = own[:MAX_TEXT]
    questions = [s[:_MAX_QUESTION] for s in sentences(body) if s.rstrip().endswith("?")][:10]
    items = actions.action_items(body, now=now)
    mood = sentiment(body)
    return Analysis(
        intent=_intent(mail, body, items=items, questions=questions, mood=mood),
        urgency=_urgency(mail, body, items, now),
        sentiment=mood,
        entities=Entities(
            people=people(mail, own),
            organisations=organisations(mail, own),
            dates=list(dict.fromkeys(actions.date_phrases(own)))[:_MAX_ENTITIES],
            amounts=amounts(own),
        ),
        questions=questions,
        action_items=items,
    )
