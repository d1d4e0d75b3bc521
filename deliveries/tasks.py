"""Celery tasks: each loads rows by id and calls a service. Idempotency lives in the database
(claims with conditional UPDATEs), so a task delivered twice does its work once."""

from __future__ import annotations

from celery import shared_task

from deliveries import delivery, processing, sweeper


@shared_task(name="deliveries.tasks.process", acks_late=True, time_limit=120, soft_time_limit=100)
def process(incoming_id: str) -> None:
    processing.incoming_process_and_enqueue(incoming_id=incoming_id)


@shared_task(name="deliveries.tasks.deliver", acks_late=True, time_limit=180, soft_time_limit=150)
def deliver(outgoing_id: str) -> None:
    delivery.outgoing_deliver_and_enqueue(outgoing_id=outgoing_id)


@shared_task(name="deliveries.tasks.sweep", time_limit=120)
def sweep() -> None:
    sweeper.sweep()


@shared_task(name="deliveries.tasks.disable_failing_destinations", time_limit=300)
def disable_failing_destinations() -> None:
    sweeper.disable_failing_destinations()
