from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.dispatcher import claim
from deliveries.models import IncomingMessage
from inputs.models import Input
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
