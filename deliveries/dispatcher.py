"""The outbox dispatcher: hands committed incoming messages to Celery in batches.

The gateway only inserts the row (a broker publish per request would halve ingest). A thread in
every Celery worker claims batches of unprocessed messages with ``FOR UPDATE SKIP LOCKED`` (so
workers never dispatch the same message), giving each claimed row a dispatch lease in the same
statement, and sends one ``process_batch`` task per chunk. A message whose task is lost (broker
flushed, worker killed mid-processing, which rolls its processing back) is claimed again when its
lease expires: nothing accepted waits on Redis."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from core.db import db_value, model_sql
from deliveries.models import IncomingMessage

logger = logging.getLogger(__name__)

BATCH_LIMIT = 500
CHUNK = 25


# The claim: one statement (one round trip, no transaction around it), run on every poll of every
# worker; ``received`` is a literal so that the planner uses the partial index of unprocessed
# messages.
CLAIM_SQL = (
    "UPDATE {table} SET {lease_until} = %s, {dispatched_at} = %s WHERE {id} IN ("
    "SELECT {id} FROM {table} WHERE {status} = '{received}' AND ({lease_until} IS NULL OR {lease_until} < %s) "
    "ORDER BY {created} LIMIT %s{skip_locked}) RETURNING {id}, {created}"
)


def dispatch_batch() -> int:
    """Claim up to BATCH_LIMIT messages needing processing and send their tasks; returns how many."""
    sql = model_sql(IncomingMessage, CLAIM_SQL, received=IncomingMessage.Status.RECEIVED)
    at = timezone.now()
    now = db_value(IncomingMessage, "lease_until", at)
    lease_until = db_value(
        IncomingMessage, "lease_until", at + timedelta(seconds=settings.PROCESSING_LEASE_SECONDS)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [lease_until, now, now, BATCH_LIMIT])
        ids = [pk for pk, _ in sorted(cursor.fetchall(), key=lambda row: (row[1], row[0]))]
    for start in range(0, len(ids), CHUNK):
        current_app.send_task("deliveries.tasks.process_batch", args=[ids[start : start + CHUNK]])
    return len(ids)


def run_forever(stop: threading.Event) -> None:
    """The dispatcher loop: dispatch until nothing is left, then poll every DISPATCH_POLL_SECONDS.

    Polling, not LISTEN/NOTIFY: a NOTIFY in the gateway's transaction serializes commits on
    PostgreSQL's notification queue lock (measured here: 1,090 -> 214 inserts/s with 16 writers),
    while an idle poll is one index lookup."""
    while not stop.is_set():
        try:
            close_old_connections()
            while dispatch_batch() and not stop.is_set():
                pass
        except Exception:
            logger.exception("dispatcher pass failed")
            stop.wait(1.0)
        stop.wait(settings.DISPATCH_POLL_SECONDS)


def start_in_background() -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(stop,), name="outbox-dispatcher", daemon=True).start()
    logger.info("outbox dispatcher started (poll %ss)", settings.DISPATCH_POLL_SECONDS)
    return stop
