"""Shapes of the assistant's API (`/api/ai/...`)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from postwise.ai.results import Analysis, Category, ThreadSummary, Tone


class TriageProgress(BaseModel):
    total: int = Field(description="Messages that can be triaged (drafts are not).")
    done: int


class AiSettingsOut(BaseModel):
    provider: str = Field(description="`local` (nothing leaves the machine) or `openai`.")
    model: str
    base_url: str | None = Field(description="Where mail is sent when the provider is remote.")
    remote: bool = Field(description="True when mail leaves this machine for the provider.")
    has_own_key: bool
    daily_budget_usd: float
    redact: bool
    important_share: float = Field(description="Target share of the inbox in Important.")
    triage: TriageProgress


class AiSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str | None = Field(default=None, pattern="^(local|openai)$")
    model: str | None = Field(default=None, min_length=1, max_length=128)
    api_key: str | None = Field(
        default=None, max_length=512, description="Your own key; an empty string removes it."
    )
    daily_budget_usd: float | None = Field(default=None, ge=0, le=10_000)
    redact: bool | None = None
    important_share: float | None = Field(default=None, ge=0.02, le=0.8)


class AiTestResult(BaseModel):
    ok: bool
    provider: str
    model: str
    latency_ms: float
    error_code: str | None = None


class UsageDay(BaseModel):
    day: date
    provider: str
    model: str
    calls: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class UsageOut(BaseModel):
    items: list[UsageDay]
    today_cost_usd: float
    daily_budget_usd: float


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: int = Field(ge=1, le=2**63 - 1)
    important: bool | None = Field(default=None, description="Important, or not important.")
    category: Category | None = Field(default=None, description="The right category.")


class FeedbackResult(BaseModel):
    message_id: int
    important: bool
    category: str
    thread_id: uuid.UUID | None


class ThreadSummaryOut(ThreadSummary):
    thread_id: uuid.UUID
    provider: str
    model: str


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: int = Field(ge=1, le=2**63 - 1)


class AnalysisOut(Analysis):
    message_id: int
    provider: str
    model: str


class AiDraftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thread_id: uuid.UUID
    instruction: str | None = Field(
        default=None, max_length=500, description='What to say, e.g. "decline politely".'
    )
    tone: Tone = Tone.NEUTRAL


class CategoryCount(BaseModel):
    category: str
    count: int


class AiOverview(BaseModel):
    """The dashboard's assistant widgets."""

    needs_reply: int = Field(description="Inbox threads whose newest message awaits a reply.")
    important_unread: int
    by_category: list[CategoryCount] = Field(description="Inbox mail of the last 30 days.")
    today_cost_usd: float
    today_calls: int
    provider: str
