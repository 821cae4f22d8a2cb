"""The dev outbox: read the mail Postwise would have sent, in dev only (no SMTP needed)."""

from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import APIRouter, Request, status

from postwise.deps import SettingsDep, StoreDep
from postwise.kit.errors import ProblemError, problem_responses
from postwise.notify.outbox import LIST_LIMIT, DevOutbox
from postwise.notify.schemas import OutboxList

router = APIRouter(prefix="/api/dev", tags=["dev"])
_NOT_DEV: dict[int | str, dict[str, Any]] = {
    404: {**problem_responses(404)[404], "description": "Not running with POSTWISE_ENV=dev."}
}


def _require_dev(settings: SettingsDep, request: Request) -> None:
    # Kept mail holds live verification and reset links: outside dev it must not exist at all,
    # and even in dev only the machine itself may read it (a dev server may be reachable on a
    # network, and these links sign people in).
    peer = request.client.host if request.client else ""
    if not settings.is_dev or not _is_loopback(peer):
        raise ProblemError(404, "not_found")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@router.get(
    "/outbox",
    responses=_NOT_DEV,
)
async def list_outbox(settings: SettingsDep, store: StoreDep, request: Request) -> OutboxList:
    """The mail kept instead of sent (no SMTP host configured), newest first."""
    _require_dev(settings, request)
    return OutboxList(items=await DevOutbox(store).items(limit=LIST_LIMIT))


@router.delete(
    "/outbox",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_NOT_DEV,
)
async def clear_outbox(settings: SettingsDep, store: StoreDep, request: Request) -> None:
    """Forget every kept mail."""
    _require_dev(settings, request)
    await DevOutbox(store).clear()
