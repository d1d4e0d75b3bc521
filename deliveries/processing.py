"""Turning a committed incoming message into outgoing messages (the ``process`` task's body)."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.events import event_matches
from deliveries.claim import fifo_head
from deliveries.models import IncomingMessage, OutgoingMessage
from deliveries.queue import enqueue_deliver
from destinations.models import Destination
from recipes.hooks import Message, run_recipe
from reporting.rollups import traffic_count

logger = logging.getLogger(__name__)


def _message_of(incoming: IncomingMessage) -> Message:
    return Message(
        body=bytes(incoming.body),
        headers=dict(incoming.headers),
        method=incoming.method,
        event_type=incoming.event_type,
        content_type=incoming.content_type,
        url=incoming.target_url,
    )


def incoming_process(*, incoming_ids: list[str]) -> list[str]:
    """Run each message's input recipe, then create one outgoing message per active destination
    whose event filters match: one transaction for the batch, whose row locks are the claim (a
    worker that dies rolls back, and the dispatcher hands the message out again). Outgoing
    messages are unique per (incoming, destination). Returns the ids of the outgoing messages to
    deliver.

    ``FOR UPDATE`` waits, rather than skipping locked rows: a dispatcher's pass may hold a lock on
    a message it had already dispatched for a moment, and skipping would leave that message
    unprocessed until its dispatch lease expired. A message another worker processed meanwhile no
    longer matches ``received`` once the wait is over. Rows are locked in one order (created, id),
    so two batches never deadlock."""
    now = timezone.now()
    with transaction.atomic():
        incomings = list(
            IncomingMessage.objects.select_for_update(of=("self",))
            .select_related("input__recipe")
            .filter(pk__in=incoming_ids, status=IncomingMessage.Status.RECEIVED)
            .order_by("created", "pk")
        )
        destinations_of: dict[str, list[Destination]] = {}
        outgoing: list[OutgoingMessage] = []
        finished: dict[tuple[str, str], list[str]] = defaultdict(list)
        for incoming in incomings:
            message = _message_of(incoming)
            recipe = incoming.input.recipe
            if recipe is not None and recipe.recipe_published:
                outcome = run_recipe(recipe=recipe, message=message)
                if outcome.failed:
                    finished[(IncomingMessage.Status.RECIPE_FAILED, outcome.error_text)].append(incoming.pk)
                    continue
                if outcome.message is None:
                    finished[(IncomingMessage.Status.SKIPPED, "")].append(incoming.pk)
                    continue
                if outcome.message != message:
                    message = outcome.message
                    IncomingMessage.objects.filter(pk=incoming.pk).update(
                        body=message.body,
                        headers=message.headers,
                        method=message.method,
                        event_type=message.event_type,
                        content_type=message.content_type,
                    )
            if incoming.input_id not in destinations_of:
                destinations_of[incoming.input_id] = list(
                    Destination.objects.filter(
                        Q(input_id=incoming.input_id, feed=Destination.Feed.INPUT)
                        | Q(account_id=incoming.account_id, feed=Destination.Feed.ACCOUNT),
                        status=Destination.Status.ACTIVE,
                    )
                )
            destinations = [
                destination
                for destination in destinations_of[incoming.input_id]
                if event_matches(message.event_type, destination.event_filters)
            ]
            if incoming.target_url:
                # A dynamic input's message goes once to its target URL, with the delivery
                # settings of the input's first matching destination (and to the account's webhooks).
                own = [
                    destination for destination in destinations if destination.feed == Destination.Feed.INPUT
                ]
                destinations = own[:1] + [d for d in destinations if d.feed == Destination.Feed.ACCOUNT]
            outgoing += [
                OutgoingMessage(
                    account_id=incoming.account_id,
                    incoming=incoming,
                    destination=destination,
                    received_at=incoming.created,
                )
                for destination in destinations
            ]
            finished[(IncomingMessage.Status.PROCESSED, "")].append(incoming.pk)
        OutgoingMessage.objects.bulk_create(outgoing, ignore_conflicts=True)
        for (status, error), ids in finished.items():
            IncomingMessage.objects.filter(pk__in=ids).update(
                status=status, error=error, lease_until=None, processed_at=now
            )
        traffic_count(incoming=incomings, outgoing=outgoing)
    return list(
        OutgoingMessage.objects.filter(
            incoming__in=incomings, resent_from__isnull=True, status=OutgoingMessage.Status.PENDING
        )
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
    )


def fifo_heads(*, incoming_ids: list[str]) -> list[str]:
    """The first pending message of each active FIFO destination of these messages' inputs (and
    of their accounts' simple webhooks).

    A FIFO message received after one of these waited for its processing (see
    ``deliveries.claim.deliverable``) and is woken here, whether or not that message
    produced anything for its destination."""
    destination_ids = (
        Destination.objects.filter(
            Q(input__incoming_messages__in=incoming_ids, feed=Destination.Feed.INPUT)
            | Q(
                feed=Destination.Feed.ACCOUNT,
                account__in=IncomingMessage.objects.filter(pk__in=incoming_ids).values("account_id"),
            ),
            delivery_order=Destination.DeliveryOrder.FIFO,
            status=Destination.Status.ACTIVE,
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    return [head for destination_id in destination_ids if (head := fifo_head(destination_id=destination_id))]


def incoming_process_and_enqueue(*, incoming_ids: list[str]) -> None:
    outgoing_ids = incoming_process(incoming_ids=incoming_ids)
    heads = [head for head in fifo_heads(incoming_ids=incoming_ids) if head not in outgoing_ids]
    enqueue_deliver(outgoing_ids + heads)
