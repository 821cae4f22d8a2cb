"""Learned priority, the pure part: a message's features, a global prior, a per-user online
logistic model that corrects the prior from the user's own actions, reasons in plain words, and
the per-user threshold of the Important section. No database here (`ai.learning` is that side).

The model is Gmail Priority Inbox's recipe in small: how the user treats a sender (open, reply,
skip, star, explicit marks) carries most of the signal, header facts and the triage's content
facts the rest, and hashed subject words and sender ids let the per-user part learn what the
counters cannot ("review requested" from the same tool that also sends "build passed").
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from postwise.ai.local.sentences import MAX_TEXT, is_pleasantry
from postwise.ai.local.signals import header_signals
from postwise.ai.mailview import MailView
from postwise.ai.results import Triage

__all__ = [
    "COUNTERS",
    "DEFAULT_THRESHOLD",
    "ENGAGING",
    "FEEDBACK",
    "MAX_THRESHOLD",
    "MIN_THRESHOLD",
    "PriorityModel",
    "SenderFacts",
    "after_action",
    "bucket",
    "features",
    "subject_terms",
    "threshold_for",
]

# Keys under this prefix carry facts the reasons need (a deadline's date) and are not model
# inputs: the interface is one flat dict of floats, and the model skips them.
META = "meta:"
TERM_BUCKETS = 1024
SENDER_BUCKETS = 1024
DOMAIN_BUCKETS = 256
MAX_TERMS = 6

DEFAULT_THRESHOLD = 0.5
# The Important section follows a target share, within bounds: mail the model gives under a
# 30 % chance of being acted on is never Important, however quiet the inbox, and mail over
# 75 % always is, however busy it is (a user who acts on half their mail should see it there).
MIN_THRESHOLD = 0.3
MAX_THRESHOLD = 0.75


# What an action teaches: (important?, weight). Explicit marks weigh most, a reply more than
# an open, a read message archived counts a little against; "ignored" is the implicit signal
# of mail left unread (`learning.learn_from_inaction`), weak since the user may simply be away.
FEEDBACK: dict[str, tuple[bool, float]] = {
    "open": (True, 1.0),
    "reply": (True, 2.0),
    "star": (True, 1.5),
    "important": (True, 3.0),
    "unstar": (False, 1.0),
    "not_important": (False, 3.0),
    "archive_unread": (False, 1.0),
    "delete_unread": (False, 1.5),
    "archive": (False, 0.3),
    "ignored": (False, 0.5),
}
# Which sender counter an action moves, and by how much.
COUNTERS: dict[str, tuple[str, int]] = {
    "open": ("opened", 1),
    "reply": ("replied", 1),
    "star": ("starred", 1),
    "unstar": ("starred", -1),
    "important": ("marked_important", 1),
    "not_important": ("marked_unimportant", 1),
    "archive_unread": ("archived_unread", 1),
    "delete_unread": ("deleted_unread", 1),
}
# Actions that show interest: they reset the sender's recency (a recent archive-unread is
# no sign of interest, so it does not).
ENGAGING = frozenset({"open", "reply", "star", "important"})


@dataclass(frozen=True, slots=True)
class SenderFacts:
    """How this user has treated one sender so far (`ai_sender_stats`)."""

    received: int = 0
    opened: int = 0
    replied: int = 0
    archived_unread: int = 0
    deleted_unread: int = 0
    starred: int = 0
    marked_important: int = 0
    marked_unimportant: int = 0
    days_since_last_action: float | None = None  # since the user last engaged
    name: str = ""

    @property
    def seen(self) -> int:
        """Messages the counters cover: arrivals, or more when mail predates the counting."""
        return max(self.received, self.opened + self.archived_unread + self.deleted_unread)


def after_action(facts: SenderFacts | None, action: str) -> SenderFacts:
    """The facts once `action` is counted (the replay's in-memory twin of `learning`)."""
    facts = facts or SenderFacts()
    values: dict[str, Any] = {}
    if action in COUNTERS:
        counter, delta = COUNTERS[action]
        values[counter] = max(0, getattr(facts, counter) + delta)
    if action in ENGAGING:
        values["days_since_last_action"] = 0.0
    return replace(facts, **values)


# --- features ---------------------------------------------------------------------------------

_RE_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|vs|antw|fwd?|wg|tr)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|sv|antw)\s*(?:\[\d+\])?\s*:", re.I)
_TERM_RE = re.compile(r"[^\W\d_][\w'-]{2,}")
# Words too common in subjects to say anything about one.
_STOP_WORDS = (
    "the and for you your with from this that are our has have was were will can not but all "
    "any out new now get how what when who why its about into more just than then them they "
    "there here their only also over some very week today"
)
_STOP = frozenset(_STOP_WORDS.split())


