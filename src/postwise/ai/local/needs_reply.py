"""Whether a message waits for the user's answer.

Rules first: bulk, automated, no-reply and calendar mail, and the user's own mail, never need a
reply. Then a linear model over the message's words and over reply cues found by hand-written
patterns: questions put to the reader, requests ("could you", "let me know"), meeting
proposals, deadlines, and the reverse ("FYI", "no action needed", a bare "thanks!"). Courtesy
closings ("let me know if you have any questions") are removed before the cues are read: they
end half of all mail and ask for nothing.

The model is trained once per process on the seed corpus (`data/seed.jsonl`). The category
model stands guard in front of it: text that reads like a newsletter, a notification or a
receipt needs no reply even when its bulk headers were stripped.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping

from postwise.ai.local import category
from postwise.ai.local.category import LinearTextModel, load_seed, mail_text
from postwise.ai.local.signals import Signals, header_signals
from postwise.ai.mailview import MailView

__all__ = ["needs_reply", "needs_reply_with", "reply_cues", "trained_model"]

# Categories whose mail waits for nobody's answer. A sales pitch asks questions, but only to be
# answered if the user wants to buy: it does not need a reply.
_UNANSWERED = frozenset(
    {"newsletter", "notification", "promotion", "receipt", "social", "calendar", "cold_outreach"}
)
# The category model's total probability on those categories above which it settles the
# question: a message torn between "notification" and "cold outreach" needs no reply either.
_CATEGORY_SAYS_NO = 0.5

_COURTESY_RE = re.compile(
    r"(?:please\s+)?(?:let\s+(?:me|us)\s+know|feel\s+free\s+to\s+(?:reach\s+out|ask|contact|get\s+in"
    r"\s+touch|let\s+me\s+know)|(?:do\s+not|don't)\s+hesitate\s+to\s+(?:contact|reach|ask|get)"
    r"|reach\s+out)[^.?!\n]{0,40}?\b(?:if|should)\s+(?:you\s+)?(?:have|need|there\s+are|anything"
    r"|any|questions?|something)[^.?!\n]{0,60}[.?!]?"
    r"|\bif\s+(?:you\s+have\s+)?any\s+(?:questions|concerns|issues)[^.?!\n]{0,60}[.?!]?"
    r"|\bhope\s+(?:you(?:'re|\s+are)\s+(?:well|doing\s+well)|this\s+(?:finds|email\s+finds)"
    r"\s+you\s+well|all\s+is\s+well)[.!]?"
    r"|\bhow\s+are\s+you(?:\s+doing)?\s*\?"
    # "Please call me with any questions.": a statement offering help, not a question.
    r"|[^.?!\n]{0,60}\b(?:any|further|other|more)\s+(?:questions|concerns|issues|problems"
    r"|comments)\b[^.?!\n]{0,40}(?:[.!]|$)"
    # "If anything looks off, let me know": an answer only in case of trouble.
    r"|\bif\s+[^.?!\n]{1,60}?,?\s+(?:please\s+)?(?:let\s+(?:me|us)\s+know|ping\s+me|shout"
    r"|give\s+me\s+a\s+shout|reach\s+out)[^.?!\n]{0,20}[.!]?",
    re.IGNORECASE,
)
# Sentence ends: split on, linear time, where a "[^.?!]*?" search would rescan long lines.
_SENTENCE_END_RE = re.compile(r"(?<=[.?!\n])")
_YOU_RE = re.compile(r"\b(?:you|your|yours|u|ur|you'?re|you'?ll|you'?d)\b", re.IGNORECASE)
_REQUEST_RE = re.compile(
    r"\b(?:could|can|would|will)\s+(?:you|u)\b|\bwould\s+you\s+(?:mind|be\s+able)"
    r"|\b(?:please|pls|plz|kindly)\s+(?!find\b|see\b|note\b|disregard\b|ignore\b)\w+"
    r"|\blet\s+(?:me|us)\s+know\b|\b(?:get|come)\s+back\s+to\s+(?:me|us)\b"
    r"|\bi\s+(?:need|'d\s+need|would\s+need)\s+(?:your|you\s+to|a\s+(?:decision|yes|answer))"
    r"|\bneed\s+(?:your|a\s+(?:yes|no|decision|answer))\b|\byour\s+(?:thoughts|input|feedback"
    r"|approval|sign[\s-]?off|opinion|take|answer|decision|views?)\b|\bwhat\s+do\s+you\s+think\b"
    r"|\bany\s+(?:chance|thoughts|ideas|idea)\b|\b(?:can|could|shall|should)\s+we\b"
    r"|\b(?:are|were)\s+you\s+(?:free|around|available|in|up\s+for|ok|okay|able)\b"
    r"|\b(?:does|would|will)\s+(?:\S+\s+){1,5}?work\s+for\s+you\b|\bwhen\s+(?:can|could)\s+you\b"
    r"|\btell\s+me\b|\bsend\s+(?:me|us)\b|\bdo\s+you\s+(?:want|know|have|still|mind|think)\b"
    r"|\brsvp\b|\bi'?d\s+(?:love|appreciate)\s+(?:your|it\s+if|to\s+hear)"
    r"|\b(?:dime|dis-moi|dites-moi|me\s+puedes|peux-tu|pouvez-vous|können\s+sie|kannst\s+du"
    r"|podemos|pode|bitte)\b",
    re.IGNORECASE,
)
_MEETING_RE = re.compile(
    r"\b(?:meet(?:ing)?|call|chat|coffee|lunch|catch\s+up|sync|available|availability|free\s+(?:on"
    r"|for|this|next|at)|works?\s+for\s+(?:you|me)|what\s+time|which\s+(?:day|time|date))\b",
    re.IGNORECASE,
)
_DEADLINE_RE = re.compile(
    r"\b(?:by|before|until|no\s+later\s+than)\s+(?:the\s+)?(?:end\s+of\s+(?:the\s+)?(?:day|week"
    r"|month)|eod|eow|cob|tomorrow|tonight|today|noon|monday|tuesday|wednesday|thursday|friday"
    r"|saturday|sunday|next\s+week|the\s+\d{1,2}(?:st|nd|rd|th)?|\d{1,2}(?:st|nd|rd|th)?\b)"
    r"|\b(?:asap|urgent(?:ly)?|deadline|due\s+(?:date|by|on)|time[\s-]sensitive)\b",
    re.IGNORECASE,
)
_FYI_RE = re.compile(
    r"\b(?:fyi|for\s+your\s+(?:information|records|reference)|heads[\s-]up|no\s+action\s+(?:is\s+)?"
    r"(?:needed|required)|nothing\s+(?:else\s+)?(?:is\s+)?(?:needed|to\s+do|required)"
    r"|no\s+need\s+to\s+(?:reply|respond|answer|do\s+anything)|just\s+(?:wanted\s+to\s+)?"
    r"(?:let\s+you\s+know|letting\s+you\s+know|an?\s+update|a\s+note)|never\s+mind|nevermind"
    r"|all\s+(?:good|set|sorted)|no\s+rush|do\s+not\s+reply|zur\s+info|for\s+(?:visibility"
    r"|awareness)|so\s+(?:he|she|they|you)\s+(?:is|are|'s|'re)\s+(?:aware|in\s+the\s+loop))\b",
    re.IGNORECASE,
)
_THANKS_RE = re.compile(
    r"\b(?:thanks|thank\s+you|thx|ty|cheers|appreciate(?:d)?|merci|danke|gracias|grazie"
    r"|obrigad[oa])\b",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"\w+")
_REPLY_SUBJECT_RE = re.compile(r"^\s*(?:re|aw|sv|antw)\s*:", re.IGNORECASE)


def reply_cues(mail: MailView, signals: Signals) -> list[str]:
    """Pseudo-words for what in the message asks for an answer (and what says none is due)."""
    body = _COURTESY_RE.sub(" ", mail.body[:4000])
    questions = [s for s in _SENTENCE_END_RE.split(body) if s.endswith("?")]
    cues = [f"q{min(len(questions), 3)}"]
    if any(_YOU_RE.search(q) for q in questions):
        cues.append("q_you")
    requests = len(_REQUEST_RE.findall(body))
    cues.append(f"req{min(requests, 2)}")
    if _MEETING_RE.search(body):
        cues.append("meeting")
    if _DEADLINE_RE.search(body):
        cues.append("deadline")
    if _FYI_RE.search(body):
        cues.append("fyi")
    words = len(_WORD_RE.findall(body))
    cues.append("len_tiny" if words < 12 else "len_short" if words < 40 else "len_long")
    if _THANKS_RE.search(body) and not questions and not requests:
        cues.append("thanks_only")
    if _REPLY_SUBJECT_RE.match(mail.subject):
        cues.append("subj_reply")
    cues += [t for t in signals.tokens() if t not in ("hdr_calendar",)]
    return cues


_LOCK = threading.Lock()
_model: LinearTextModel | None = None
# How much the cues weigh against the words (both spaces l2-normalised).
_CUE_WEIGHT = 1.5


def _docs(mail: MailView, signals: Signals) -> tuple[str, str]:
    return mail_text(mail), " ".join(reply_cues(mail, signals))


def trained_model() -> LinearTextModel:
    """Trained on the seed corpus, once per process (about 0.15 s)."""
    global _model
    seed = load_seed()
    with _LOCK:
        if _model is None:
            docs = [_docs(s.mail, header_signals(s.mail)) for s in seed]
            labels = ["yes" if s.needs_reply else "no" for s in seed]
            _model = LinearTextModel.fit(
                docs, labels, weights=(1.0, _CUE_WEIGHT), class_weight="balanced"
            )
        return _model


def needs_reply_with(
    mail: MailView, *, signals: Signals, categories: Mapping[str, float]
) -> tuple[bool, float]:
    """`needs_reply` with the header signals and the category probabilities
    (`category.probabilities`) already known: triage has them."""
    if signals.from_me:
        return False, 0.99
    if signals.machine:
        return False, 0.97
    if signals.calendar:
        return False, 0.9  # the invitation's own buttons answer it
    if sum(p for label, p in categories.items() if label in _UNANSWERED) >= _CATEGORY_SAYS_NO:
        return False, 0.85
    yes = trained_model().probabilities(_docs(mail, signals))["yes"]
    return (True, yes) if yes >= 0.5 else (False, 1.0 - yes)


def needs_reply(mail: MailView) -> tuple[bool, float]:
    """Whether `mail` needs the user's reply, and the confidence in that answer (0.5-1)."""
    signals = header_signals(mail)
    return needs_reply_with(
        mail, signals=signals, categories=category.probabilities(mail, signals=signals)
    )
