"""Claiming outgoing messages for delivery, and giving the claim back.

A claim is a conditional UPDATE taking a lease longer than the request timeout; it is what
makes delivery at-least-once and never parallel. FIFO queues only ever give out their head."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from core.db import db_value, model_sql, placeholders
from deliveries.models import IncomingMessage, OutgoingMessage
from destinations.models import Destination


def deliverable(now) -> QuerySet[OutgoingMessage]:
    """Pending messages that are due, not leased, and (FIFO) at the head of their destination's queue.

    A FIFO queue's head also waits for earlier incoming messages of its input still being
    processed: their outgoing messages do not exist yet but belong in front of it."""
    earlier_pending = OutgoingMessage.objects.filter(
        destination_id=OuterRef("destination_id"),
        status=OutgoingMessage.Status.PENDING,
    ).filter(
        Q(received_at__lt=OuterRef("received_at"))
        | Q(received_at=OuterRef("received_at"), pk__lt=OuterRef("pk"))
    )
    earlier_unprocessed = IncomingMessage.objects.filter(
        status=IncomingMessage.Status.RECEIVED, created__lte=OuterRef("received_at")
    )
    # A simple webhook's queue (feed "account") takes the messages of every input of its account.
    waits_for_processing = Exists(earlier_unprocessed.filter(input_id=OuterRef("destination__input_id"))) | (
        Q(destination__feed=Destination.Feed.ACCOUNT)
        & Exists(earlier_unprocessed.filter(account_id=OuterRef("account_id")))
    )
    return (
        OutgoingMessage.objects.filter(status=OutgoingMessage.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .exclude(
            Q(destination__delivery_order=Destination.DeliveryOrder.FIFO)
            & (Exists(earlier_pending) | waits_for_processing)
        )
    )


class Claim(NamedTuple):
    claimed: list[OutgoingMessage]  # leased, in queue order, their destination and incoming message loaded
    busy: list[str]  # locked by another transaction as the claim ran: to be tried again


def outgoing_claim(*, outgoing_ids: list[str]) -> Claim:
    """Take the delivery lease of the deliverable messages among these, in queue order.

    The rows are locked by primary key alone (``FOR UPDATE SKIP LOCKED``: a message another
    worker is claiming right now is left to it), then checked: a locked row is read in its
    latest committed version, so two claims never both succeed. Only the primary key is in the
    WHERE so that the planner never walks the pending-messages indexes instead. One claim (one
    lease value) covers the whole batch.

    A row skipped as locked is ``busy``: PostgreSQL keeps the lock a ``SKIP LOCKED`` query took
    on a row that then failed its WHERE (``parked`` looking for messages another wake had just
    enqueued) until that transaction ends, so a message skipped here may be nobody's."""
    now = timezone.now()
    lease_until = now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    with transaction.atomic(savepoint=False):
        locked = list(
            OutgoingMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("destination__recipe", "incoming")
            .filter(pk__in=outgoing_ids)
            .order_by("received_at", "pk")
        )
        claimed = [
            outgoing
            for outgoing in locked
            if outgoing.status == OutgoingMessage.Status.PENDING
            and outgoing.next_attempt_at <= now
            and (outgoing.lease_until is None or outgoing.lease_until < now)
        ]
        fifo = [o.pk for o in claimed if o.destination.delivery_order == Destination.DeliveryOrder.FIFO]
        if fifo:
            heads = set(deliverable(now).filter(pk__in=fifo).values_list("pk", flat=True))
            claimed = [outgoing for outgoing in claimed if outgoing.pk in heads or outgoing.pk not in fifo]
        OutgoingMessage.objects.filter(pk__in=[outgoing.pk for outgoing in claimed]).update(
            lease_until=lease_until, attempt_count=F("attempt_count") + 1
        )
    for outgoing in claimed:
        outgoing.lease_until = lease_until
        outgoing.attempt_count += 1
    seen = {outgoing.pk for outgoing in locked}
    return Claim(
        claimed, [outgoing_id for outgoing_id in dict.fromkeys(outgoing_ids) if outgoing_id not in seen]
    )


