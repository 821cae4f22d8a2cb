"""What each task answers: pydantic schemas shared by every provider (the remote one validates
the model's JSON against them, the local one builds them directly)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class Category(StrEnum):
    PERSONAL = "personal"
    WORK = "work"
    NEWSLETTER = "newsletter"
    NOTIFICATION = "notification"
    PROMOTION = "promotion"
    RECEIPT = "receipt"
    CALENDAR = "calendar"
    SOCIAL = "social"
    COLD_OUTREACH = "cold_outreach"


class ActionItem(BaseModel):
    text: str = Field(max_length=300)
    due: date | None = None


class Triage(BaseModel):
    """Per message, on arrival. Priority is not here: the per-user learner sets it."""

    category: Category
    needs_reply: bool
    needs_reply_confidence: float = Field(ge=0.0, le=1.0)
    summary: str = Field(max_length=300)  # one line
    action_items: list[ActionItem] = Field(default_factory=list, max_length=10)


class ThreadSummary(BaseModel):
    summary: str = Field(max_length=600)
    key_points: list[str] = Field(default_factory=list, max_length=8)
    questions: list[str] = Field(default_factory=list, max_length=8)
    action_items: list[ActionItem] = Field(default_factory=list, max_length=10)


class Entities(BaseModel):
    people: list[str] = Field(default_factory=list)
    organisations: list[str] = Field(default_factory=list)
    dates: list[str] = Field(default_factory=list)
    amounts: list[str] = Field(default_factory=list)


class Analysis(BaseModel):
    intent: Literal[
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
    urgency: Literal["low", "medium", "high"]
    sentiment: Literal["negative", "neutral", "positive"]
    entities: Entities
    questions: list[str] = Field(default_factory=list, max_length=10)
    action_items: list[ActionItem] = Field(default_factory=list, max_length=10)


class Tone(StrEnum):
    NEUTRAL = "neutral"
    FRIENDLY = "friendly"
    FORMAL = "formal"
    BRIEF = "brief"
