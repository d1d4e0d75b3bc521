from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from deliveries.dispatcher import process
from deliveries.models import IncomingMessage, OutgoingMessage
from deliveries.processing import incoming_process
from destinations.models import Destination
from tests.pipeline_core.conftest import accept
from tests.routing_factories import DestinationFactory, InputFactory, RecipeFactory

pytestmark = pytest.mark.django_db


def test_it_creates_one_outgoing_message_per_matching_active_destination(account_a, route):
    input_, everything = route
    exact = DestinationFactory(account=account_a, input=input_, event_filters=["order.created"])
    glob = DestinationFactory(account=account_a, input=input_, event_filters=["order.*"])
    DestinationFactory(account=account_a, input=input_, event_filters=["invoice.*"])
    DestinationFactory(account=account_a, input=input_, status=Destination.Status.INACTIVE)
    incoming = accept(input_)

    outgoing_ids = incoming_process(incoming_ids=[incoming.pk])

    delivered_to = set(
        OutgoingMessage.objects.filter(pk__in=outgoing_ids).values_list("destination_id", flat=True)
    )
    assert delivered_to == {everything.pk, exact.pk, glob.pk}
    incoming.refresh_from_db()
    assert incoming.status == IncomingMessage.Status.PROCESSED


def test_processing_twice_creates_nothing_more(route):
    input_, _ = route
    incoming = accept(input_)

    first = incoming_process(incoming_ids=[incoming.pk])
    second = incoming_process(incoming_ids=[incoming.pk])

    assert len(first) == 1
    assert second == []
    assert OutgoingMessage.objects.filter(incoming=incoming).count() == 1


def other_worker(incoming_ids: list[str]) -> list[str]:
    try:
        return incoming_process(incoming_ids=incoming_ids)
    finally:
        connection.close()  # the thread's own connection


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_message_another_worker_is_processing_is_waited_for_and_not_processed_twice(route):
    input_, _ = route
    busy, free = accept(input_), accept(input_)

    with ThreadPoolExecutor(1) as pool:
        with transaction.atomic():
            (first,) = incoming_process(incoming_ids=[busy.pk])  # this worker holds it, uncommitted
            other = pool.submit(other_worker, [busy.pk, free.pk])
            with pytest.raises(TimeoutError):
                other.result(timeout=0.5)  # the other worker waits for the lock
        processed = other.result(timeout=60)

    assert OutgoingMessage.objects.get(pk__in=processed).incoming_id == free.pk
    assert OutgoingMessage.objects.filter(incoming=busy).get().pk == first


def test_a_message_that_fails_to_process_does_not_hold_up_its_batch(account_a, route, caplog):
    input_, _ = route
    poisoned = InputFactory(account=account_a)
    broken = DestinationFactory(account=account_a, input=poisoned)
    Destination.objects.filter(pk=broken.pk).update(event_filters=[5])  # event matching raises
    bad, good = accept(poisoned), accept(input_)

    process([bad.pk, good.pk])

    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.status, good.status) == ("received", "processed")
    assert "trying each alone" in caplog.text


def test_a_fifo_head_waiting_for_a_message_the_input_recipe_skips_is_delivered_when_it_is(
    account_a, route, receiver
):
    input_, destination = route
    Destination.objects.filter(pk=destination.pk).update(delivery_order=Destination.DeliveryOrder.FIFO)
    code = "if (message.getEventType() === 'ping') message.skip();"
    input_.recipe = RecipeFactory(account=account_a, recipe_draft=code, recipe_published=code)
    input_.save()
    earlier = accept(input_, body=b'{"event": "ping"}', event_type="ping")
    later = accept(input_)

    process([later.pk])  # its message waits for the earlier one's processing
    assert receiver.requests == []
    process([earlier.pk])  # skipped: nothing of its own to send, but the queue moves on

    earlier.refresh_from_db()
    assert earlier.status == IncomingMessage.Status.SKIPPED
    (outgoing,) = OutgoingMessage.objects.filter(incoming=later)
    assert (outgoing.status, len(receiver.requests)) == (OutgoingMessage.Status.SUCCEEDED, 1)
