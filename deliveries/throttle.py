"""Per-destination throttles, shared by every worker.

- ``rate_wait``: ``rate_limit`` deliveries per second as evenly spaced slots (GCRA: each
  delivery takes the next slot 1/rate after the previous one), kept in Redis with its clock, so
  the limit holds across workers and machines. Without Redis (the embedded default, one worker
  process) the same algorithm runs in process.
- ``in_flight``: for a cap on deliveries in flight to one destination, counted from the
  leases in PostgreSQL, so a hanging destination can hold at most that many worker threads.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable
from functools import cache

from django.db.models import Count
from django.utils import timezone

from core.redis import redis_client
from deliveries.models import OutgoingMessage

# KEYS[1]: the destination's theoretical arrival time; ARGV[1]: seconds per delivery.
# Returns "0" and takes the slot, or the seconds to wait for the next free one.
_GCRA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat > now then
  return tostring(tat - now)
end
redis.call('SET', KEYS[1], tostring(math.max(tat, now) + interval), 'PX', math.ceil(interval * 1000) + 1000)
return '0'
"""

_local_lock = threading.Lock()
_local_tat: dict[str, float] = {}


@cache
def _gcra():
    return redis_client().register_script(_GCRA)


def rate_wait(*, destination_id: str, rate_limit: int | None) -> float:
    """Seconds until this destination may take another delivery; 0 means the slot is taken now."""
    if not rate_limit:
        return 0.0
    interval = 1.0 / rate_limit
    if redis_client() is not None:
        return float(_gcra()(keys=[f"rate:{destination_id}"], args=[interval]))
    with _local_lock:
        now = time.monotonic()
        tat = _local_tat.get(destination_id, 0.0)
        if tat > now:
            return tat - now
        _local_tat[destination_id] = max(tat, now) + interval
        return 0.0


def in_flight(*, destination_ids: Iterable[str]) -> Counter[str]:
    """Deliveries in flight to each of these destinations, counted from the unexpired leases: a
    claim leases its whole batch with one lease value and sends it one request at a time, so the
    distinct values count the requests. Capped at settings.DESTINATION_MAX_IN_FLIGHT by the
    callers."""
    return Counter(
        dict(
            OutgoingMessage.objects.filter(
                destination_id__in=list(destination_ids),
                status=OutgoingMessage.Status.PENDING,
                lease_until__gt=timezone.now(),
            )
            .values("destination_id")
            .annotate(requests=Count("lease_until", distinct=True))
            .values_list("destination_id", "requests")
        )
    )
