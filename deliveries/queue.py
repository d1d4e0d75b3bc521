"""Handing deliveries to Celery, always after the rows they refer to are committed (incoming
messages reach Celery through ``deliveries.dispatcher``).

Tasks are sent by name so the pipeline modules and the task module don't import each other.
A lost task costs only time: the sweeper re-sends whatever was not handled by its deadline, so
a broker outage is logged (``robust``) rather than failing a request whose rows are committed."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deliveries.models import OutgoingMessage

# Longer waits are not parked in the broker (where a restart or flush would lose them): the
# sweeper sends the message when it falls due.
MAX_COUNTDOWN_SECONDS = 300


def enqueue_deliver(outgoing_ids: list[str], *, countdown: float = 0, mark: bool = True) -> None:
    """Send ``deliver`` for these outgoing messages, ``countdown`` seconds from now: one task per
    DELIVERY_BATCH_SIZE messages of one destination, in the order given.

    ``enqueued_at`` records when each is expected to run (unless not to ``mark`` them), which is
    what the sweeper checks."""
    if not outgoing_ids:
        return
    due = timezone.now() + timedelta(seconds=countdown)
    if mark:
        OutgoingMessage.objects.filter(pk__in=outgoing_ids).update(enqueued_at=due)
    if countdown > MAX_COUNTDOWN_SECONDS:
        return
    destination_of = dict(
        OutgoingMessage.objects.filter(pk__in=outgoing_ids).values_list("pk", "destination_id")
    )
    by_destination: dict[str, list[str]] = defaultdict(list)
    for outgoing_id in dict.fromkeys(outgoing_ids):
        if outgoing_id in destination_of:
            by_destination[destination_of[outgoing_id]].append(outgoing_id)
    size = settings.DELIVERY_BATCH_SIZE
    batches = [
        ids[start : start + size] for ids in by_destination.values() for start in range(0, len(ids), size)
    ]

    def send() -> None:
        for batch in batches:
            current_app.send_task("deliveries.tasks.deliver", args=[batch], countdown=countdown or None)

    transaction.on_commit(send, robust=True)
