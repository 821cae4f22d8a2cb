"""Operator values with units: dates (`after:2024/01/31`), ages (`older_than:6m`) and sizes
(`larger:10M`).

Kept apart from the parser because calendar and unit arithmetic is its own small problem.
Functions return None (or raise ValueError) and leave error codes and positions to the parser,
which knows where the value sits in the query.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from typing import Literal

AgeUnit = Literal["d", "w", "m", "y"]

# ASCII digits only: `\d` would also accept Arabic-Indic and other digits that int() reads but
# no user means as a date.
_DATE = re.compile(r"([0-9]{4})([/-])([0-9]{1,2})\2([0-9]{1,2})")
# Five digits covers any age a mailbox can have; more is a typo, not a request.
_AGE = re.compile(r"([0-9]{1,5})([dwmy])", re.IGNORECASE)
_UNITS: dict[str, AgeUnit] = {"d": "d", "w": "w", "m": "m", "y": "y"}
_SIZE = re.compile(r"([0-9]{1,15})(?:\.([0-9]{1,6}))?\s*([kmg]?)b?", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_day(text: str) -> date | None:
    """YYYY/MM/DD or YYYY-MM-DD (month and day may have one digit, as Gmail allows)."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[3]), int(match[4]))
    except ValueError:
        return None


def parse_age(text: str) -> tuple[int, AgeUnit] | None:
    match = _AGE.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        return None
    return int(match[1]), _UNITS[match[2].lower()]


def age_cutoff(now: datetime, amount: int, unit: AgeUnit) -> datetime:
    """The instant `amount` units before `now`. Raises ValueError before the year 1.

    Months and years are calendar months, as people count them: 1m before March 31 is the last
    day of February, not 30 days earlier.
    """
    try:
        if unit == "d":
            return now - timedelta(days=amount)
        if unit == "w":
            return now - timedelta(weeks=amount)
    except OverflowError as error:
        raise ValueError("before the year 1") from error
    months = amount * 12 if unit == "y" else amount
    index = now.year * 12 + (now.month - 1) - months
    year, month = divmod(index, 12)
    if year < 1:
        raise ValueError("before the year 1")
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def parse_size(text: str) -> int | None:
    """Bytes, or a number with K/KB, M/MB, G/GB (binary multiples, as mail clients show sizes).
    A fraction is allowed with a unit (`1.5M`); bytes are whole."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        return None
    whole, fraction, unit = match[1], match[2], match[3].lower()
    if fraction is not None and not unit:
        return None
    multiplier = _SIZE_UNITS[unit]
    size = int(whole) * multiplier
    if fraction is not None:
        # Integer arithmetic: 1.1M must not become 1153433.6000000001 and round the wrong way.
        size += int(fraction) * multiplier // 10 ** len(fraction)
    return size
