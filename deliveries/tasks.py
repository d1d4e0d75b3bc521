"""Celery tasks: each loads rows by id and calls a service. Idempotency lives in the database
(claims with conditional UPDATEs), so a task delivered twice does its work once."""

from __future__ import annotations

import logging

from celery.signals import worker_ready
from django.conf import settings

from core.tasks import task
from deliveries import delivery, dispatcher, processing, sweeper

logger = logging.getLogger(__name__)


@worker_ready.connect
def start_dispatcher(**kwargs) -> None:
    """Every worker runs an outbox dispatcher thread; SKIP LOCKED keeps them from overlapping."""
    if settings.DISPATCHER_ENABLED:
        dispatcher.start_in_background()


def _batch_or_each(work, ids: list[str], what: str) -> None:
    """Do the work for the batch; if it fails, for each id alone, so that one message's failure
    does not hold up the rest (a failed one's lease expires and it is handed out again)."""
    try:
        work(ids)
        return
    except Exception:
        if len(ids) == 1:
            logger.exception("%s %s failed", what, ids[0])
            return
        logger.exception("%s of a batch of %d failed; trying each alone", what, len(ids))
    for one in ids:
        try:
            work([one])
        except Exception:
            logger.exception("%s %s failed", what, one)


@task("deliveries.tasks.process_batch", time_limit=300, acks_late=True)
def process_batch(incoming_ids: list[str]) -> None:
    _batch_or_each(
        lambda ids: processing.incoming_process_and_deliver(incoming_ids=ids), incoming_ids, "processing"
    )


@task("deliveries.tasks.deliver", time_limit=180, acks_late=True)
def deliver(outgoing_ids: list[str]) -> None:
    _batch_or_each(
        lambda ids: delivery.outgoing_deliver_and_enqueue(outgoing_ids=ids, hand_off=True),
        outgoing_ids,
        "delivering",
    )


@task("deliveries.tasks.sweep", time_limit=120)
def sweep() -> None:
    sweeper.sweep()


@task("deliveries.tasks.disable_failing_destinations", time_limit=300)
def disable_failing_destinations() -> None:
    sweeper.disable_failing_destinations()
