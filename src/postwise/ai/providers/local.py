"""The `local` provider: every task answered in this process from libraries and models shipped
in the package. Nothing leaves the machine, and nothing is loaded from a network."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel

from postwise.ai.local import analysis, reply, summary
from postwise.ai.mailview import MailView
from postwise.ai.providers.base import ReplyRequest, TaskSpec

__all__ = ["LocalProvider"]

T = TypeVar("T", bound=BaseModel)

_PIECE_RE = re.compile(r"\s*\S+\s*|\s+")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LocalProvider:
    """Answers in-line: triage takes well under a millisecond or two, so the event loop is not
    worth leaving for it.

    Relative dates in a message ("by Friday") are read from when it was sent, so the same mail
    always gets the same answer (the engine compares a cached answer with a fresh one); the
    clock is only used for mail without a date."""

    name = "local"
    model = "postwise-local-1"

    def __init__(self, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._clock = clock

    def _now(self, mails: Sequence[MailView]) -> datetime:
        dates = [m.sent_at for m in mails if m.sent_at is not None]
        return max(dates) if dates else self._clock()

    async def structured(self, spec: TaskSpec[T], mails: Sequence[MailView]) -> T:
        if not mails:
            raise ValueError("a task needs at least one message")
        result: BaseModel
        if spec.name == "triage":
            # Imported here: the triage models bring scikit-learn and SciPy (about 1 s of CPU
            # to import), which an API process whose jobs run in a worker never needs.
            from postwise.ai.local import triage

            result = triage.triage(mails[-1], now=self._now(mails[-1:]))
        elif spec.name == "thread_summary":
            result = summary.thread_summary(mails, now=self._now(mails))
        elif spec.name == "analysis":
            result = analysis.analyse(mails[-1], now=self._now(mails[-1:]))
        else:
            raise ValueError(f"the local provider has no task named {spec.name!r}")
        return spec.schema.model_validate(result.model_dump())

    async def reply(self, request: ReplyRequest) -> AsyncIterator[str]:
        """The template draft, a word at a time (with the spaces after it), like a stream."""
        for piece in _PIECE_RE.findall(reply.draft_reply(request)):
            yield piece

    async def embed(self, texts: Sequence[str]) -> list[list[float]] | None:
        return None
