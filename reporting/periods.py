"""Text periods for report and log dates (the sugar.js forms the reference points to), in UTC.

Each names one instant: ``now``; ``today``, ``yesterday``, ``tomorrow`` (midnight);
``this minute|hour|day|week|month|year`` (its start; weeks start on Monday);
``N units ago`` and ``last N units`` (N units before now; ``last hour`` = one hour ago)."""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import datetime, timedelta

UNITS = ("second", "minute", "hour", "day", "week", "month", "year")
_UNIT = r"(?P<unit>second|minute|hour|day|week|month|year)s?"
_AGO = re.compile(rf"(?P<count>\d{{1,6}}|an?|one) {_UNIT} ago")
_LAST = re.compile(rf"last (?:(?P<count>\d{{1,6}}) )?{_UNIT}")
_THIS = re.compile(rf"this {_UNIT}")
_DAYS = {"today": 0, "yesterday": -1, "tomorrow": 1}


def _months_before(at: datetime, months: int) -> datetime:
    index = at.year * 12 + at.month - 1 - months
    year, month = divmod(index, 12)
    return at.replace(year=year, month=month + 1, day=min(at.day, monthrange(year, month + 1)[1]))


def ago(now: datetime, count: int, unit: str) -> datetime:
    if unit == "year":
        return _months_before(now, 12 * count)
    if unit == "month":
        return _months_before(now, count)
    return now - timedelta(**{f"{unit}s": count})


def start_of(at: datetime, unit: str) -> datetime:
    at = at.replace(microsecond=0)
    if unit == "second":
        return at
    at = at.replace(second=0)
    if unit == "minute":
        return at
    at = at.replace(minute=0)
    if unit == "hour":
        return at
    at = at.replace(hour=0)
    if unit == "week":
        return at - timedelta(days=at.weekday())
    if unit == "month":
        return at.replace(day=1)
    if unit == "year":
        return at.replace(month=1, day=1)
    return at  # day


def parse_text_period(text: str, *, now: datetime) -> datetime | None:
    """The instant a text period names, or None when ``text`` is not one."""
    phrase = " ".join(text.lower().split())
    if phrase == "now":
        return now
    if phrase in _DAYS:
        return start_of(now, "day") + timedelta(days=_DAYS[phrase])
    if match := _THIS.fullmatch(phrase):
        return start_of(now, match["unit"])
    match = _AGO.fullmatch(phrase) or _LAST.fullmatch(phrase)
    if match:
        count = match["count"]
        try:
            return ago(now, int(count) if count and count.isdigit() else 1, match["unit"])
        except (OverflowError, ValueError):
            return None
    return None
