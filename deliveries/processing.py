"""Turning a committed incoming message into outgoing messages and delivering them (what a
dispatcher's processing thread does with a chunk, see ``deliveries.dispatcher``)."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from core.db import db_value, insert_rows, model_sql, placeholders
from core.events import event_matches
from deliveries import throttle
from deliveries.claim import fifo_head, give_back
from deliveries.delivery import deliver_prepared, prepare
from deliveries.models import IncomingMessage, OutgoingMessage
from deliveries.outcome import Next
from deliveries.queue import enqueue_deliver
from destinations.models import Destination
from inputs.models import Input
from recipes.hooks import Message, run_recipe
from recipes.models import Recipe
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
    # Those of the batch's inputs' destinations not worth a slot's wait (with ``lease_until``, below).
    full: set[str] | None

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
    caller delivers them with no claim to make, and the sweeper once the lease has expired. Those
    for a destination whose in-flight slots are all held, for a while (``deliveries.throttle.full``:
    busy, or starting to hang) are born parked instead (neither claimed nor enqueued, as
    ``give_back(park=True)`` leaves them), for its next finished delivery to wake: processing does
    not wait for such a slot, which would hold its thread while a destination starts to hang.

    ``FOR UPDATE`` waits, rather than skipping locked rows: a dispatcher's pass may hold a lock on
    a message it had already dispatched for a moment, and skipping would leave that message
    unprocessed until its dispatch lease expired. A message another worker processed meanwhile no
    longer matches ``received`` once the wait is over, so it never gets outgoing messages twice.
    Rows are locked in one order (created, id), so two batches never deadlock."""
    now = timezone.now()
    incomings = list(
        IncomingMessage.objects.raw(
            model_sql(
                IncomingMessage,
                INCOMING_SQL,
                ids=placeholders(len(incoming_ids)),
                received=IncomingMessage.Status.RECEIVED,
            ),
            incoming_ids,
        )
    )
    recipe_of = _input_recipes({incoming.input_id for incoming in incomings})
    destinations_of: dict[str, list[Destination]] = {}
    outgoing: list[OutgoingMessage] = []
    finished: dict[tuple[str, str], list[str]] = defaultdict(list)
    for incoming in incomings:
        if incoming.input_id not in destinations_of:  # before the recipe: see ``fifo`` below
            destinations_of[incoming.input_id] = _destinations_of(incoming)
        message = _message_of(incoming)
        recipe = recipe_of.get(incoming.input_id)
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
    full = None
    if lease_until:
        full = throttle.full(destination_ids={d.pk for ds in destinations_of.values() for d in ds})
        for message in outgoing:
            if message.destination.delivery_order == Destination.DeliveryOrder.FIFO:
                continue
            if message.destination_id in full:
                message.enqueued_at = None
            else:
                message.lease_until, message.attempt_count = lease_until, 1
    # A message processed again (after its input recipe failed or skipped it) keeps any
    # outgoing message it already has.
    outgoing = insert_rows(outgoing, skip_conflicts=True)
    processed_at = db_value(IncomingMessage, "processed_at", now)
    with connection.cursor() as cursor:
        for (status, error), ids in finished.items():
            sql = model_sql(IncomingMessage, PROCESSED_SQL, ids=placeholders(len(ids)))
            cursor.execute(sql, [status, error, processed_at, *ids])
    # A FIFO queue's head may wait for these messages' processing (deliveries.claim.deliverable),
    # whatever its outcome: a message the input recipe failed or skipped lets it go too.
    fifo = {
        destination.pk
        for destinations in destinations_of.values()
        for destination in destinations
        if destination.delivery_order == Destination.DeliveryOrder.FIFO
    }
    queue = sorted(outgoing, key=lambda message: (message.received_at, message.pk))
    return Processed(incomings, queue, fifo, full)


# The statements of every chunk, as plain SQL (see core.db.model_sql). The messages are locked in one
# order, so two chunks never deadlock.
INCOMING_SQL = "SELECT * FROM {table} WHERE {id} IN ({ids}) AND {status} = '{received}' ORDER BY {created}, {id}{for_update}"
INPUT_RECIPES_SQL = (
    "SELECT {table}.*, {inputs}.{input_id} AS for_input FROM {table} JOIN {inputs} "
    "ON {inputs}.{input_recipe} = {table}.{id} WHERE {inputs}.{input_id} IN ({ids})"
)
PROCESSED_SQL = "UPDATE {table} SET {status} = %s, {error} = %s, {lease_until} = NULL, {processed_at} = %s WHERE {id} IN ({ids})"
DESTINATIONS_SQL = (
    "SELECT * FROM {table} WHERE {status} = '{active}' "
    "AND (({input} = %s AND {feed} = '{input_feed}') OR ({account} = %s AND {feed} = '{account_feed}'))"
)


def _input_recipes(input_ids: set[str]) -> dict[str, Recipe]:
    """The recipe of each of these inputs that has one."""
    if not input_ids:
        return {}
    quote = connection.ops.quote_name
    sql = model_sql(
        Recipe,
        INPUT_RECIPES_SQL,
        inputs=quote(Input._meta.db_table),
        input_id=quote(Input._meta.pk.column),
        input_recipe=quote(Input._meta.get_field("recipe").column),
        ids=placeholders(len(input_ids)),
    )
    return {recipe.for_input: recipe for recipe in Recipe.objects.raw(sql, sorted(input_ids))}


def _destinations_of(incoming: IncomingMessage) -> list[Destination]:
    """The active destinations an incoming message may go to: its input's, and its account's
    simple webhooks; with their recipes."""
    sql = model_sql(
        Destination,
        DESTINATIONS_SQL,
        active=Destination.Status.ACTIVE,
        input_feed=Destination.Feed.INPUT,
        account_feed=Destination.Feed.ACCOUNT,
    )
    destinations = list(Destination.objects.raw(sql, [incoming.input_id, incoming.account_id]))
    prefetch_related_objects([destination for destination in destinations if destination.recipe_id], "recipe")
    return destinations


def incoming_process(*, incoming_ids: list[str]) -> list[str]:
    """Process these messages (see ``_process``); returns the ids of the outgoing messages to
    deliver, in queue order."""
    with transaction.atomic():
        processed = _process(incoming_ids)
        processed.count()
    return [message.pk for message in processed.outgoing]


# A processing thread makes up to this many batches' worth of deliveries itself, with no broker hop in
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
        to_send, followups = prepare(outgoing_ids=heads, claimed=claimed[:inline], park=processed.full)
        followups.update(
            (message.pk, Next(parked_for=message.destination_id))
            for message in processed.outgoing
            if message.enqueued_at is None  # born parked
        )
        processed.count()
    deliver_prepared(to_send, followups, hand_off=True)