def _bucket_of(text: str, buckets: int) -> int:
    # crc32, not hash(): Python salts str hashes per process, and the weights must mean the
    # same thing in every worker and after every restart.
    return zlib.crc32(text.encode("utf-8")) % buckets


def subject_terms(subject: str) -> list[str]:
    """The first few distinct content words of the subject, without Re:/Fwd: prefixes."""
    out: list[str] = []
    for word in _TERM_RE.findall(_RE_PREFIX.sub("", subject).lower()):
        if word not in _STOP and word not in out:
            out.append(word)
            if len(out) == MAX_TERMS:
                break
    return out


def _sender_features(out: dict[str, float], stats: SenderFacts | None) -> None:
    if stats is None or (
        stats.seen == 0 and stats.marked_important + stats.marked_unimportant == 0
    ):
        out["new_sender"] = 1.0
        return
    marks = stats.marked_important + stats.marked_unimportant
    if marks:
        # The user said so: their explicit marks replace what their clicks implied (a sender
        # marked important after years of unread newsletters is important now).
        out["marked"] = (stats.marked_important - stats.marked_unimportant) / marks
    else:
        n = stats.seen
        # Smoothed rates (add-one / add-two), so one message is a hint and twenty are a fact.
        # open_rate is centred on 0 (unknown = no pull either way); the others only count up.
        out["open_rate"] = 2.0 * (stats.opened + 1) / (n + 2) - 1.0
        for name, count in (
            ("reply_rate", stats.replied),
            ("skip_rate", stats.archived_unread + stats.deleted_unread),
            ("star_rate", stats.starred),
        ):
            if count:
                out[name] = min(1.0, count / (n + 1))
    if stats.days_since_last_action is not None:
        out["recency"] = math.exp(-max(0.0, stats.days_since_last_action) / 14.0)


def _header_features(out: dict[str, float], mail: MailView) -> None:
    sig = header_signals(mail)
    flags = {
        "bulk": sig.bulk,
        "list": sig.list,
        "automated": sig.automated,
        "noreply": sig.noreply,
        "broadcast_sender": sig.broadcast_sender,
        "calendar": sig.calendar,
        "many_recipients": sig.recipients > 5,
        "attachment": mail.has_attachments,
        "reply_subject": bool(_REPLY_PREFIX.match(mail.subject)),
    }
    if mail.user_addresses:  # without them, "to me" cannot be told from "not to me"
        flags["to_me"] = sig.to_me
        flags["direct"] = sig.direct
        flags["cc_me"] = sig.cc_me
        flags["not_addressed"] = not (sig.to_me or sig.cc_me)
    out.update({name: 1.0 for name, on in flags.items() if on})


# A question: the words since the last sentence end, up to a "?" right after a word.
_SENTENCE_ENDS = ".!?\n"
_QUESTION_LIMIT = 300  # characters of a question, back from its "?"


def _asks_question(mail: MailView) -> bool:
    """A real question in the message's own text ("How are you?" is not one, nor a URL's
    query). Each "?" is looked at with the text back to the previous sentence end: a regular
    expression with a lazy bounded run was tried from every position of the body, 0.35 ms a
    message on the event loop (docs/benchmarks.md, "Performance findings")."""
    body = mail.body[:MAX_TEXT]
    at = body.find("?")
    while at != -1:
        begin = max(max(body.rfind(end, 0, at) for end in _SENTENCE_ENDS) + 1, at - _QUESTION_LIMIT)
        asked = body[begin:at].strip()
        last = body[at - 1 : at]
        if (
            len(asked) >= 3
            and (last.isalnum() or last in "_\")'")
            and " " in asked
            and "://" not in asked
            and not is_pleasantry(asked + "?")
        ):
            return True
        at = body.find("?", at + 1)
    return False


