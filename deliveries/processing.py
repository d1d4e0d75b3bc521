"""Turning a committed incoming message into outgoing messages and delivering them (the
``process_batch`` task's body)."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.db import insert_rows
from core.events import event_matches
from deliveries.claim import fifo_head, give_back
from deliveries.delivery import deliver_prepared, prepare
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


class Processed(NamedTuple):
    incomings: list[IncomingMessage]  # those processed by this call
    outgoing: list[OutgoingMessage]  # new, in queue order, their incoming message and destination loaded
    fifo: set[str]  # the FIFO destinations of the batch's inputs, matched or not

    def count(self) -> None:
        """Count them in the rollups: last in the transaction, since the rollup rows it locks
        are every transaction's of the account."""
        traffic_count(incoming=self.incomings, outgoing=self.outgoing)


def _process(incoming_ids: list[str], *, lease_until=None) -> Processed:
    """Run each message's input recipe, then create one outgoing message per active destination
    whose event filters match, in the caller's transaction, whose row locks are the claim (a
    worker that dies rolls back, and the dispatcher hands the message out again).

    With ``lease_until``, the messages for destinations without FIFO order are born claimed
    (leased until then, attempt 1 counted, as ``deliveries.claim.outgoing_claim`` would): the
    caller delivers them with no claim to make, and the sweeper once the lease has expired.

    ``FOR UPDATE`` waits, rather than skipping locked rows: a dispatcher's pass may hold a lock on
    a message it had already dispatched for a moment, and skipping would leave that message
    unprocessed until its dispatch lease expired. A message another worker processed meanwhile no
    longer matches ``received`` once the wait is over, so it never gets outgoing messages twice.
    Rows are locked in one order (created, id), so two batches never deadlock."""
    now = timezone.now()
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
        if incoming.input_id not in destinations_of:  # before the recipe: see ``fifo`` below
            destinations_of[incoming.input_id] = _destinations_of(incoming)
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
                changed = {
                    "body": message.body,
                    "headers": message.headers,
                    "method": message.method,
                    "event_type": message.event_type,
                    "content_type": message.content_type,
                }
                IncomingMessage.objects.filter(pk=incoming.pk).update(**changed)
                for name, value in changed.items():
                    setattr(incoming, name, value)
        destinations = [
            destination
            for destination in destinations_of[incoming.input_id]
            if event_matches(message.event_type, destination.event_filters)
        ]
        if incoming.target_url:
            # A dynamic input's message goes once to its target URL, with the delivery
            # settings of the input's first matching destination (and to the account's webhooks).
            own = [destination for destination in destinations if destination.feed == Destination.Feed.INPUT]
            destinations = own[:1] + [d for d in destinations if d.feed == Destination.Feed.ACCOUNT]
        for destination in destinations:
            born_claimed = lease_until and destination.delivery_order != Destination.DeliveryOrder.FIFO
            outgoing.append(
                OutgoingMessage(
                    account_id=incoming.account_id,
                    incoming=incoming,
                    destination=destination,
                    received_at=incoming.created,
                    lease_until=lease_until if born_claimed else None,
                    attempt_count=1 if born_claimed else 0,
                )
            )
        finished[(IncomingMessage.Status.PROCESSED, "")].append(incoming.pk)
    # A message processed again (after its input recipe failed or skipped it) keeps any
    # outgoing message it already has.
    outgoing = insert_rows(outgoing, skip_conflicts=True)
    for (status, error), ids in finished.items():
        IncomingMessage.objects.filter(pk__in=ids).update(
            status=status, error=error, lease_until=None, processed_at=now
        )
    # A FIFO queue's head may wait for these messages' processing (deliveries.claim.deliverable),
    # whatever its outcome: a message the input recipe failed or skipped lets it go too.
    fifo = {
        destination.pk
        for destinations in destinations_of.values()
        for destination in destinations
        if destination.delivery_order == Destination.DeliveryOrder.FIFO
    }
    return Processed(incomings, sorted(outgoing, key=lambda message: (message.received_at, message.pk)), fifo)


def _destinations_of(incoming: IncomingMessage) -> list[Destination]:
    """The active destinations an incoming message may go to: its input's, and its account's
    simple webhooks."""
    return list(
        Destination.objects.filter(
            Q(input_id=incoming.input_id, feed=Destination.Feed.INPUT)
            | Q(account_id=incoming.account_id, feed=Destination.Feed.ACCOUNT),
            status=Destination.Status.ACTIVE,
        ).select_related("recipe")
    )


def incoming_process(*, incoming_ids: list[str]) -> list[str]:
    """Process these messages (see ``_process``); returns the ids of the outgoing messages to
    deliver, in queue order."""
    with transaction.atomic():
        processed = _process(incoming_ids)
        processed.count()
    return [message.pk for message in processed.outgoing]


# A process task makes up to this many batches' worth of deliveries itself, with no broker hop in
# between (its destinations at once, see deliveries.send); the rest go out as ``deliver`` tasks,
# for any worker to take.
INLINE_BATCHES = 8


def incoming_process_and_deliver(*, incoming_ids: list[str]) -> None:
    """Process the messages and prepare the delivery of what they produced, born claimed (see
    ``_process``), in one transaction; then make the requests.

    Each FIFO queue of their inputs is woken too: its head may have waited for these messages'
    processing (see ``deliveries.claim.deliverable``), whether or not they produced anything for
    it. The rows are committed before any request; if this worker dies, the sweeper delivers
    them once their lease has expired."""
    inline = INLINE_BATCHES * settings.DELIVERY_BATCH_SIZE
    lease_until = timezone.now() + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    with transaction.atomic():
        processed = _process(incoming_ids, lease_until=lease_until)
        claimed = [message for message in processed.outgoing if message.lease_until]
        if len(claimed) > inline:
            give_back(claimed[inline:])
            enqueue_deliver([message.pk for message in claimed[inline:]])
        heads = [
            head for destination_id in processed.fifo if (head := fifo_head(destination_id=destination_id))
        ]
        to_send, followups = prepare(outgoing_ids=heads, claimed=claimed[:inline])
        processed.count()
    deliver_prepared(to_send, followups, hand_off=True)
