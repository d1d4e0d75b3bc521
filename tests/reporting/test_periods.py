from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reporting.periods import parse_text_period

NOW = datetime(2026, 3, 31, 15, 30, 45, 123456, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("now", NOW),
        ("today", datetime(2026, 3, 31, tzinfo=UTC)),
        ("yesterday", datetime(2026, 3, 30, tzinfo=UTC)),
        ("tomorrow", datetime(2026, 4, 1, tzinfo=UTC)),
        ("last 24 hours", datetime(2026, 3, 30, 15, 30, 45, 123456, tzinfo=UTC)),
        ("last hour", datetime(2026, 3, 31, 14, 30, 45, 123456, tzinfo=UTC)),
        ("7 days ago", datetime(2026, 3, 24, 15, 30, 45, 123456, tzinfo=UTC)),
        ("1 day ago", datetime(2026, 3, 30, 15, 30, 45, 123456, tzinfo=UTC)),
        ("an hour ago", datetime(2026, 3, 31, 14, 30, 45, 123456, tzinfo=UTC)),
        ("90 minutes ago", datetime(2026, 3, 31, 14, 0, 45, 123456, tzinfo=UTC)),
        ("2 weeks ago", datetime(2026, 3, 17, 15, 30, 45, 123456, tzinfo=UTC)),
        ("1 month ago", datetime(2026, 2, 28, 15, 30, 45, 123456, tzinfo=UTC)),  # day clamped
        ("last 13 months", datetime(2025, 2, 28, 15, 30, 45, 123456, tzinfo=UTC)),
        ("a year ago", datetime(2025, 3, 31, 15, 30, 45, 123456, tzinfo=UTC)),
        ("this hour", datetime(2026, 3, 31, 15, tzinfo=UTC)),
        ("this day", datetime(2026, 3, 31, tzinfo=UTC)),
        ("this week", datetime(2026, 3, 30, tzinfo=UTC)),  # Monday
        ("this month", datetime(2026, 3, 1, tzinfo=UTC)),
        ("this year", datetime(2026, 1, 1, tzinfo=UTC)),
        ("  This   Month ", datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_a_text_period_names_one_instant(text, instant):
    assert parse_text_period(text, now=NOW) == instant


@pytest.mark.parametrize(
    "text",
    ["", "7 days", "days ago", "last", "this fortnight", "999999 years ago", "-3 days ago", "2026-03-01"],
)
def test_anything_else_is_not_a_text_period(text):
    assert parse_text_period(text, now=NOW) is None
