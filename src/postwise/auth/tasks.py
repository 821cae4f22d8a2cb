"""Auth jobs: the mail flows whose lookup must not show in response times, and the purge."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import delete, or_

from postwise.auth import account, registration
from postwise.auth.kit import build_auth_kit
from postwise.auth.models import AuthSession, OneTimeToken
from postwise.db import affected_rows, utcnow
from postwise.worker.registry import JobContext, Schedule, job

log = structlog.get_logger(__name__)
# Revoked and expired sessions stay visible this long (for support and audits), then go.
KEEP_ENDED_SESSIONS = timedelta(days=7)


@job("auth.send_password_reset", retries=3)
async def send_password_reset(ctx: JobContext, *, email: str) -> None:
    kit = build_auth_kit(ctx.settings, ctx.store)
    async with ctx.transaction() as db:
        await account.send_reset(db, kit, email=email)


@job("auth.resend_verification", retries=3)
async def resend_verification(ctx: JobContext, *, email: str) -> None:
    kit = build_auth_kit(ctx.settings, ctx.store)
    async with ctx.transaction() as db:
        await registration.resend_verification(db, kit, email=email)


@job("auth.purge_expired", schedule=Schedule(interval=3600))
async def purge_expired(ctx: JobContext) -> dict[str, int]:
    """Delete sessions (with their refresh tokens) and one-time tokens past any use."""
    now = utcnow()
    cutoff = now - KEEP_ENDED_SESSIONS
    async with ctx.transaction() as db:
        sessions = await db.execute(
            delete(AuthSession).where(
                or_(
                    AuthSession.expires_at < cutoff,
                    AuthSession.idle_expires_at < cutoff,
                    AuthSession.revoked_at < cutoff,
                )
            )
        )
        tokens = await db.execute(
            delete(OneTimeToken).where(
                or_(OneTimeToken.expires_at < now, OneTimeToken.used_at.is_not(None))
            )
        )
    counts = {
        "sessions": affected_rows(sessions),
        "tokens": affected_rows(tokens),
    }
    log.info("auth_purged", **counts)
    return counts
