"""Delivery order and rate: FIFO under random failures, concurrency in random mode, rate_limit."""

from __future__ import annotations

import math
import time
from collections import Counter

import pytest
from django.db import transaction

from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from tests.pipeline.conftest import ingest, wait_until
from tests.support.receivers import Reply, always, random_failures

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_fifo_delivers_each_message_first_in_send_order_despite_random_failures(
    worker, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver(random_failures(0.3, seed=11))
    source = make_input()
    make_destination(
        source, receiver, delivery_order="fifo", retry_policy_id="fixed", retry_interval=0, retry_count=30
    )

    sent = [ingest(source, {"n": n}, event="order.created") for n in range(50)]

    wait_until(lambda: OutgoingMessage.objects.filter(status="succeeded").count() == 50)
    numbers = Counter(Attempt.objects.values_list("outgoing_id", "number"))
    assert max(numbers.values()) == 1, "an attempt was made twice in parallel"
    received_at = dict(OutgoingMessage.objects.values_list("pk", "received_at"))
    first_success: list[str] = []
    for request in receiver.requests:
        attempt = Attempt.objects.get(
            outgoing_id=request.message_id, number=request.headers["X-Webhooks-Attempt"]
        )
        if attempt.succeeded and request.message_id not in first_success:
            first_success.append(request.message_id)
    send_order = [outgoing.pk for incoming in sent for outgoing in incoming.outgoing_messages.all()]
    assert first_success == send_order
    assert first_success == sorted(first_success, key=lambda pk: (received_at[pk], pk))
    assert receiver.max_in_flight == 1
    failures = len(receiver.requests) - 50
    print(f"\nFIFO: 50 messages, {failures} failed attempts on the way")
    assert failures > 0


@pytest.mark.parametrize("second_event", ["order.created", "invoice.paid"])
def test_fifo_waits_for_an_earlier_message_still_being_processed(
    second_event, workers, make_scripted_receiver, make_input, make_destination
):
    """The second message's processing is held up (by a row lock the test holds, as a slow
    worker would): the third must wait for it, whether or not it ends up for this destination."""
    receiver = make_scripted_receiver()
    source = make_input()
    make_destination(source, receiver, delivery_order="fifo", event_filters=["order.*"])
    first, second, third = (
        ingest(source, event=event) for event in ("order.created", second_event, "order.created")
    )

    with transaction.atomic():
        IncomingMessage.objects.select_for_update().get(pk=second.pk)
        workers.start(flush=False)
        # The dispatcher skips the locked row (SKIP LOCKED): it stays unprocessed meanwhile.
        wait_until(lambda: receiver.requests)
        time.sleep(1)
        assert [incoming_of(r.message_id) for r in receiver.requests] == [first.pk]

    expected = [first, second, third] if second_event == "order.created" else [first, third]
    # No sweeper runs: the queue moves on by itself once the second message is processed.
    wait_until(lambda: len(receiver.requests) == len(expected))
    assert [incoming_of(r.message_id) for r in receiver.requests] == [m.pk for m in expected]


def incoming_of(outgoing_id: str) -> str:
    return OutgoingMessage.objects.get(pk=outgoing_id).incoming_id


def test_random_order_delivers_concurrently(worker, make_scripted_receiver, make_input, make_destination):
    receiver = make_scripted_receiver(always(Reply(delay=0.5)))
    source = make_input()
    make_destination(source, receiver, delivery_order="random")

    for n in range(10):
        ingest(source, {"n": n}, event="order.created")

    wait_until(lambda: OutgoingMessage.objects.filter(status="succeeded").count() == 10)
    assert len(receiver.requests) == 10
    print(f"\nrandom order: at most {receiver.max_in_flight} deliveries in flight")
    assert receiver.max_in_flight > 1


def test_rate_limit_delays_but_never_drops_or_duplicates(
    worker, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver()
    source = make_input()
    destination = make_destination(source, receiver, rate_limit=5)
    # Start just after a second boundary so the first burst is far from a window edge.
    time.sleep(1.02 - math.modf(time.time())[0])

    for n in range(20):
        ingest(source, {"n": n}, event="order.created")

    wait_until(lambda: OutgoingMessage.objects.filter(status="succeeded").count() == 20)
    ids = receiver.message_ids()
    assert sorted(ids) == sorted(OutgoingMessage.objects.values_list("pk", flat=True))
    assert len(set(ids)) == 20
    # When each request was made (its slot is taken then): the first one's arrival may be late
    # by a new connection's setup.
    started = sorted(
        moment.timestamp()
        for moment in Attempt.objects.filter(outgoing__destination=destination).values_list(
            "started_at", flat=True
        )
    )
    spread = started[-1] - started[0]
    per_second = Counter(int(moment) for moment in started)
    print(
        f"\nrate_limit 5: 20 deliveries spread over {spread:.2f} s, per second {sorted(per_second.values())}"
    )
    assert max(per_second.values()) <= 5
    assert spread >= 3.5
