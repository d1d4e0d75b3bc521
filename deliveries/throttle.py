"""Per-destination throttles, shared by every worker.

- ``rate_wait``: ``rate_limit`` deliveries per second as evenly spaced slots (GCRA: each
  delivery takes the next slot 1/rate after the previous one, as it is made), kept in Redis with
  its clock, so the limit holds across workers and machines.
- ``request_slot``: a cap on the batches sending to one destination at once, as slots in Redis
  that expire (held only while requests are made), so a hanging destination can hold at most
  that many sending threads; ``slow`` tells which destinations have (or lately had) a request
  in flight too long to wait for one of their slots.

Without Redis (the embedded default, one worker process) the same runs in process.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from functools import cache

from django.conf import settings

from core.redis import redis_client

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
# A delivery waits this long at most for a rate-limited destination's slot; one further away is
# retried when it falls due.
RATE_WAIT_SECONDS = 1.0


def rate_wait(*, destination_id: str, rate_limit: int | None) -> float:
    """Seconds until this destination may take another delivery; 0 means the slot is taken now
    (taken as the request is about to be made, so that slots never bunch up)."""
    if not rate_limit:
        return 0.0
    interval = 1.0 / rate_limit
    if redis_client() is not None:
        return float(_script(_GCRA)(keys=[f"rate:{destination_id}"], args=[interval]))
    with _local_lock:
        now = time.monotonic()
        tat = _local_tat.get(destination_id, 0.0)
        if tat > now:
            return tat - now
        _local_tat[destination_id] = max(tat, now) + interval
        return 0.0


# The start of the slot scripts below. Their ARGV begin with: seconds a slot is held at most (a
# worker that dies never frees its own), the cap, SLOW_REQUEST_SECONDS, SLOW_MARK_SECONDS.
# ``slots(key, mark)``: a destination's slots held (the expired dropped); 1 if it is slow (all
# held, and the oldest for SLOW_REQUEST_SECONDS, which marks it, or marked) or 0; and for how many
# seconds the oldest has been held (0 unless all are).
_SLOTS_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local held_for, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local function slots(key, mark)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local taken, slow, age = redis.call('ZCARD', key), 0, 0
  if taken >= cap then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    age = now - (tonumber(oldest[2]) - held_for)
    if age >= tonumber(ARGV[3]) then
      redis.call('SET', mark, '1', 'PX', math.ceil(tonumber(ARGV[4]) * 1000))
      slow = 1
    elseif redis.call('EXISTS', mark) == 1 then
      slow = 1
    end
  end
  return taken, slow, age
end
"""
# KEYS[1]: the destination's slots (token -> expiry), KEYS[2]: its slow mark; ARGV[5]: a token.
# Returns 1 and takes a slot, or, when all are taken, 0 (worth waiting for) or -1 (slow).
_TAKE_SLOT = (
    _SLOTS_LUA
    + """
local taken, slow = slots(KEYS[1], KEYS[2])
if taken >= cap then
  return slow == 1 and -1 or 0
end
redis.call('ZADD', KEYS[1], now + held_for, ARGV[5])
redis.call('EXPIRE', KEYS[1], math.ceil(held_for) + 60)
return 1
"""
)
# KEYS[1]: the destination's slots; ARGV: a token taken, seconds a slot is held at most. Counts it
# as taken now.
_RENEW_SLOT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
"""
# KEYS: destinations' slots, then their slow marks. Returns ``slots`` of each destination, its age
# as a string.
_SLOTS_HELD = (
    _SLOTS_LUA
    + """
local count, held = #KEYS / 2, {}
for index = 1, count do
  local taken, slow, age = slots(KEYS[index], KEYS[count + index])
  held[3 * index - 2], held[3 * index - 1], held[3 * index] = taken, slow, tostring(age)
