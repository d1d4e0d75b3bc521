"""Delivering a batch of outgoing messages (the ``deliver`` task's body).

The order of operations is what makes delivery at-least-once and never parallel: claim the
messages with a conditional UPDATE and a lease longer than the request timeout
(``deliveries.claim``), write the attempt rows, make the HTTP calls (``deliveries.send``), then
record the outcomes and release the claims (``deliveries.outcome``), each destination's as soon as
its requests are done."""

from __future__ import annotations

import logging
import queue
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.db import insert_rows
from deliveries.claim import give_back, next_fifo, outgoing_claim, parked, release
from deliveries.models import Attempt, OutgoingMessage
from deliveries.outcome import Next, record
from deliveries.queue import enqueue_deliver
from deliveries.send import Prepared, Sent, apply_destination_recipe, headers_for, send_by_destination
from deliveries.throttle import in_flight, slow

logger = logging.getLogger(__name__)

# A message whose row was locked by another transaction as it was claimed is tried again after this.
BUSY_RETRY_SECONDS = 1.0


def prepare(
    *, outgoing_ids: list[str], claimed: Sequence[OutgoingMessage] = (), park: set[str] | None = None
) -> tuple[list[Prepared], dict[str, Next]]:
    """Claim these messages, throttle, transform and write the attempt rows, with the ``claimed``
    ones (leased by the caller, their destination and incoming message loaded): one transaction,
    one commit, before the HTTP calls (the caller's, when it has one open). The messages of a
    destination whose requests hang (``deliveries.throttle.slow``) are parked, or those of the
    destinations ``park`` names, when the caller has just asked. Returns what to send, and what
    happened to the messages not to be sent."""
    to_send: list[Prepared] = []
    followups: dict[str, Next] = {}
    with transaction.atomic(savepoint=False):
        if outgoing_ids:
            claim = outgoing_claim(outgoing_ids=outgoing_ids)
            claimed = [*claimed, *claim.claimed]
            followups.update((outgoing_id, Next(busy=True)) for outgoing_id in claim.busy)
        by_destination = sorted(claimed, key=lambda outgoing: outgoing.destination_id)  # stable: queue order
        if park is None:
            park = slow(destination_ids={outgoing.destination_id for outgoing in claimed})
        for destination_id, group in groupby(by_destination, key=lambda outgoing: outgoing.destination_id):
            group = list(group)
            if destination_id in park:
                # No slot for it (its requests hang, or the caller found every slot held): park
                # its messages (not enqueued) until one of its deliveries finishes; no attempt.
                give_back(group, park=True)
                followups.update((outgoing.pk, Next(parked_for=destination_id)) for outgoing in group)
                continue
            for outgoing in group:
                message = apply_destination_recipe(outgoing)
                if message is None or isinstance(message, str):
                    status = (
                        OutgoingMessage.Status.SKIPPED
                        if message is None
                        else OutgoingMessage.Status.RECIPE_FAILED
                    )
                    release([outgoing], status=status, error=message or "", completed_at=timezone.now())
                    followups[outgoing.pk] = Next(then_deliver=next_fifo(outgoing))
                    continue
                headers = headers_for(outgoing, message, outgoing.attempt_count)
                attempt = Attempt(
                    account_id=outgoing.account_id,
                    outgoing=outgoing,
                    number=outgoing.attempt_count,
                    request_method=message.method,
                    request_url=message.url,
                    request_headers=headers,
                )
                to_send.append(Prepared(outgoing, message, headers, attempt))
        insert_rows([prepared.attempt for prepared in to_send])
    return to_send, followups


def _followups(
    to_send: list[Prepared], followups: dict[str, Next], read_timeout: float | None, *, hand_off: bool = False
) -> Iterator[dict[str, Next]]:
    """What comes next for the messages not sent (``followups``, from ``prepare``), then for
    those sent, as each set of destinations is done and recorded (see ``send_by_destination``);
    with ``hand_off``, those not done by then are left to the recorder thread."""
    yield followups
    for sent, unsent in send_by_destination(
        to_send, read_timeout, late=_recorder.submit if hand_off else None
    ):
        yield record(sent, unsent)