RELEASE_SQL = "UPDATE {table} SET {lease_until} = NULL{setting} WHERE {id} IN ({ids})"


def release(outgoings: list[OutgoingMessage], **fields) -> None:
    """End the claim of these messages, setting ``fields`` (field name -> value): plain SQL, run
    for every batch recorded (the ORM's UPDATE was compiled each time)."""
    names = sorted(fields)
    setting = "".join(f", {{{name}}} = %s" for name in names)  # {status} = %s: model_sql quotes the column
    sql = model_sql(
        OutgoingMessage, RELEASE_SQL.replace("{setting}", setting), ids=placeholders(len(outgoings))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                *(db_value(OutgoingMessage, name, fields[name]) for name in names),
                *(outgoing.pk for outgoing in outgoings),
            ],
        )


# ``give_back``'s statement, run for every batch with messages not sent; ``{park}`` is empty or
# clears ``enqueued_at``.
GIVE_BACK_SQL = "UPDATE {table} SET {lease_until} = NULL, {attempt_count} = {attempt_count} - 1{park} WHERE {id} IN ({ids})"


def give_back(outgoings: list[OutgoingMessage], *, park: bool = False) -> None:
    """Undo the claim of messages that were not sent (as if never claimed); with ``park``, they
    also wait for a free in-flight slot (not enqueued) rather than for their deliver task."""
    if not outgoings:
        return
    park_sql = f", {connection.ops.quote_name('enqueued_at')} = NULL" if park else ""
    sql = model_sql(OutgoingMessage, GIVE_BACK_SQL, park=park_sql, ids=placeholders(len(outgoings)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [outgoing.pk for outgoing in outgoings])


def fifo_head(*, destination_id: str) -> str | None:
    """The first pending message of a destination's queue."""
    return (
        OutgoingMessage.objects.filter(destination_id=destination_id, status=OutgoingMessage.Status.PENDING)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )


def next_fifo(outgoing: OutgoingMessage) -> str | None:
    if outgoing.destination.delivery_order != Destination.DeliveryOrder.FIFO:
        return None
    return fifo_head(destination_id=outgoing.destination_id)


# The statement of ``parked``, run for every destination a batch delivered to; ``pending`` is a
# literal so that the planner can use the partial index of pending messages.
PARKED_SQL = (
    "UPDATE {table} SET {enqueued_at} = %s WHERE {id} IN ("
    "SELECT {id} FROM {table} WHERE {destination} = %s AND {status} = '{pending}' "
    "AND {enqueued_at} IS NULL AND {next_attempt_at} <= %s AND ({lease_until} IS NULL OR {lease_until} < %s) "
    "ORDER BY {received_at}, {id} LIMIT %s{skip_locked}) RETURNING {id}, {received_at}"
)


def parked(*, wake: dict[str, int]) -> list[str]:
    """Take the oldest due messages waiting for a free in-flight slot (not enqueued) of each
    destination ``wake`` names, as many as it says (a batch at most): marked enqueued now, one
    statement per destination (no transaction around them; ``SKIP LOCKED``: two deliveries
    finishing at once wake different messages, and never wait on each other). Their ids, oldest
    first, for the caller to enqueue."""
    sql = model_sql(OutgoingMessage, PARKED_SQL, pending=OutgoingMessage.Status.PENDING)
    now = db_value(OutgoingMessage, "next_attempt_at", timezone.now())
    woken: list[tuple] = []
    with connection.cursor() as cursor:
        for destination_id, count in sorted(wake.items()):
            cursor.execute(sql, [now, destination_id, now, now, min(count, settings.DELIVERY_BATCH_SIZE)])
            woken += sorted(cursor.fetchall(), key=lambda row: (row[1], row[0]))
    return [outgoing_id for outgoing_id, _ in woken]
