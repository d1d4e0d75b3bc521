"""Purging the messages older than their account's plan retention (``log_retention_days``).

The rollups are what keeps the history: hour rows are never purged, minute rows (only used by
minute-precision reports) after MINUTE_ROLLUP_DAYS."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Plan
from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from reporting.models import Traffic

logger = logging.getLogger(__name__)
BATCH = 1000
MINUTE_ROLLUP_DAYS = 7


def _expired_ids(plan: Plan, now: datetime, batch: int) -> list[str]:
    """A batch of the plan's incoming messages past retention and finished: nothing received
    and not processed yet, no delivery still pending (its retries outlive a short retention)."""
    pending = OutgoingMessage.objects.filter(incoming=OuterRef("pk"), status=OutgoingMessage.Status.PENDING)
    return list(
        IncomingMessage.objects.filter(
            account__plan=plan, created__lt=now - timedelta(days=plan.log_retention_days)
        )
        .exclude(status=IncomingMessage.Status.RECEIVED)
        .exclude(Exists(pending))
        .order_by()
        .values_list("pk", flat=True)[:batch]
    )


@transaction.atomic
def _delete(incoming_ids: list[str]) -> None:
    """Attempts, outgoing messages (resends included: they share the incoming message) and the
    incoming messages, one DELETE each (no ORM collector loading the rows)."""
    quote = connection.ops.quote_name
    tables = {model: quote(model._meta.db_table) for model in (Attempt, OutgoingMessage, IncomingMessage)}
    ids = ", ".join(["%s"] * len(incoming_ids))
    statements = [
        f"DELETE FROM {tables[Attempt]} WHERE outgoing_id IN "  # noqa: S608 (names from the models)
        f"(SELECT id FROM {tables[OutgoingMessage]} WHERE incoming_id IN ({ids}))",
        f"DELETE FROM {tables[OutgoingMessage]} WHERE incoming_id IN ({ids})",  # noqa: S608
        f"DELETE FROM {tables[IncomingMessage]} WHERE id IN ({ids})",  # noqa: S608
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, incoming_ids)


def messages_purge(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Delete, a batch per transaction, every incoming message older than its account's plan
    retention with its outgoing messages and attempts, then the old minute rollups. Returns the
    number of incoming messages deleted."""
    now = now or timezone.now()
    purged = 0
    for plan in Plan.objects.all():
        while ids := _expired_ids(plan, now, batch):
            _delete(ids)
            purged += len(ids)
            if len(ids) < batch:
                break
    minutes = Traffic.objects.filter(
        precision=Traffic.Precision.MINUTE, period__lt=now - timedelta(days=MINUTE_ROLLUP_DAYS)
    )
    while ids := list(minutes.order_by().values_list("pk", flat=True)[:batch]):
        Traffic.objects.filter(pk__in=ids).delete()
    if purged:
        logger.info("retention purged incoming=%d", purged)
    return purged
