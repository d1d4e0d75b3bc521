"""Retry policies (SPEC §5) as data, and the delay before each retry as a pure function."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from destinations.models import Destination

MAX_DELAY_SECONDS = 24 * 3600
JITTER = 0.2


@dataclass(frozen=True)
class RetryPolicy:
    id: str
    name: str
    description: str
    retry_count: int
    retry_interval: int  # seconds

    @property
    def is_default(self) -> bool:
        return self.id == DEFAULT_POLICY_ID


DEFAULT_POLICY_ID = "exponential"
POLICIES = {
    policy.id: policy
    for policy in (
        RetryPolicy("none", "None", "Failed deliveries are not retried.", 0, 0),
        RetryPolicy("fixed", "Fixed", "Retries every retry_interval seconds.", 5, 60),
        RetryPolicy(
            "linear", "Linear", "The n-th retry waits retry_interval * n seconds (capped at 24 h).", 5, 60
        ),
        RetryPolicy(
            "exponential",
            "Exponential",
            "The n-th retry waits retry_interval * 2^(n-1) seconds, +-20% jitter, capped at 24 h. "
            "The system default: 12 retries from 30 s, about 34 hours in all.",
            12,
            30,
        ),
    )
}


def retry_delay(policy_id: str, attempt_number: int, interval: int, rng=random) -> float | None:
    """Seconds to wait before retry number ``attempt_number`` (1 = the first retry), or None
    for the ``none`` policy. ``rng`` is anything with ``uniform(a, b)``, e.g. a seeded
    ``random.Random``. Raises ``ValueError`` for an unknown policy or a number below 1."""
    if policy_id not in POLICIES:
        raise ValueError(f"Unknown retry policy: {policy_id!r}.")
    if attempt_number < 1:
        raise ValueError("attempt_number starts at 1.")
    if policy_id == "none":
        return None
    if policy_id == "fixed":
        delay = float(interval)
    elif policy_id == "linear":
        delay = float(interval * attempt_number)
    else:
        # The exponent is bounded so huge attempt numbers cannot overflow a float: 2^32 * interval
        # is far past the cap anyway.
        growth = 2 ** min(attempt_number - 1, 32)
        delay = interval * growth * rng.uniform(1 - JITTER, 1 + JITTER)
    return min(delay, MAX_DELAY_SECONDS)


def effective_policy(destination: Destination) -> tuple[str, int, int]:
    """``(policy_id, retry_count, retry_interval)`` of a destination, its nulls filled from
    the policy defaults (the system default policy when it has none)."""
    policy = POLICIES[destination.retry_policy_id or DEFAULT_POLICY_ID]
    if policy.id == "none":
        return policy.id, 0, policy.retry_interval
    retry_count = policy.retry_count if destination.retry_count is None else destination.retry_count
    interval = policy.retry_interval if destination.retry_interval is None else destination.retry_interval
    return policy.id, retry_count, interval
