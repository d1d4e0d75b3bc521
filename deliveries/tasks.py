"""Celery tasks: each loads rows by id and calls a service. Idempotency lives in the database
(claims with conditional UPDATEs), so a task delivered twice does its work once."""

from __future__ import annotations

from celery.signals import worker_ready, worker_shutting_down
from django.conf import settings

from core.tasks import batch_or_each, task
from deliveries import delivery, dispatcher, sweeper

_dispatcher_stop = []


@worker_ready.connect
def start_dispatcher(**kwargs) -> None:
    """Every worker runs an outbox dispatcher thread; SKIP LOCKED keeps them from overlapping."""
    if settings.DISPATCHER_ENABLED:
        _dispatcher_stop.append(dispatcher.start_in_background())


@worker_shutting_down.connect
def stop_dispatcher(**kwargs) -> None:
    """A worker shutting down claims nothing more; the chunks it is processing are finished."""
    for stop in _dispatcher_stop:
        stop.set()


@task("deliveries.tasks.deliver", time_limit=180, acks_late=True)
def deliver(outgoing_ids: list[str]) -> None:
    batch_or_each(
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
