"""Recovery on Celery beat: nothing accepted is lost when the broker forgets a task (Redis
flushed or restarted) or a worker dies mid-task. PostgreSQL is the source of truth."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from deliveries.delivery import deliverable, destination_disable_and_alert
from deliveries.models import Attempt, IncomingMessage
from deliveries.queue import enqueue_deliver, enqueue_process
from destinations.models import Destination

logger = logging.getLogger(__name__)
BATCH = 1000


def sweep() -> dict[str, int]:
    """Re-send ``process`` for incoming messages not processed by the deadline (or whose
    worker's claim expired) and ``deliver`` for due outgoing messages whose expected run is
    past the deadline. Duplicates are harmless: every task claims its row first."""
    now = timezone.now()
    deadline = now - timedelta(seconds=settings.SWEEP_AFTER_SECONDS)
    incoming_ids = list(
        IncomingMessage.objects.filter(
            Q(status=IncomingMessage.Status.RECEIVED, created__lt=deadline)
            | Q(status=IncomingMessage.Status.PROCESSING, lease_until__lt=now)
        ).values_list("pk", flat=True)[:BATCH]
    )
    for incoming_id in incoming_ids:
        enqueue_process(incoming_id)
    outgoing_ids = list(
        deliverable(now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=deadline))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    enqueue_deliver(outgoing_ids)
    if incoming_ids or outgoing_ids:
        logger.info("sweep re-enqueued incoming=%d outgoing=%d", len(incoming_ids), len(outgoing_ids))
    return {"incoming": len(incoming_ids), "outgoing": len(outgoing_ids)}


def disable_failing_destinations() -> int:
    """Disable active destinations whose deliveries have all failed for the configured days."""
    since = timezone.now() - timedelta(days=settings.DESTINATION_DISABLE_AFTER_DAYS)
    recent_success = Attempt.objects.filter(
        outgoing__destination_id=OuterRef("pk"), succeeded=True, started_at__gte=since
    )
    failing = Destination.objects.filter(status=Destination.Status.ACTIVE, failing_since__lte=since).exclude(
        Exists(recent_success)
    )
    days = settings.DESTINATION_DISABLE_AFTER_DAYS
    disabled = 0
    for destination in failing:
        destination_disable_and_alert(
            destination=destination, reason=f"Every delivery failed for {days} days."
        )
        disabled += 1
    return disabled
