"""The scheduled backup: into POSTWISE_BACKUP_DIR every POSTWISE_BACKUP_INTERVAL_HOURS, keeping
the newest POSTWISE_BACKUP_KEEP.

The job's own schedule is hourly (a Schedule is fixed at import, the interval is a setting): each
run writes a backup only when the newest one in the folder is at least the interval old, so the
rhythm survives restarts and a changed setting applies at the next hour.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from postwise.backup.manifest import MANIFEST_NAME
from postwise.backup.service import PARTIAL_SUFFIX, BackupError, create_backup
from postwise.config import Settings
from postwise.worker.registry import JobContext, Schedule, job

__all__ = [
    "BACKUP_JOB",
    "backup_name",
    "prune_backups",
    "run_scheduled_backup",
    "scheduled_backups",
]

log = structlog.get_logger(__name__)

BACKUP_JOB = "backup.scheduled"
CHECK_INTERVAL = 3600
_NAME_RE = re.compile(r"postwise-(\d{8}T\d{6}Z)")
_NAME_FORMAT = "%Y%m%dT%H%M%SZ"


def backup_name(when: datetime) -> str:
    return f"postwise-{when.astimezone(UTC).strftime(_NAME_FORMAT)}"


def scheduled_backups(folder: Path) -> list[tuple[datetime, Path]]:
    """The complete backups this job wrote into `folder`, oldest first."""
    found = []
    if not folder.is_dir():
        return []
    for entry in folder.iterdir():
        match = _NAME_RE.fullmatch(entry.name)
        if match and (entry / MANIFEST_NAME).is_file():
            when = datetime.strptime(match.group(1), _NAME_FORMAT).replace(tzinfo=UTC)
            found.append((when, entry))
    return sorted(found)


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest of this job's backups beyond the newest `keep`; returns them."""
    backups = scheduled_backups(folder)
    doomed = [path for _when, path in backups[: max(len(backups) - keep, 0)]]
    for path in doomed:
        shutil.rmtree(path)
    return doomed


def _clear_stale_partials(folder: Path, older_than: timedelta) -> bool:
    """Remove `.partial` folders older than `older_than` (left by a run that crashed); True
    when a younger one is there: a backup another run is writing now."""
    busy = False
    cutoff = time.time() - older_than.total_seconds()
    for entry in folder.glob("postwise-*" + PARTIAL_SUFFIX):
        if entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)
        else:
            busy = True
    return busy


def _due(folder: Path, now: datetime, interval: timedelta) -> bool:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    backups = scheduled_backups(folder)
    # A little slack: a run an hour after the last one, give or take the scheduler's jitter,
    # must not skip a whole hour when the interval is a whole number of hours.
    if backups and now - backups[-1][0] < interval - timedelta(minutes=5):
        return False
    if _clear_stale_partials(folder, older_than=max(interval, timedelta(hours=6))):
        log.warning("backup_skipped", reason="another backup is being written", folder=str(folder))
        return False
    return True


async def run_scheduled_backup(settings: Settings, *, now: datetime | None = None) -> Path | None:
    """Write a backup if one is due, then apply retention; returns the new backup's path.

    Every file operation runs in a thread: in embedded mode this job shares the API's loop."""
    folder = settings.backup_dir
    if folder is None:
        return None
    now = now or datetime.now(UTC)
    interval = timedelta(hours=settings.backup_interval_hours)
    if not await asyncio.to_thread(_due, folder, now, interval):
        return None
    path = folder / backup_name(now)
    manifest = await create_backup(settings, path)
    if manifest.missing_blobs:
        log.warning("backup_missing_blobs", path=str(path), count=len(manifest.missing_blobs))
    # Only after a success: a failing backup never costs one of the good ones.
    removed = await asyncio.to_thread(prune_backups, folder, settings.backup_keep)
    log.info("backup_written", path=str(path), blobs=len(manifest.blobs), pruned=len(removed))
    return path


@job(BACKUP_JOB, schedule=Schedule(interval=CHECK_INTERVAL))
async def scheduled_backup(ctx: JobContext) -> dict[str, object]:
    try:
        path = await run_scheduled_backup(ctx.settings)
    except BackupError as error:
        log.error("backup_failed", error=str(error))
        raise
    await _record_newest(ctx)
    return {"written": None if path is None else str(path)}


async def _record_newest(ctx: JobContext) -> None:
    # postwise_backup_last_success_timestamp_seconds, which the PostwiseBackupStale alert
    # watches: the newest complete backup in the folder, read at every hourly check, so a
    # worker that restarted (or another worker, or the systemd timer writing there) reports
    # its age too, not a zero until its own next backup. None: a process that does not
    # measure, as in most tests.
    folder = ctx.settings.backup_dir
    if ctx.metrics is None or folder is None:
        return
    backups = await asyncio.to_thread(scheduled_backups, folder)
    if backups:
        ctx.metrics.backup_last_success.set(backups[-1][0].timestamp())
