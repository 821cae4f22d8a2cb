"""The one interface every provider speaks: a structured result validated against a pydantic
schema, streamed text (reply drafts), and optional embeddings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

from postwise.ai.mailview import MailView
from postwise.ai.results import Tone

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class TaskSpec(Generic[T]):
    """A structured task. `version` changes whenever `instructions` or the schema do: it is part
    of the cache key, so old answers are not served for a new question."""

    name: str  # "triage", "thread_summary", "analysis"
    schema: type[T]
    version: int
    instructions: str  # the system prompt for a language model


@dataclass(frozen=True)
class Style:
    """How the user writes, learned from their sent mail (`ai.local.style.learn_style`)."""

    name: str = ""  # how they sign
    greeting: str | None = None  # e.g. "Hi {name},"; {name} is the recipient's first name
    sign_off: str | None = None  # e.g. "Best,"
    median_words: int = 60


@dataclass(frozen=True)
class ReplyRequest:
    thread: Sequence[MailView]  # oldest first; the last one is the message being answered
    tone: Tone
    instruction: str | None
    style: Style


class Provider(Protocol):
    name: str  # "local" | "openai"
    model: str

    async def structured(self, spec: TaskSpec[T], mails: Sequence[MailView]) -> T:
        """Answer `spec` about `mails` (one message, or a thread oldest first)."""
        ...

    def reply(self, request: ReplyRequest) -> AsyncIterator[str]:
        """A reply draft's text, in pieces as they are written."""
        ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]] | None:
        """Vectors for `texts`, or None when the provider has none."""
        ...
