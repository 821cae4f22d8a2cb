"""The dev outbox: read the mail Postwise would have sent, in dev only (no SMTP needed)."""

from __future__ import annotations

from fastapi import APIRouter, status

from postwise.deps import SettingsDep, StoreDep
from postwise.kit.errors import Problem, ProblemError
from postwise.notify.outbox import LIST_LIMIT, DevOutbox
from postwise.notify.schemas import OutboxList

router = APIRouter(prefix="/api/dev", tags=["dev"])


def _require_dev(settings: SettingsDep) -> None:
    # Kept mail holds live verification and reset links: outside dev it must not exist at all.
    if not settings.is_dev:
        raise ProblemError(404, "not_found")


@router.get(
    "/outbox",
    responses={404: {"model": Problem, "description": "Not running with POSTWISE_ENV=dev."}},
)
async def list_outbox(settings: SettingsDep, store: StoreDep) -> OutboxList:
    """The mail kept instead of sent (no SMTP host configured), newest first."""
    _require_dev(settings)
    return OutboxList(items=await DevOutbox(store).items(limit=LIST_LIMIT))


@router.delete(
    "/outbox",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"model": Problem, "description": "Not running with POSTWISE_ENV=dev."}},
)
async def clear_outbox(settings: SettingsDep, store: StoreDep) -> None:
    """Forget every kept mail."""
    _require_dev(settings)
    await DevOutbox(store).clear()
