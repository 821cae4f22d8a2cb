"""Triage of one message on the local provider: category, needs-reply, a one-line summary and
action items, from the header signals, the two shipped models and the extractive summariser.
Runs for every message that arrives, so it stays well under two milliseconds a message."""

from __future__ import annotations

from datetime import datetime

from postwise.ai.local import actions, needs_reply, summary
from postwise.ai.local.category import classify_with, default_model
from postwise.ai.local.needs_reply import needs_reply_with
from postwise.ai.local.signals import header_signals
from postwise.ai.mailview import MailView
from postwise.ai.results import Category, Triage

__all__ = ["triage", "warm_up"]

# Where a request is meant for the user. A newsletter's "sign up today", a receipt's "keep this
# for your records" and a salesperson's "book a call" are not the user's to-dos.
_ACTIONABLE = frozenset(
    {Category.PERSONAL, Category.WORK, Category.NOTIFICATION, Category.CALENDAR}
)
_MAX_ITEMS = 10
_MAX_SUMMARY = 300


def triage(mail: MailView, *, now: datetime) -> Triage:
    """`now` anchors relative due dates ("by Friday"); pass when the message was sent."""
    signals = header_signals(mail)
    category, _, probabilities = classify_with(mail, signals=signals)
    flag, confidence = needs_reply_with(mail, signals=signals, categories=probabilities)
    items = []
    if category in _ACTIONABLE and not signals.from_me:
        items = actions.action_items(mail.body, now=now)[:_MAX_ITEMS]
    return Triage(
        category=category,
        needs_reply=flag,
        needs_reply_confidence=round(confidence, 4),
        summary=summary.one_line(mail)[:_MAX_SUMMARY],
        action_items=items,
    )


def warm_up() -> None:
    """Train both models now (about 0.25 s, once per process) rather than on the first
    message: a process that serves requests can call this in a thread at start."""
    default_model()
    needs_reply.trained_model()
