"""Handing deliveries to Celery, always after the rows they refer to are committed (incoming
messages reach Celery through ``deliveries.dispatcher``).

Tasks are sent by name so the pipeline modules and the task module don't import each other.
A lost task costs only time: the sweeper re-sends whatever was not handled by its deadline, so
a broker outage is logged (``robust``) rather than failing a request whose rows are committed."""

from __future__ import annotations

from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.utils import timezone

from deliveries.models import OutgoingMessage

# Longer waits are not parked in the broker (where a restart or flush would lose them): the
# sweeper sends the message when it falls due.
MAX_COUNTDOWN_SECONDS = 300


def enqueue_deliver(outgoing_ids: list[str], *, countdown: float = 0) -> None:
    """Send ``deliver`` for these outgoing messages, ``countdown`` seconds from now.

    ``enqueued_at`` records when each is expected to run, which is what the sweeper checks."""
    if not outgoing_ids:
        return
    due = timezone.now() + timedelta(seconds=countdown)
    OutgoingMessage.objects.filter(pk__in=outgoing_ids).update(enqueued_at=due)
    if countdown > MAX_COUNTDOWN_SECONDS:
        return

    def send() -> None:
        for outgoing_id in outgoing_ids:
            current_app.send_task("deliveries.tasks.deliver", args=[outgoing_id], countdown=countdown or None)

    transaction.on_commit(send, robust=True)
