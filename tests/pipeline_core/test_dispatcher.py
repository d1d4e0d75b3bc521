from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.dispatcher import CHUNK, claim, run_forever
from deliveries.models import IncomingMessage, OutgoingMessage
from inputs.models import Input
from tests.pipeline.conftest import wait_until
from tests.pipeline_core.conftest import accept

pytestmark = pytest.mark.django_db


def test_it_claims_received_messages_once_oldest_first_up_to_its_limit(route):
    input_, _ = route
    received = [accept(input_) for _ in range(3)]
    accept(input_, status=IncomingMessage.Status.FILTERED)

    first, second, third = claim(2), claim(2), claim(2)

    assert (first, second, third) == ([message.pk for message in received[:2]], [received[2].pk], [])


def test_a_message_whose_dispatch_lease_expired_is_handed_out_again(route):
    """Its worker died mid-processing (which rolled the processing back)."""
    input_, _ = route
    lost, _on_its_way = accept(input_), accept(input_)
    claim(10)
    IncomingMessage.objects.filter(pk=lost.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    assert claim(10) == [lost.pk]

    lost.refresh_from_db()
    assert lost.status == IncomingMessage.Status.RECEIVED
    assert lost.lease_until > timezone.now()


def test_sync_messages_are_left_to_the_gateway(route):
    input_, _ = route
    Input.objects.filter(pk=input_.pk).update(delivery_mode=Input.DeliveryMode.SYNC)
    input_.refresh_from_db()
    accept(input_)

    assert claim(10) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_claims_no_more_than_its_free_processing_threads_can_start(route, receiver):
    """With one processing thread, a backlog is claimed a chunk at a time (a dispatcher that
    claimed more would leave the rest waiting on its worker while others could process them)."""
    input_, _ = route
    for _ in range(3 * CHUNK):
        accept(input_)
    received = IncomingMessage.objects.filter(status=IncomingMessage.Status.RECEIVED)
    stop = threading.Event()
    dispatcher = threading.Thread(target=run_forever, args=(stop, 1))
    most_claimed = 0
    dispatcher.start()
    try:
        deadline = time.monotonic() + 60
        while received.exists() and time.monotonic() < deadline:
            most_claimed = max(most_claimed, received.filter(lease_until__isnull=False).count())
            time.sleep(0.002)
    finally:
        stop.set()
        dispatcher.join(60)
    # A delivery slower than the hand-off is recorded by the recorder thread after processing returned.
    pending = OutgoingMessage.objects.filter(status=OutgoingMessage.Status.PENDING)
    wait_until(lambda: not pending.exists())

    assert not received.exists()
    assert 0 < most_claimed <= CHUNK
    assert not pending.exists()
    assert len(receiver.requests) == 3 * CHUNK
