"""Writes on messages: accepting at the gateway, sync relays, resend and retry."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Account
from core.errors import Conflict
from core.group_commit import group_commit
from deliveries.delivery import outgoing_deliver_and_enqueue
from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from deliveries.processing import incoming_process
from deliveries.queue import enqueue_deliver
from deliveries.wake import wake
from destinations.models import Destination
from inputs.models import Input
from reporting.rollups import traffic_count

BULK_RESEND_LIMIT = 10_000


def incoming_accept(
    *,
    input: Input,
    method: str,
    path: str,
    query_string: str,
    headers: dict[str, str],
    body: bytes,
    content_type: str,
    event_type: str,
    source_ip: str | None,
    target_url: str = "",
    status: str = IncomingMessage.Status.RECEIVED,
) -> IncomingMessage:
    """Store a request the gateway accepted: one INSERT, committed when this returns. The
    dispatcher hands ``received`` messages to processing (filtered and unauthenticated ones are
    only logged); a sync message is leased to the gateway, which processes it inline.

    The gateway's hot path: a plain INSERT rather than ``objects.create`` (whose query compiler and
    signals cost more CPU than the rest of the request), grouped with the rows other threads of this
    process insert at the same moment (one statement, one commit; core.group_commit)."""
    now = timezone.now()
    received = status == IncomingMessage.Status.RECEIVED
    sync = received and input.delivery_mode == Input.DeliveryMode.SYNC
    incoming = IncomingMessage(
        account_id=input.account_id,
        bucket_id=input.bucket_id,
        input=input,
        status=status,
        method=method,
        path=path,
        query_string=query_string,
        headers=headers,
        body=body,
        content_type=content_type,
        event_type=event_type,
        source_ip=source_ip,
        target_url=target_url,
        created=now,
        lease_until=now + timedelta(seconds=settings.PROCESSING_LEASE_SECONDS) if sync else None,
        processed_at=None if received else now,
    )
    if received:
        if group_commit(IncomingMessage).insert(incoming):  # counted by processing
            wake()  # once per commit
        return incoming
    with transaction.atomic():  # only logged: counted now
        group_commit(IncomingMessage).insert(incoming)
        traffic_count(incoming=[incoming])
    return incoming


def incoming_relay_sync(*, incoming: IncomingMessage) -> Attempt | None:
    """Sync mode: process the message and make its first delivery attempt inline.

    Returns that attempt (None when nothing was delivered: filtered by destination, dropped by a
    recipe, or no active destination of the input's own; the account's simple webhooks are
    delivered in the background). Retries after a failure continue in the background."""
    outgoing_ids = incoming_process(incoming_ids=[incoming.pk])
    relayed = (
        OutgoingMessage.objects.filter(pk__in=outgoing_ids, destination__feed=Destination.Feed.INPUT)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if relayed is None:
        enqueue_deliver(outgoing_ids)
        return None
    outgoing_deliver_and_enqueue(outgoing_ids=[relayed], read_timeout=settings.SYNC_DELIVERY_TIMEOUT)
    enqueue_deliver([outgoing_id for outgoing_id in outgoing_ids if outgoing_id != relayed])
    return Attempt.objects.filter(outgoing_id=relayed).order_by("-number").first()


@transaction.atomic
def incoming_reprocess(*, incomings: list[IncomingMessage]) -> list[IncomingMessage]:
    """Process again incoming messages that their input recipe failed or skipped (after it was
    fixed): they go back to ``received`` and the dispatcher hands them to processing. Conflict
    for any other message (its outgoing messages are what to resend)."""
    again = [IncomingMessage.Status.RECIPE_FAILED, IncomingMessage.Status.SKIPPED]
    refused = [incoming.pk for incoming in incomings if incoming.status not in again]
    if refused:
        raise Conflict(
            f"Incoming message {refused[0]} was not failed or skipped by an input recipe; "
            "resend its outgoing messages instead."
        )
    ids = [incoming.pk for incoming in incomings]
    IncomingMessage.objects.filter(pk__in=ids, status__in=again).update(
        status=IncomingMessage.Status.RECEIVED, error="", lease_until=None, processed_at=None
    )
    traffic_count(incoming=incomings, sign=-1)  # processing counts them again
    transaction.on_commit(wake)
    return list(IncomingMessage.objects.filter(pk__in=ids).order_by("created", "pk"))


def _refuse_trigger_calls(outgoing_ids: list[str]) -> None:
    """A trigger call (webhooks.triggers) answered its caller once; the pipeline would send it
    again without its registered headers. Triggering it again is the way."""
    calls = OutgoingMessage.objects.filter(pk__in=outgoing_ids, destination__feed=Destination.Feed.TRIGGER)
    if outgoing_ids and calls.exists():
        raise Conflict("A trigger call is neither resent nor retried; trigger it again.")


@transaction.atomic
def outgoing_resend(*, originals: QuerySet[OutgoingMessage] | list[OutgoingMessage]) -> list[OutgoingMessage]:
    """New outgoing messages for the same incoming messages and destinations, linked to the
    originals, delivered from scratch (they join a FIFO queue at its end)."""
    _refuse_trigger_calls([original.pk for original in originals])
    now = timezone.now()
    resends = OutgoingMessage.objects.bulk_create(
        [
            OutgoingMessage(
                account_id=original.account_id,
                incoming_id=original.incoming_id,
                destination_id=original.destination_id,
                resent_from=original,
                received_at=now,
            )
            for original in originals
        ]
    )
    traffic_count(outgoing=resends)
    enqueue_deliver([resend.pk for resend in resends])
    return resends


def outgoing_bulk_resend(
    *,
    account: Account,
    destination_id: str | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[OutgoingMessage]:
    """Resend every outgoing message of the account matching the filter (recovery after an
    outage), oldest first, at most BULK_RESEND_LIMIT at a time. Only the latest message of each
    resend chain counts, so repeating a bulk resend does not deliver twice."""
    originals = OutgoingMessage.objects.filter(account=account, resends__isnull=True).exclude(
        destination__feed=Destination.Feed.TRIGGER
    )
    if destination_id:
        originals = originals.filter(destination_id=destination_id)
    if status:
        originals = originals.filter(status=status)
    if start:
        originals = originals.filter(created__gte=start)
    if end:
        originals = originals.filter(created__lt=end)
    return outgoing_resend(originals=list(originals.order_by("received_at", "pk")[:BULK_RESEND_LIMIT]))


def outgoing_retry(*, outgoing: OutgoingMessage) -> OutgoingMessage:
    """Retry a failed (or still pending) outgoing message now: one more attempt (a failure
    ends it as failed again, its retry schedule having been spent)."""
    _refuse_trigger_calls([outgoing.pk])
    with transaction.atomic():
        # The status condition sits in the UPDATE so a delivery succeeding meanwhile is not redone.
        retried = (
            OutgoingMessage.objects.filter(pk=outgoing.pk)
            .exclude(status=OutgoingMessage.Status.SUCCEEDED)
            .update(
                status=OutgoingMessage.Status.PENDING,
                next_attempt_at=timezone.now(),
                completed_at=None,
                error="",
            )
        )
        if not retried:
            raise Conflict("This message was delivered; resend it instead.")
        enqueue_deliver([outgoing.pk])
    outgoing.refresh_from_db()
    return outgoing
