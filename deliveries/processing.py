"""Turning a committed incoming message into outgoing messages (the ``process`` task's body)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.events import event_matches
from deliveries.delivery import fifo_head
from deliveries.models import IncomingMessage, OutgoingMessage
from deliveries.queue import enqueue_deliver
from destinations.models import Destination
from recipes.hooks import Message, run_recipe

logger = logging.getLogger(__name__)


def incoming_claim(*, incoming_id: str) -> IncomingMessage | None:
    """Claim an unprocessed incoming message for processing, or None if another worker has it
    (or it is done). An expired claim (a worker that died) can be taken over."""
    now = timezone.now()
    claimed = (
        IncomingMessage.objects.filter(pk=incoming_id)
        .filter(
            Q(status=IncomingMessage.Status.RECEIVED)
            | Q(status=IncomingMessage.Status.PROCESSING, lease_until__lt=now)
        )
        .update(
            status=IncomingMessage.Status.PROCESSING,
            lease_until=now + timedelta(seconds=settings.PROCESSING_LEASE_SECONDS),
        )
    )
    if not claimed:
        return None
    return IncomingMessage.objects.select_related("input__recipe").get(pk=incoming_id)


def _message_of(incoming: IncomingMessage) -> Message:
    return Message(
        body=bytes(incoming.body),
        headers=dict(incoming.headers),
        method=incoming.method,
        event_type=incoming.event_type,
        content_type=incoming.content_type,
        url=incoming.target_url,
    )


def _finish(incoming: IncomingMessage, status: str, error: str = "") -> None:
    IncomingMessage.objects.filter(pk=incoming.pk).update(
        status=status, error=error, lease_until=None, processed_at=timezone.now()
    )


def incoming_process(*, incoming_id: str) -> list[str]:
    """Run the input recipe, then create one outgoing message per active destination whose
    event filters match. Idempotent: outgoing messages are unique per (incoming, destination).
    Returns the ids of the outgoing messages to deliver."""
    incoming = incoming_claim(incoming_id=incoming_id)
    if incoming is None:
        return []
    message = _message_of(incoming)
    recipe = incoming.input.recipe
    if recipe is not None and recipe.recipe_published:
        outcome = run_recipe(recipe=recipe, message=message)
        if outcome.failed:
            _finish(incoming, IncomingMessage.Status.RECIPE_FAILED, outcome.error_text)
            return []
        if outcome.message is None:
            _finish(incoming, IncomingMessage.Status.SKIPPED)
            return []
        message = outcome.message
        if message != _message_of(incoming):
            IncomingMessage.objects.filter(pk=incoming.pk).update(
                body=message.body,
                headers=message.headers,
                method=message.method,
                event_type=message.event_type,
                content_type=message.content_type,
            )
    destinations = [
        destination
        for destination in Destination.objects.filter(
            input_id=incoming.input_id, status=Destination.Status.ACTIVE
        )
        if event_matches(message.event_type, destination.event_filters)
    ]
    if incoming.target_url:
        # A dynamic input's message goes once, to its target URL, with the delivery settings of
        # the input's first matching destination.
        destinations = destinations[:1]
    with transaction.atomic():
        OutgoingMessage.objects.bulk_create(
            [
                OutgoingMessage(
                    account_id=incoming.account_id,
                    incoming=incoming,
                    destination=destination,
                    received_at=incoming.created,
                )
                for destination in destinations
            ],
            ignore_conflicts=True,
        )
        _finish(incoming, IncomingMessage.Status.PROCESSED)
    return list(
        OutgoingMessage.objects.filter(
            incoming=incoming, resent_from__isnull=True, status=OutgoingMessage.Status.PENDING
        ).values_list("pk", flat=True)
    )


def fifo_heads(*, incoming_id: str) -> list[str]:
    """The first pending message of each active FIFO destination of this message's input.

    A FIFO message received after this one waited for its processing (see
    ``deliveries.delivery.deliverable``) and is woken here, whether or not this message
    produced anything for that destination."""
    destination_ids = Destination.objects.filter(
        input__incoming_messages=incoming_id,
        delivery_order=Destination.DeliveryOrder.FIFO,
        status=Destination.Status.ACTIVE,
    ).values_list("pk", flat=True)
    return [head for destination_id in destination_ids if (head := fifo_head(destination_id=destination_id))]


def incoming_process_and_enqueue(*, incoming_id: str) -> None:
    outgoing_ids = incoming_process(incoming_id=incoming_id)
    heads = [head for head in fifo_heads(incoming_id=incoming_id) if head not in outgoing_ids]
    enqueue_deliver(outgoing_ids + heads)