def _content_features(out: dict[str, float], mail: MailView, triage: Triage) -> None:
    out[f"category:{triage.category.value}"] = 1.0
    if triage.needs_reply:
        out["needs_reply"] = max(0.25, triage.needs_reply_confidence)
    if _asks_question(mail):
        out["question"] = 1.0
    dues = sorted(item.due for item in triage.action_items if item.due is not None)
    if dues:
        out["deadline"] = 1.0
        sent = mail.sent_at.date() if mail.sent_at else None
        if sent is not None and dues[0] - sent <= timedelta(days=3):
            out["deadline_soon"] = 1.0
        out[f"{META}due"] = float(dues[0].toordinal())
    elif triage.action_items:
        out["action_item"] = 1.0


def features(
    mail: MailView, *, stats: SenderFacts | None, triage: Triage, user_replied_in_thread: bool
) -> dict[str, float]:
    """The message's features, sparse: a feature that is off is absent."""
    out: dict[str, float] = {}
    _sender_features(out, stats)
    _header_features(out, mail)
    if user_replied_in_thread:
        out["thread_replied"] = 1.0
    _content_features(out, mail, triage)
    terms = subject_terms(mail.subject)
    for term in terms:
        key = f"term:{_bucket_of(term, TERM_BUCKETS)}"
        out[key] = out.get(key, 0.0) + 1.0 / math.sqrt(len(terms))
    address = mail.from_address.lower()
    if address:
        out[f"sender:{_bucket_of(address, SENDER_BUCKETS)}"] = 1.0
        domain = address.rpartition("@")[2]
        out[f"domain:{_bucket_of(domain, DOMAIN_BUCKETS)}"] = 1.0
    return out


# --- the model --------------------------------------------------------------------------------

# The global prior, in logits: what makes sense with no data. Direct mail from people the user
# answers ranks first, then mail in copy, then lists, bulk and no-reply senders; explicit marks
# outweigh everything implicit.
PRIOR_BIAS = -0.6
PRIOR: dict[str, float] = {
    "new_sender": -0.3,
    "open_rate": 1.5,
    "reply_rate": 3.0,
    "skip_rate": -2.5,
    "star_rate": 2.0,
    "marked": 6.0,
    "recency": 0.8,
    "thread_replied": 1.5,
    "reply_subject": 0.4,
    "to_me": 0.6,
    "direct": 0.5,
    "cc_me": -0.3,
    "not_addressed": -0.5,
    "many_recipients": -0.3,
    "bulk": -1.0,
    "list": -0.3,
    "automated": -0.8,
    "noreply": -1.0,
    "broadcast_sender": -0.5,
    "calendar": 0.6,
    "attachment": 0.2,
    "question": 0.6,
    "needs_reply": 0.9,
    "deadline": 0.6,
    "deadline_soon": 0.5,
    "action_item": 0.3,
    "category:personal": 0.6,
    "category:work": 0.4,
    "category:calendar": 0.3,
    "category:newsletter": -0.6,
    "category:notification": -0.4,
    "category:promotion": -1.0,
    "category:receipt": -0.3,
    "category:social": -0.6,
    "category:cold_outreach": -0.8,
}
STATE_VERSION = 1
LEARNING_RATE = 0.3
L2 = 1e-3
# How much teaching (summed action weights) makes the learned part count as much as the prior.
HALF_TRUST = 15.0
_CLIP = 5.0


def _sigmoid(z: float) -> float:
    z = max(-30.0, min(30.0, z))
    return 1.0 / (1.0 + math.exp(-z))


def _inputs(features: Mapping[str, float]) -> dict[str, float]:
    return {k: v for k, v in features.items() if v and not k.startswith(META)}


