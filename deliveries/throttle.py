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
from collections.abc import Collection
from functools import cache

from django.db import connection
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


@cache
def _in_flight_sql(destinations: int) -> str:
    """The count of ``in_flight``: plain SQL, compiled once (the ORM's compilation of this one
    query was 9% of a worker's CPU at 50 messages/s); ``pending`` is a literal so that the
    planner can use the partial index of leased messages."""
    quote = connection.ops.quote_name
    template = (
        "SELECT {destination}, COUNT(DISTINCT {lease}) FROM {table} "
        "WHERE {destination} IN ({ids}) AND {status} = '{pending}' AND {lease} > %s GROUP BY {destination}"
    )
    return template.format(  # names from the model, values as parameters
        table=quote(OutgoingMessage._meta.db_table),
        destination=quote(OutgoingMessage._meta.get_field("destination").column),
        lease=quote("lease_until"),
        status=quote("status"),
        pending=OutgoingMessage.Status.PENDING,
        ids=", ".join(["%s"] * destinations),
    )


def in_flight(*, destination_ids: Collection[str]) -> Counter[str]:
    """Deliveries in flight to each of these destinations, counted from the unexpired leases: a
    claim leases its whole batch with one lease value and sends it one request at a time, so the
    distinct values count the requests. Capped at settings.DESTINATION_MAX_IN_FLIGHT by the
    callers."""
    if not destination_ids:
        return Counter()
    now = OutgoingMessage._meta.get_field("lease_until").get_db_prep_value(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(_in_flight_sql(len(destination_ids)), [*destination_ids, now])
        return Counter(dict(cursor.fetchall()))