class _Recorder:
    """The thread of this process that records the destinations a task left to their senders
    (``HAND_OFF_SECONDS``): it records all of those waiting together, in one transaction, keeps
    its database connection while more come, and closes it once none is waiting (sender threads
    are many, and hold none). A pool of one thread, so that what is waiting is still recorded when
    the worker shuts down."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recorder")
        self._waiting: queue.SimpleQueue[tuple[Sent, list[Prepared]]] = queue.SimpleQueue()

    def submit(self, sent: Sent, unsent: list[Prepared]) -> None:
        """Called in the sender thread, which is free again at once; or which records them itself
        once the process is exiting (its pools then take no more work, and the senders are waited
        for: a worker's warm shutdown)."""
        self._waiting.put((sent, unsent))
        try:
            self._thread.submit(self._record_waiting)
        except RuntimeError:
            self._record_waiting()

    def _record_waiting(self) -> None:
        outcomes = []
        while not self._waiting.empty():
            outcomes.append(self._waiting.get())
        if not outcomes:
            return  # recorded with an earlier one
        sent = [one for done, _ in outcomes for one in done]
        try:
            enqueue_followups(record(sent, [one for _, left in outcomes for one in left]))
        except Exception:
            # The leases expire and the sweeper sends the messages again.
            logger.exception(
                "recording the deliveries of %s failed", [prepared.outgoing.pk for prepared, _ in sent]
            )
        finally:
            if self._waiting.empty():
                connection.close()


_recorder = _Recorder()


def outgoing_deliver(*, outgoing_ids: list[str], read_timeout: float | None = None) -> dict[str, Next]:
    """Make one delivery attempt of each of these outgoing messages that is due and ours to make.

    Returns what comes next for each id (an empty ``Next`` for one that was not ours).
    ``read_timeout`` overrides the outbound default (sync relays answer a waiting sender)."""
    followups: dict[str, Next] = {}
    for part in _followups(*prepare(outgoing_ids=outgoing_ids), read_timeout):
        followups.update(part)
    return {outgoing_id: followups.get(outgoing_id, Next()) for outgoing_id in outgoing_ids}


def outgoing_deliver_and_enqueue(
    *, outgoing_ids: list[str], read_timeout: float | None = None, hand_off: bool = False
) -> None:
    deliver_prepared(*prepare(outgoing_ids=outgoing_ids), read_timeout=read_timeout, hand_off=hand_off)


def deliver_prepared(
    to_send: list[Prepared],
    followups: dict[str, Next],
    *,
    read_timeout: float | None = None,
    hand_off: bool = False,
) -> None:
    """Make the prepared requests, and send what comes next as soon as it is known: a destination
    done wakes its parked messages without waiting for another that hangs. With ``hand_off`` (a
    task), return after HAND_OFF_SECONDS at most, leaving the destinations not done to the
    recorder thread (``_Recorder``): a slow destination holds no worker thread."""
    for part in _followups(to_send, followups, read_timeout, hand_off=hand_off):
        enqueue_followups(part)


def enqueue_followups(followups: dict[str, Next]) -> None:
    """Send what comes next after a batch's deliveries: retries, the next FIFO messages, and
    parked messages a finished delivery frees a slot for: a batch after an answer, one message
    after a delivery that got none (a destination whose requests hang is probed, one message per
    slot freed, rather than handed batches it would park again, attempts and all)."""
    retries: dict[float, list[str]] = defaultdict(list)
    busy: list[str] = []
    woken: list[str] = []
    wake: dict[str, int] = defaultdict(int)  # destination -> parked messages to wake
    parked_for: set[str] = set()
    for outgoing_id, following in followups.items():
        if following.retry_in is not None:
            retries[following.retry_in].append(outgoing_id)
        if following.busy:
            busy.append(outgoing_id)
        if following.then_deliver:
            woken.append(following.then_deliver)
        if following.finished_for:
            wake[following.finished_for] += 1 if following.unanswered else settings.DELIVERY_BATCH_SIZE
        if following.parked_for:
            parked_for.add(following.parked_for)
    for delay, retried in retries.items():
        enqueue_deliver(retried, countdown=delay)
    # Not marked enqueued: the row may still be locked, and the sweeper's deadline stands anyway.
    enqueue_deliver(busy, countdown=BUSY_RETRY_SECONDS, mark=False)
    # A delivery finishing while we parked may have looked for parked messages before ours were
    # committed: with a slot free now, nobody else would wake them.
    not_woken = parked_for - wake.keys()
    flying = in_flight(destination_ids=not_woken)
    for destination_id in not_woken:
        if flying[destination_id] < settings.DESTINATION_MAX_IN_FLIGHT:
            wake[destination_id] = settings.DELIVERY_BATCH_SIZE
    taken = parked(wake=wake)
    enqueue_deliver(taken, mark=False)  # marked as they were taken
    enqueue_deliver([outgoing_id for outgoing_id in dict.fromkeys(woken) if outgoing_id not in taken])
