from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.models import IncomingMessage, OutgoingMessage
from deliveries.processing import incoming_claim, incoming_process
from destinations.models import Destination
from tests.pipeline_core.conftest import accept
from tests.routing_factories import DestinationFactory

pytestmark = pytest.mark.django_db


def test_it_creates_one_outgoing_message_per_matching_active_destination(account_a, route):
    input_, everything = route
    exact = DestinationFactory(account=account_a, input=input_, event_filters=["order.created"])
    glob = DestinationFactory(account=account_a, input=input_, event_filters=["order.*"])
    DestinationFactory(account=account_a, input=input_, event_filters=["invoice.*"])
    DestinationFactory(account=account_a, input=input_, status=Destination.Status.INACTIVE)
    incoming = accept(input_)

    outgoing_ids = incoming_process(incoming_id=incoming.pk)

    delivered_to = set(
        OutgoingMessage.objects.filter(pk__in=outgoing_ids).values_list("destination_id", flat=True)
    )
    assert delivered_to == {everything.pk, exact.pk, glob.pk}
    incoming.refresh_from_db()
    assert incoming.status == IncomingMessage.Status.PROCESSED


def test_processing_twice_creates_nothing_more(route):
    input_, _ = route
    incoming = accept(input_)

    first = incoming_process(incoming_id=incoming.pk)
    second = incoming_process(incoming_id=incoming.pk)

    assert len(first) == 1
    assert second == []
    assert OutgoingMessage.objects.filter(incoming=incoming).count() == 1


def test_a_claim_is_exclusive_until_its_lease_expires(route):
    input_, _ = route
    incoming = accept(input_)

    assert incoming_claim(incoming_id=incoming.pk) is not None
    assert incoming_claim(incoming_id=incoming.pk) is None
    IncomingMessage.objects.filter(pk=incoming.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert incoming_claim(incoming_id=incoming.pk) is not None
