"""The user's calendar day of an instant, as the database works it out from the CASE that
`postwise.dashboard.calendar` builds, against Python's own answer, every half hour through
windows with the awkward days: clocks going forward and back, a midnight that does not exist,
a 30-minute switch, a quarter-hour offset, and a day a whole country skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import literal, select

from postwise.config import Settings
from postwise.dashboard.calendar import Branch, local_day, parse_timezone, window
from postwise.db import UtcDateTime, create_engine
from postwise.kit.errors import ProblemError

CASES = [
    # (zone, "now", days): each window holds the zone's oddity.
    ("America/New_York", datetime(2026, 3, 10, 12, tzinfo=UTC), 7),  # forward at 02:00
    ("America/New_York", datetime(2026, 11, 3, 12, tzinfo=UTC), 7),  # back at 02:00
    ("Europe/Paris", datetime(2026, 10, 27, 23, 30, tzinfo=UTC), 7),  # back, near midnight
    ("America/Santiago", datetime(2026, 9, 8, 12, tzinfo=UTC), 7),  # midnight skipped
    ("America/Santiago", datetime(2026, 4, 7, 12, tzinfo=UTC), 7),  # midnight twice
    ("Australia/Lord_Howe", datetime(2026, 10, 6, 12, tzinfo=UTC), 7),  # a 30-minute switch
    ("Asia/Kathmandu", datetime(2026, 6, 1, 18, 14, tzinfo=UTC), 7),  # +05:45
    ("Pacific/Apia", datetime(2012, 1, 2, 12, tzinfo=UTC), 7),  # 30 December 2011 skipped
    ("UTC", datetime(2026, 6, 1, 0, 0, tzinfo=UTC), 30),
]


def test_a_window_is_whole_local_days_ending_today() -> None:
    paris = ZoneInfo("Europe/Paris")
    # 23:30 UTC on 27 October is already the 28th in Paris.
    span = window(datetime(2026, 10, 27, 23, 30, tzinfo=UTC), paris, 7)
    assert span.days == [date(2026, 10, d) for d in range(22, 29)]
    assert span.start == datetime(2026, 10, 21, 22, 0, tzinfo=UTC)  # 22 Oct 00:00 CEST
    assert span.end == datetime(2026, 10, 28, 23, 0, tzinfo=UTC)  # 29 Oct 00:00 CET
    # Summer time up to the 25th, the 25th itself (25 hours long), winter time after.
    assert span.branches == [
        Branch(since=datetime(2026, 10, 21, 22, 0, tzinfo=UTC), shift_minutes=120),
        Branch(since=datetime(2026, 10, 24, 22, 0, tzinfo=UTC), day=date(2026, 10, 25)),
        Branch(since=datetime(2026, 10, 25, 23, 0, tzinfo=UTC), shift_minutes=60),
    ]
    assert window(datetime(2026, 6, 1, tzinfo=UTC), ZoneInfo("UTC"), 30).branches == [
        Branch(since=datetime(2026, 5, 3, tzinfo=UTC), shift_minutes=0)
    ]


def test_time_zone_names() -> None:
    assert parse_timezone("Europe/Paris").key == "Europe/Paris"
    assert parse_timezone("UTC").key == "UTC"
    for name in ("", "utc", "Europe", "zone.tab", "posixrules", "/etc/localtime", "../x", "a\0b"):
        with pytest.raises(ProblemError) as refused:
            parse_timezone(name)
        assert (refused.value.status, refused.value.code) == (422, "invalid_timezone")


@pytest.mark.backend
@pytest.mark.parametrize(("zone", "now", "days"), CASES)
async def test_the_database_agrees_with_python(
    settings: Settings, zone: str, now: datetime, days: int
) -> None:
    tz = ZoneInfo(zone)
    span = window(now, tz, days)
    # Every hour and half hour from the first midnight (every switch falls on one), and the
    # last instant before each local midnight.
    instants: list[datetime] = []
    moment = span.start
    while moment < span.end:
        instants.append(moment)
        moment += timedelta(minutes=30)
    instants += [
        datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC) - timedelta(microseconds=1)
        for day in span.days[1:]
    ]
    instants.append(span.end - timedelta(microseconds=1))
    engine = create_engine(settings)
    found: list[date] = []
    try:
        async with engine.connect() as db:
            for chunk in range(0, len(instants), 200):
                part = instants[chunk : chunk + 200]
                columns = [
                    local_day(literal(i, UtcDateTime()), span.branches, engine.dialect.name)
                    for i in part
                ]
                found += list((await db.execute(select(*columns))).one())
    finally:
        await engine.dispose()
    expected = [i.astimezone(tz).date() for i in instants]
    wrong = [(i, f, e) for i, f, e in zip(instants, found, expected, strict=True) if f != e]
    assert not wrong, wrong[:5]
    assert set(expected) <= set(span.days)
