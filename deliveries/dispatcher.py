"""The outbox dispatcher: hands committed incoming messages to Celery in batches.

The gateway only inserts the row (a broker publish per request would halve ingest). A thread in
every Celery worker claims batches of unprocessed messages with ``FOR UPDATE SKIP LOCKED`` (so
workers never dispatch the same message), gives each claimed row a dispatch lease, and sends one
``process_batch`` task per chunk. A message whose task is lost (broker flushed, worker killed) is
claimed again when its lease expires: nothing accepted waits on Redis."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import psycopg
from celery import current_app
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from deliveries.models import IncomingMessage

logger = logging.getLogger(__name__)

BATCH_LIMIT = 500
NOTIFY_CHANNEL = "incoming_messages"
CHUNK = 25


def dispatch_batch() -> int:
    """Claim up to BATCH_LIMIT messages needing processing and send their tasks; returns how many."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            IncomingMessage.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=IncomingMessage.Status.RECEIVED, lease_until__isnull=True)
                | Q(
                    status__in=[IncomingMessage.Status.RECEIVED, IncomingMessage.Status.PROCESSING],
                    lease_until__lt=now,
                )
            )
            .order_by("created")
            .values_list("pk", flat=True)[:BATCH_LIMIT]
        )
        if not ids:
            return 0
        # A row whose processing lease expired (its worker died) goes back to "received", so the
        # next ``process`` claims it; the dispatch lease keeps other dispatchers away meanwhile.
        IncomingMessage.objects.filter(pk__in=ids).update(
            status=IncomingMessage.Status.RECEIVED,
            lease_until=now + timedelta(seconds=settings.PROCESSING_LEASE_SECONDS),
        )
    for start in range(0, len(ids), CHUNK):
        current_app.send_task("deliveries.tasks.process_batch", args=[ids[start : start + CHUNK]])
    return len(ids)


def _wake_ups():
    """A generator that returns when new messages may be waiting: on a PostgreSQL NOTIFY from
    the insert trigger (see the ``notify_incoming`` migration), or after DISPATCH_POLL_SECONDS.
    Other databases (the embedded SQLite) just poll."""
    poll = settings.DISPATCH_POLL_SECONDS
    if connection.vendor != "postgresql":
        while True:
            yield
            time.sleep(poll)
    params = connection.settings_dict
    with psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        autocommit=True,
    ) as listener:
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        while True:
            yield
            for _ in listener.notifies(timeout=poll, stop_after=1):
                pass
            # One pass serves every insert so far: drop the notifications queued meanwhile.
            for _ in listener.notifies(timeout=0):
                pass


def run_forever(stop: threading.Event) -> None:
    """The dispatcher loop: dispatch until nothing is left, then wait for a wake-up."""
    while not stop.is_set():
        try:
            for _ in _wake_ups():
                close_old_connections()
                while dispatch_batch() and not stop.is_set():
                    pass
                if stop.is_set():
                    return
        except Exception:
            logger.exception("dispatcher failed; restarting in 1 s")
            stop.wait(1.0)


def start_in_background() -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(stop,), name="outbox-dispatcher", daemon=True).start()
    logger.info("outbox dispatcher started (poll %ss)", settings.DISPATCH_POLL_SECONDS)
    return stop