end
return held
"""
)

# Without Redis: destination -> token -> when taken, and destination -> when its slow mark
# expires (time.monotonic()).
_local_slots: dict[str, dict[str, float]] = defaultdict(dict)
_local_marks: dict[str, float] = {}
# A destination with a request in flight for this long is slow (or hanging): a batch does not
# wait for one of its slots, and its messages are parked until one of its deliveries finishes.
SLOW_REQUEST_SECONDS = 0.5
# ...and stays slow this long while all its slots are held (marked each time it is found slow):
# when its hanging requests end together and as many new ones start, batches do not wait
# SLOW_REQUEST_SECONDS for them again.
SLOW_MARK_SECONDS = 10.0
# A destination whose slots are all held, the oldest for this long (more than a healthy batch holds
# one, renewals included), is full: processing parks its new messages rather than wait for a slot.
FULL_FOR_SECONDS = 0.25
# A healthy destination's slots turn over fast: a batch waits for one this long at most.
SLOT_WAIT_SECONDS = 5.0
# A slot is dated again at most this often (a round trip to Redis per request cost 6% of a batch's
# CPU): its date is that of the request in flight, or up to this much earlier.
RENEW_EVERY_SECONDS = 0.1
# How often a waiter looks again for a slot that another process freed.
SLOT_POLL_SECONDS = 0.025
_slot_freed: dict[str, threading.Condition] = {}


@cache
def _script(source: str):
    return redis_client().register_script(source)


def _slots_args() -> list:
    """The ARGV every slot script begins with (see ``_SLOTS_LUA``)."""
    return [
        settings.DELIVERY_LEASE_SECONDS,
        settings.DESTINATION_MAX_IN_FLIGHT,
        SLOW_REQUEST_SECONDS,
        SLOW_MARK_SECONDS,
    ]


def _local_slow(destination_id: str, slots: dict[str, float], now: float) -> bool:
    """Without Redis, under ``_local_lock``: whether a destination all of whose slots are held is
    slow (see ``_SLOTS_HELD``), marking it."""
    if now - min(slots.values()) >= SLOW_REQUEST_SECONDS:
        _local_marks[destination_id] = now + SLOW_MARK_SECONDS
    return _local_marks.get(destination_id, 0.0) > now


def _take_slot(destination_id: str, token: str) -> tuple[bool, bool]:
    """Take a slot; or, with none free, whether the destination is slow (not worth waiting for)."""
    cap = settings.DESTINATION_MAX_IN_FLIGHT
    if redis_client() is None:
        with _local_lock:
            slots, now = _local_slots[destination_id], time.monotonic()
            if len(slots) < cap:
                slots[token] = now
                return True, False
            return False, _local_slow(destination_id, slots, now)
    keys = [f"in-flight:{destination_id}", f"slow:{destination_id}"]
    taken = _script(_TAKE_SLOT)(keys=keys, args=[*_slots_args(), token])
    return taken == 1, taken == -1


def _freed(destination_id: str) -> threading.Condition:
    """Notified when a thread of this process frees one of the destination's slots (a waiter polls
    for those freed in other processes)."""
    with _local_lock:
        return _slot_freed.setdefault(destination_id, threading.Condition())


def _free_slot(destination_id: str, token: str) -> None:
    if redis_client() is None:
        with _local_lock:
            del _local_slots[destination_id][token]
    else:
        redis_client().zrem(f"in-flight:{destination_id}", token)
    freed = _freed(destination_id)
    with freed:
        freed.notify()


class Slot:
    """A slot taken (``request_slot``): its age is that of the request being made with it."""

    def __init__(self, destination_id: str, token: str) -> None:
        self.destination_id, self.token = destination_id, token
        self.renewed_at = time.monotonic()

    def renew(self) -> None:
        """Another request starts (or the batch waits for its rate): the slot counts as taken now
        (unless it was dated less than RENEW_EVERY_SECONDS ago)."""
        now = time.monotonic()
        if now - self.renewed_at < RENEW_EVERY_SECONDS:
            return
        self.renewed_at = now
        if redis_client() is None:
            with _local_lock:
                _local_slots[self.destination_id][self.token] = now
        else:
            key, args = f"in-flight:{self.destination_id}", [self.token, settings.DELIVERY_LEASE_SECONDS]
            _script(_RENEW_SLOT)(keys=[key], args=args)


@contextmanager
def request_slot(*, destination_id: str) -> Iterator[Slot | None]:
    """One of the destination's DESTINATION_MAX_IN_FLIGHT slots, held while its requests are made
    (cluster-wide with Redis), or None. A healthy destination's requests take milliseconds, so a
    slot is waited for (SLOT_WAIT_SECONDS at most), unless the destination is slow or hanging
    (see ``slow``): it ties up at most that many sending threads."""
    token = uuid.uuid4().hex
    deadline = time.monotonic() + SLOT_WAIT_SECONDS
    freed = _freed(destination_id)
    while True:
        granted, is_slow = _take_slot(destination_id, token)
        if granted or is_slow or time.monotonic() >= deadline:
            break
        with freed:
            freed.wait(timeout=SLOT_POLL_SECONDS)
    try:
        yield Slot(destination_id, token) if granted else None
    finally:
        if granted:
            _free_slot(destination_id, token)


def _held(destination_ids: Collection[str]) -> dict[str, tuple[int, bool, float]]:
    """Of each of these destinations: the slots held, whether it is slow (see ``slow``), and for
    how long the oldest slot has been held if all are (0 otherwise)."""
    destination_ids = sorted(destination_ids)
    if not destination_ids:
        return {}
    cap = settings.DESTINATION_MAX_IN_FLIGHT
    if redis_client() is None:
        with _local_lock:
            now = time.monotonic()
            return {
                destination_id: (
                    (len(slots), _local_slow(destination_id, slots, now), now - min(slots.values()))
                    if len(slots) >= cap
                    else (len(slots), False, 0.0)
                )
                for destination_id, slots in ((d, _local_slots[d]) for d in destination_ids)
            }
    keys = [f"in-flight:{d}" for d in destination_ids] + [f"slow:{d}" for d in destination_ids]
    held = _script(_SLOTS_HELD)(keys=keys, args=_slots_args())
    return {
        destination_id: (int(held[3 * index]), bool(held[3 * index + 1]), float(held[3 * index + 2]))
        for index, destination_id in enumerate(destination_ids)
    }


def in_flight(*, destination_ids: Collection[str]) -> Counter[str]:
    """The slots held (batches sending) of each of these destinations."""
    return Counter(
        {destination_id: count for destination_id, (count, _, _) in _held(destination_ids).items()}
    )


def full(*, destination_ids: Collection[str]) -> set[str]:
    """Those of these destinations whose every slot is held, the oldest for FULL_FOR_SECONDS or
    more, or which are slow: a slot is not worth a processing thread's wait."""
    return {
        destination_id
        for destination_id, (_, is_slow, age) in _held(destination_ids).items()
        if is_slow or age >= FULL_FOR_SECONDS
    }


def slow(*, destination_ids: Collection[str]) -> set[str]:
    """Those of these destinations whose every slot is held, the oldest by a request in flight
    for SLOW_REQUEST_SECONDS or more, or which were found so in the last SLOW_MARK_SECONDS (slow
    or hanging): a slot is not waited for (``request_slot``)."""
    return {destination_id for destination_id, (_, is_slow, _) in _held(destination_ids).items() if is_slow}
