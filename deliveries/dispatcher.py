"""The outbox dispatcher: hands committed incoming messages to processing threads of its worker.

The gateway only inserts the row (a broker publish per request would halve ingest). A thread in
every Celery worker claims batches of unprocessed messages with ``FOR UPDATE SKIP LOCKED`` (so
workers never dispatch the same message), giving each claimed row a dispatch lease in the same
statement, and processes them on the worker's own pool of ``PROCESSING_THREADS``: no broker hop
between a message's commit and its processing. A dispatcher claims only as many chunks as its
worker has free processing threads, so the workers share the load as they poll (or are woken: see
``deliveries.wake``). A message whose
processing is lost (its worker killed mid-processing, which rolls the processing back) is claimed
again when its lease expires: nothing accepted waits on Redis."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from core.db import db_value, model_sql
from core.tasks import batch_or_each
from deliveries import processing
from deliveries.models import IncomingMessage
from deliveries.wake import Wakes

logger = logging.getLogger(__name__)

# Messages processed together, in one transaction, by one processing thread.
CHUNK = 25


# The claim: one statement (one round trip, no transaction around it), run on every poll of every
# worker; ``received`` is a literal so that the planner uses the partial index of unprocessed
# messages.
CLAIM_SQL = (
    "UPDATE {table} SET {lease_until} = %s, {dispatched_at} = %s WHERE {id} IN ("
    "SELECT {id} FROM {table} WHERE {status} = '{received}' AND ({lease_until} IS NULL OR {lease_until} < %s) "
    "ORDER BY {created} LIMIT %s{skip_locked}) RETURNING {id}, {created}"
)


def claim(limit: int) -> list[str]:
    """Claim up to ``limit`` messages needing processing; their ids, oldest first."""
    sql = model_sql(IncomingMessage, CLAIM_SQL, received=IncomingMessage.Status.RECEIVED)
    at = timezone.now()
    now = db_value(IncomingMessage, "lease_until", at)
    lease_until = db_value(
        IncomingMessage, "lease_until", at + timedelta(seconds=settings.PROCESSING_LEASE_SECONDS)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [lease_until, now, now, limit])
        return [pk for pk, _ in sorted(cursor.fetchall(), key=lambda row: (row[1], row[0]))]


def process(incoming_ids: list[str]) -> None:
    """Process a claimed chunk (each message alone if the chunk fails)."""
    batch_or_each(
        lambda ids: processing.incoming_process_and_deliver(incoming_ids=ids), incoming_ids, "processing"
    )


def run_forever(stop: threading.Event, threads: int) -> None:
    """The dispatcher loop: wait for free processing threads, claim a chunk for each, hand the
    chunks over; while nothing is waiting, wait for a wake or the next poll.

    Woken through Redis, not LISTEN/NOTIFY: a NOTIFY in the gateway's transaction serializes
    commits on PostgreSQL's notification queue lock (measured here: 1,090 -> 214 inserts/s with 16
    writers)."""
    wakes = Wakes()
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="processing")
    free = threading.Semaphore(threads)

    def process_freeing(chunk: list[str]) -> None:
        close_old_connections()  # as Celery does around a task
        try:
            process(chunk)
        finally:
            close_old_connections()
            free.release()

    while not stop.is_set():
        if not free.acquire(timeout=1.0):
            continue
        taken = 1
        while taken < threads and free.acquire(blocking=False):
            taken += 1
        ids: list[str] = []
        try:
            close_old_connections()
            # No health check (a SELECT 1 before each claim, which is one statement): a broken
            # connection fails this pass, and the next one replaces it.
            connection.health_check_done = True
            ids = claim(taken * CHUNK)
        except Exception:
            logger.exception("dispatcher pass failed")
            stop.wait(1.0)
        chunks = [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]
        for chunk in chunks:
            pool.submit(process_freeing, chunk)
        for _ in range(taken - len(chunks)):
            free.release()
        if len(ids) < taken * CHUNK:
            wakes.wait(stop)
    pool.shutdown(wait=True)
    wakes.close()
    connection.close()


def start_in_background() -> threading.Event:
    """Start the dispatcher thread; setting the returned event stops it once its chunks are done."""
    stop = threading.Event()
    threads = settings.PROCESSING_THREADS
    threading.Thread(target=run_forever, args=(stop, threads), name="outbox-dispatcher", daemon=True).start()
    logger.info(
        "outbox dispatcher started (poll %ss, %d processing threads)", settings.DISPATCH_POLL_SECONDS, threads
    )
    return stop
