"""Jobs of the sync engine."""

from __future__ import annotations

from postwise.events import SYNC_WAKE_JOB
from postwise.sync import control
from postwise.worker.registry import JobContext, job


@job(SYNC_WAKE_JOB)
async def wake(ctx: JobContext, *, account_id: str) -> None:
    """Tell whichever supervisor holds (or may take) this mailbox to look at it now."""
    await control.wake(ctx.store, account_id)
