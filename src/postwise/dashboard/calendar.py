"""The user's days: which calendar day a stored UTC instant falls on in their time zone,
computed by the database so a month of mail is counted there, not carried to Python.

Neither SQLite nor PostgreSQL is asked to know the time zone (SQLite knows none, and
PostgreSQL's copy of the zone data may differ from Python's): Python works out, for the window,
the UTC instant of each local midnight, and the query receives a short CASE over those instants.
A run of days with one UTC offset is one branch (the date of the instant shifted by that
offset); a day during which the offset changes (a daylight-saving switch) is a branch of its
own that names the day outright, since its hours straddle two offsets. A 90-day window in a zone
with daylight saving is three to five branches.
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date, case, cast, func, literal, type_coerce
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from postwise.kit.errors import ProblemError

__all__ = ["Branch", "Window", "local_day", "parse_timezone", "window"]


@functools.cache
def _known_zones() -> frozenset[str]:
    # The zone files' names only: ZoneInfo alone also opens stray files of the zone folder
    # (`posixrules`, or `zone.tab`, which then fails to parse).
    return frozenset(zoneinfo.available_timezones())


def parse_timezone(name: str) -> zoneinfo.ZoneInfo:
    """An IANA zone name as a browser reports it (`Europe/Paris`, `UTC`), or 422."""
    if name not in _known_zones():
        raise ProblemError(
            422,
            "invalid_timezone",
            f"`tz` must be an IANA time zone name such as Europe/Paris or UTC, not {name!r}.",
        )
    return zoneinfo.ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class Branch:
    """Instants from `since` (UTC) on fall on the local date of the instant shifted by
    `shift_minutes`, or, when `day` is set, all on that day."""

    since: datetime
    shift_minutes: int = 0
    day: date | None = None


@dataclass(frozen=True, slots=True)
class Window:
    days: list[date]  # oldest first, the last one today
    start: datetime  # the first day's local midnight, in UTC
    end: datetime  # the local midnight after today, in UTC
    branches: list[Branch]  # oldest first, the first one starting at `start`


def _midnight(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    # A midnight skipped by a switch to summer time resolves (fold=0) to the switch instant,
    # which is when that day begins.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _offset_minutes(instant: datetime, tz: zoneinfo.ZoneInfo) -> int:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return int(offset.total_seconds() // 60)


def window(now: datetime, tz: zoneinfo.ZoneInfo, days: int) -> Window:
    today = now.astimezone(tz).date()
    dates = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    bounds = [_midnight(day, tz) for day in [*dates, today + timedelta(days=1)]]
    branches: list[Branch] = []
    for day, begin, end in zip(dates, bounds, bounds[1:], strict=False):
        shift = _offset_minutes(begin, tz)
        if shift != _offset_minutes(end - timedelta(microseconds=1), tz):
            branches.append(Branch(since=begin, day=day))
        elif not branches or branches[-1].day is not None or branches[-1].shift_minutes != shift:
            branches.append(Branch(since=begin, shift_minutes=shift))
    return Window(days=dates, start=bounds[0], end=bounds[-1], branches=branches)


def local_day(
    column: ColumnElement[datetime] | InstrumentedAttribute[datetime],
    branches: list[Branch],
    dialect: str,
) -> ColumnElement[date]:
    """The local date of `column` (a UtcDateTime) for rows inside the window."""

    def shifted(minutes: int) -> ColumnElement[date]:
        if dialect == "sqlite":
            # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC. Whole seconds only: SQLite keeps
            # times in milliseconds, and 23:59:59.9999 would round up into the next day.
            seconds = func.substr(column, 1, 19)
            return type_coerce(func.date(seconds, f"{minutes:+d} minutes"), Date)
        # timestamptz + interval, read as UTC wall time, then its date.
        moved = column + literal(timedelta(minutes=minutes))
        return cast(func.timezone("UTC", moved), Date)

    def value(branch: Branch) -> ColumnElement[date]:
        if branch.day is not None:
            return literal(branch.day, Date)
        return shifted(branch.shift_minutes)

    newest_first = list(reversed(branches))
    if len(newest_first) == 1:
        return value(newest_first[0])
    whens = [(column >= branch.since, value(branch)) for branch in newest_first[:-1]]
    return type_coerce(case(*whens, else_=value(newest_first[-1])), Date)
