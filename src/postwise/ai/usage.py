"""What remote AI costs each user, per UTC day, provider and model, and the daily budget check.

Only remote requests and cache hits are counted: a local answer costs nothing, and counting it
would add a write per triaged message, all on one row per user and day that concurrent triage
jobs would queue on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.ai.models import AiUsage
from postwise.config import Settings


@dataclass(frozen=True)
class DayUsage:
    day: date
    provider: str
    model: str
    calls: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


def today() -> date:
    return datetime.now(UTC).date()


def cost_usd(settings: Settings, *, prompt_tokens: int, completion_tokens: int) -> float:
    return (
        prompt_tokens * settings.ai_price_input_per_1k
        + completion_tokens * settings.ai_price_output_per_1k
    ) / 1000


async def record(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    provider: str,
    model: str,
    day: date,
    calls: int = 0,
    cache_hits: int = 0,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost: float = 0.0,
) -> None:
    """Add to the user's row for the day (created on first use). One statement, so two
    requests finishing at once both count."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(AiUsage).values(
        user_id=user_id,
        day=day,
        provider=provider,
        model=model[:128],
        calls=calls,
        cache_hits=cache_hits,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=cost,
    )
    new = statement.excluded
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "day", "provider", "model"],
            set_={
                "calls": AiUsage.calls + new.calls,
                "cache_hits": AiUsage.cache_hits + new.cache_hits,
                "prompt_tokens": AiUsage.prompt_tokens + new.prompt_tokens,
                "completion_tokens": AiUsage.completion_tokens + new.completion_tokens,
                "cost_usd": AiUsage.cost_usd + new.cost_usd,
            },
        )
    )


async def spent(db: AsyncSession, user_id: uuid.UUID, *, day: date) -> float:
    total = await db.scalar(
        select(func.coalesce(func.sum(AiUsage.cost_usd), 0.0)).where(
            AiUsage.user_id == user_id, AiUsage.day == day
        )
    )
    return float(total or 0.0)


async def history(
    db: AsyncSession, user_id: uuid.UUID, *, days: int, until: date
) -> list[DayUsage]:
    """The user's rows for the `days` days ending with `until`, newest first."""
    since = until - timedelta(days=max(1, days) - 1)
    rows = await db.scalars(
        select(AiUsage)
        .where(AiUsage.user_id == user_id, AiUsage.day >= since, AiUsage.day <= until)
        .order_by(AiUsage.day.desc(), AiUsage.provider, AiUsage.model)
    )
    return [
        DayUsage(
            day=row.day,
            provider=row.provider,
            model=row.model,
            calls=row.calls,
            cache_hits=row.cache_hits,
            prompt_tokens=row.prompt_tokens,
            completion_tokens=row.completion_tokens,
            cost_usd=row.cost_usd,
        )
        for row in rows
    ]