class PriorityModel:
    """The global prior plus a per-user logistic correction learned online.

    The correction is a logistic regression on the same features trained on top of the prior's
    logit (so it learns what the prior gets wrong for this user, starting from nothing), with
    per-feature AdaGrad steps (rare hashed words and senders move fast, common features
    slowly) and L2 on the touched weights. The score blends prior and corrected model by how
    much the user has taught it, so a handful of actions cannot swing everything.

    Written here rather than with river's LogisticRegression: river keeps its weights and its
    optimiser's state in private attributes (`_weights`, the optimiser's internals), so saving
    it as JSON would mean reaching into internals that change between releases, and pickle is
    ruled out (the state lives in the database, which every process reads: it must not carry
    code). The update is a few lines; the state is plain dicts of floats.
    """

    def __init__(self) -> None:
        self.bias = 0.0
        self.weights: dict[str, float] = {}
        self._g2: dict[str, float] = {}  # AdaGrad's summed squared gradients; "" = the bias
        self.taught = 0.0  # summed action weights
        self.updates = 0

    # -- persistence (JSON-safe, see the class docstring)
    def to_state(self) -> dict[str, Any]:
        # The key space is bounded (fixed features + hashed buckets), so the state is too.
        return {
            "version": STATE_VERSION,
            "bias": round(self.bias, 6),
            "weights": {k: round(v, 6) for k, v in self.weights.items() if abs(v) >= 1e-6},
            "g2": {k: round(v, 6) for k, v in self._g2.items()},
            "taught": round(self.taught, 6),
            "updates": self.updates,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> PriorityModel:
        """The saved model; a fresh one (the prior alone) for an empty or older state."""
        model = cls()
        if not state or state.get("version") != STATE_VERSION:
            return model
        model.bias = float(state.get("bias", 0.0))
        model.weights = {str(k): float(v) for k, v in dict(state.get("weights", {})).items()}
        model._g2 = {str(k): float(v) for k, v in dict(state.get("g2", {})).items()}
        model.taught = float(state.get("taught", 0.0))
        model.updates = int(state.get("updates", 0))
        return model

    # -- scoring
    @property
    def trust(self) -> float:
        """How far the learned part counts (0: the prior alone, towards 1 with teaching)."""
        return self.taught / (self.taught + HALF_TRUST)

    def _logits(self, x: Mapping[str, float]) -> tuple[float, float]:
        prior = PRIOR_BIAS + sum(PRIOR.get(k, 0.0) * v for k, v in x.items())
        learned = self.bias + sum(self.weights.get(k, 0.0) * v for k, v in x.items())
        return prior, prior + learned

    def score(self, features: Mapping[str, float]) -> float:
        prior, full = self._logits(_inputs(features))
        trust = self.trust
        return (1.0 - trust) * _sigmoid(prior) + trust * _sigmoid(full)

    def learn(self, features: Mapping[str, float], *, important: bool, weight: float) -> None:
        """One online step. `weight` counts as that many repeats of the example (the
        importance-aware AdaGrad step of Vowpal Wabbit): a plain AdaGrad step has the same size
        for any gradient scale on a new feature, which would make explicit feedback weigh no
        more than an open."""
        x = _inputs(features)
        _, full = self._logits(x)
        error = _sigmoid(full) - (1.0 if important else 0.0)
        for key, value in (("", 1.0), *x.items()):
            current = self.bias if key == "" else self.weights.get(key, 0.0)
            g = max(-_CLIP, min(_CLIP, error * value + (L2 * current if key else 0.0)))
            g2 = self._g2.get(key, 0.0) + weight * g * g
            self._g2[key] = g2
            step = LEARNING_RATE * weight * g / math.sqrt(g2 + 1e-8)
            if key == "":
                self.bias -= step
            else:
                self.weights[key] = current - step
        self.taught += weight
        self.updates += 1

    def contributions(self, features: Mapping[str, float]) -> dict[str, float]:
        """Each feature's pull on the logit, the learned part counted as far as it is trusted."""
        trust = self.trust
        return {
            k: (PRIOR.get(k, 0.0) + trust * self.weights.get(k, 0.0)) * v
            for k, v in _inputs(features).items()
        }

    def reasons(
        self, features: Mapping[str, float], *, sender_name: str, important: bool | None = None
    ) -> list[str]:
        """The top 1-3 features behind the score, in words: those that pulled up for important
        mail, those that pulled down otherwise (`important` None: the score decides at 0.5)."""
        if important is None:
            important = self.score(features) >= DEFAULT_THRESHOLD
        grouped: dict[str, float] = {}
        for key, pull in self.contributions(features).items():
            group = _group_of(key)
            grouped[group] = grouped.get(group, 0.0) + pull
        sign = 1.0 if important else -1.0
        ranked = sorted(
            (g for g, pull in grouped.items() if pull * sign >= 0.15),
            key=lambda g: -grouped[g] * sign,
        )
        out: list[str] = []
        for group in ranked:
            text = _phrase(group, features, positive=important, name=sender_name)
            if text and text not in out:
                out.append(text)
            if len(out) == 3:
                break
        return out


# --- reasons in words -------------------------------------------------------------------------


def _group_of(key: str) -> str:
    head = key.partition(":")[0]
    if head == "term":
        return "terms"
    if head == "sender":
        # What the model learned about a sender (who has mail, so counters) reads like their
        # open rate; a domain's weight may come from other senders, so it is said apart.
        return "open_rate"
    if key == "deadline_soon":
        return "deadline"
    if key == "direct":
        return "to_me"
    return key


_FIXED: dict[str, tuple[str | None, str | None]] = {
    # feature: (said when it pulls up, said when it pulls down)
    "thread_replied": ("A conversation you took part in", None),
    "reply_subject": ("A reply in a conversation", None),
    "to_me": ("Sent to you directly", None),
    "cc_me": (None, "You are only in Cc"),
    "not_addressed": (None, "Not addressed to you"),
    "many_recipients": (None, "Sent to many people"),
    "bulk": (None, "Sent in bulk"),
    "list": (None, "A mailing list"),
    "automated": (None, "Sent automatically"),
    "noreply": (None, "From a no-reply address"),
    "broadcast_sender": (None, "From a newsletter or marketing address"),
    "calendar": ("An invitation", None),
    "attachment": ("Has an attachment", None),
    "question": ("Asks you a question", None),
    "needs_reply": ("Seems to need your reply", None),
    "action_item": ("Asks you to do something", None),
    "terms": ("Its subject is like mail you act on", "Its subject is like mail you skip"),
    "domain": (
        "You usually read mail from this sender's domain",
        "You usually skip mail from this sender's domain",
    ),
    "category:personal": ("Personal mail", None),
    "category:work": ("Work mail", None),
    "category:calendar": ("An invitation", None),
    "category:newsletter": (None, "A newsletter"),
    "category:notification": (None, "A notification"),
    "category:promotion": (None, "A promotion"),
    "category:receipt": (None, "A receipt"),
    "category:social": (None, "From a social network"),
    "category:cold_outreach": (None, "Unsolicited outreach"),
}


def _phrase(group: str, features: Mapping[str, float], *, positive: bool, name: str) -> str | None:
    who = name.strip() or "this sender"
    value = features.get(group, 0.0)
    if group in _FIXED:
        return _FIXED[group][0 if positive else 1]
    if group in {"reply_rate", "star_rate", "recency"} and not positive:
        return None  # the user answering or starring a sender is never a reason against
    if group == "reply_rate":
        if value >= 0.45:
            return f"You reply to {who} most of the time"
        return f"You often reply to {who}"
    if group == "open_rate":
        return f"You open most mail from {who}" if positive else f"You rarely open mail from {who}"
    if group == "skip_rate":
        often = "usually" if value >= 0.45 else "often"
        return f"You {often} archive or delete mail from {who} without reading it"
    if group == "star_rate":
        return f"You star mail from {who}"
    if group == "marked":
        if (value > 0) != positive:
            return None
        return f"You marked mail from {who} as {'important' if positive else 'not important'}"
    if group == "recency":
        return f"You dealt with {who} recently"
    if group == "new_sender":
        return None if positive else f"First mail from {who}"
    if group == "deadline":
        due = features.get(f"{META}due")
        if due is None:
            return "Has a deadline"
        day = date.fromordinal(int(due))
        return f"Has a deadline: {day:%a} {day.day} {day:%b}"
    return None


# --- the Important section --------------------------------------------------------------------


def bucket(score: float, threshold: float) -> str:
    """high: Important; medium: within reach of it; low: the rest."""
    if score >= threshold:
        return "high"
    if score >= threshold * 0.6:
        return "medium"
    return "low"


def threshold_for(scores: Sequence[float], *, share: float) -> float:
    """The score above which about `share` of these messages lie, within the bounds above."""
    if not scores:
        return DEFAULT_THRESHOLD
    share = min(0.99, max(0.01, share))
    ordered = sorted(scores, reverse=True)
    keep = max(1, round(share * len(ordered)))
    cut = ordered[keep - 1]
    return min(MAX_THRESHOLD, max(MIN_THRESHOLD, cut))
