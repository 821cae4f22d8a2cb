"""What every remote provider reports: its failures and what a task cost. Kept apart from the
OpenAI client so the engine can name them without importing the `openai` SDK (about 0.5 s of CPU),
which only an instance with a remote provider needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from openai.types import CompletionUsage

ErrorCode = Literal[
    "timeout",
    "connection",
    "rate_limited",
    "server_error",
    "unauthorized",
    "not_found",
    "bad_request",
    "invalid_answer",
]
# The failures that say the server is unavailable (what the circuit breaker counts); the
# others are about one key, one request or one answer.
UNAVAILABLE: frozenset[ErrorCode] = frozenset(
    {"timeout", "connection", "rate_limited", "server_error"}
)


class ProviderError(Exception):
    def __init__(self, code: ErrorCode, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code: ErrorCode = code
        self.detail = detail

    @property
    def server_unavailable(self) -> bool:
        return self.code in UNAVAILABLE


class InvalidAnswerError(ProviderError):
    def __init__(self, detail: str) -> None:
        super().__init__("invalid_answer", detail)


@dataclass
class Usage:
    """What one task cost, over every request it made (retries and the repair included)."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, reported: CompletionUsage | None, *, sent: str, received: str) -> None:
        if reported is not None:
            self.prompt_tokens += reported.prompt_tokens
            self.completion_tokens += reported.completion_tokens
            return
        # Some compatible servers report no usage: about four characters a token, so the
        # budget still holds.
        self.prompt_tokens += len(sent) // 4
        self.completion_tokens += len(received) // 4
