"""Recovery on Celery beat: no outgoing message is lost when the broker forgets a task (Redis
flushed or restarted) or a worker dies mid-task. PostgreSQL is the source of truth."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from deliveries.alerts import destination_disable_and_alert
from deliveries.claim import deliverable
from deliveries.models import Attempt
from deliveries.queue import enqueue_deliver
from destinations.models import Destination

logger = logging.getLogger(__name__)
BATCH = 1000


def sweep() -> int:
    """Re-send ``deliver`` for due outgoing messages whose expected run is past the deadline (a
    task lost with a flushed broker, a worker killed mid-request). Duplicates are harmless: every
    task claims its row first. Incoming messages are the dispatcher's (``deliveries.dispatcher``)."""
    now = timezone.now()
    deadline = now - timedelta(seconds=settings.SWEEP_AFTER_SECONDS)
    outgoing_ids = list(
        deliverable(now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=deadline))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    enqueue_deliver(outgoing_ids)
    if outgoing_ids:
        logger.info("sweep re-enqueued outgoing=%d", len(outgoing_ids))
    return len(outgoing_ids)


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
