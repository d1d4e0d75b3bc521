"""Celery tasks: each loads rows by id and calls a service. Idempotency lives in the database
(claims with conditional UPDATEs), so a task delivered twice does its work once."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from deliveries import delivery, dispatcher, processing, sweeper

logger = logging.getLogger(__name__)


@worker_ready.connect
def start_dispatcher(**kwargs) -> None:
    """Every worker runs an outbox dispatcher thread; SKIP LOCKED keeps them from overlapping."""
    if settings.DISPATCHER_ENABLED:
        dispatcher.start_in_background()


@shared_task(name="deliveries.tasks.process_batch", acks_late=True, time_limit=300, soft_time_limit=240)
def process_batch(incoming_ids: list[str]) -> None:
    for incoming_id in incoming_ids:
        try:
            processing.incoming_process_and_enqueue(incoming_id=incoming_id)
        except Exception:
            # One message's failure must not hold up the rest of the batch; its lease expires
            # and the dispatcher hands it out again.
            logger.exception("processing %s failed", incoming_id)


@shared_task(name="deliveries.tasks.deliver", acks_late=True, time_limit=180, soft_time_limit=150)
def deliver(outgoing_id: str) -> None:
    delivery.outgoing_deliver_and_enqueue(outgoing_id=outgoing_id)


@shared_task(name="deliveries.tasks.sweep", time_limit=120)
def sweep() -> None:
    sweeper.sweep()


@shared_task(name="deliveries.tasks.disable_failing_destinations", time_limit=300)
def disable_failing_destinations() -> None:
    sweeper.disable_failing_destinations()
