from __future__ import annotations

import random

import pytest

from destinations.models import Destination
from destinations.retry import MAX_DELAY_SECONDS, POLICIES, effective_policy, retry_delay


class FixedDraw:
    """An rng whose ``uniform`` always returns the low end, the high end or the middle."""

    def __init__(self, where: str):
        self.where = where

    def uniform(self, low: float, high: float) -> float:
        return {"low": low, "high": high, "middle": (low + high) / 2}[self.where]


def test_the_none_policy_never_retries():
    assert retry_delay("none", 1, 30) is None


def test_the_fixed_policy_waits_the_interval_every_time():
    assert [retry_delay("fixed", n, 60) for n in (1, 2, 10)] == [60, 60, 60]


def test_the_linear_policy_grows_by_the_interval():
    assert [retry_delay("linear", n, 60) for n in (1, 2, 3)] == [60, 120, 180]


def test_the_linear_policy_is_capped_at_a_day():
    assert retry_delay("linear", 50, 86400) == MAX_DELAY_SECONDS


def test_the_exponential_policy_doubles_without_jitter_in_the_middle():
    delays = [retry_delay("exponential", n, 30, rng=FixedDraw("middle")) for n in (1, 2, 3, 4)]

    assert delays == pytest.approx([30, 60, 120, 240])


@pytest.mark.parametrize(("where", "factor"), [("low", 0.8), ("high", 1.2)])
def test_the_exponential_jitter_is_at_most_20_percent(where, factor):
    assert retry_delay("exponential", 3, 30, rng=FixedDraw(where)) == pytest.approx(120 * factor)


def test_exponential_delays_stay_within_the_jitter_bounds():
    rng = random.Random(7)

    for attempt in range(1, 13):
        base = 30 * 2 ** (attempt - 1)
        for _ in range(50):
            assert 0.8 * base <= retry_delay("exponential", attempt, 30, rng=rng) <= 1.2 * base


def test_each_exponential_delay_is_capped_at_a_day_even_for_huge_attempt_numbers():
    assert retry_delay("exponential", 20, 30, rng=FixedDraw("high")) == MAX_DELAY_SECONDS
    assert retry_delay("exponential", 10_000, 86400) == MAX_DELAY_SECONDS


def test_the_default_schedule_sums_to_about_34_hours():
    policy = POLICIES["exponential"]
    middle = sum(
        retry_delay("exponential", n, policy.retry_interval, rng=FixedDraw("middle"))
        for n in range(1, policy.retry_count + 1)
    )
    jittered = sum(
        retry_delay("exponential", n, policy.retry_interval, rng=random.Random(1))
        for n in range(1, policy.retry_count + 1)
    )

    assert (policy.retry_count, policy.retry_interval) == (12, 30)
    assert middle / 3600 == pytest.approx(34.1, abs=0.1)
    assert 0.8 * middle <= jittered <= 1.2 * middle


def test_it_rejects_unknown_policies_and_attempt_numbers_below_one():
    with pytest.raises(ValueError, match="Unknown retry policy"):
        retry_delay("sometimes", 1, 30)
    with pytest.raises(ValueError, match="starts at 1"):
        retry_delay("fixed", 0, 30)


def test_a_destination_without_settings_uses_the_system_default():
    assert effective_policy(Destination()) == ("exponential", 12, 30)


def test_a_policy_fills_only_the_nulls():
    destination = Destination(retry_policy_id="fixed", retry_count=3)

    assert effective_policy(destination) == ("fixed", 3, 60)


def test_explicit_settings_are_kept_even_with_the_default_policy():
    destination = Destination(retry_count=0, retry_interval=10)

    assert effective_policy(destination) == ("exponential", 0, 10)


def test_the_none_policy_has_no_retries_whatever_the_count():
    destination = Destination(retry_policy_id="none", retry_count=5, retry_interval=10)

    assert effective_policy(destination)[:2] == ("none", 0)
