from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.dispatcher import dispatch_batch
from deliveries.models import IncomingMessage
from inputs.models import Input
from tests.pipeline_core.conftest import accept

pytestmark = pytest.mark.django_db


def test_it_hands_received_messages_to_processing_once(route, sent_tasks):
    input_, _ = route
    received = [accept(input_) for _ in range(3)]
    accept(input_, status=IncomingMessage.Status.FILTERED)

    first = dispatch_batch()
    second = dispatch_batch()

    assert (first, second) == (3, 0)
    assert sent_tasks() == [("deliveries.tasks.process_batch", [[message.pk for message in received]])]


def test_a_message_whose_dispatch_lease_expired_is_handed_out_again(route, sent_tasks):
    """Its task was lost, or its worker died mid-processing (which rolled the processing back)."""
    input_, _ = route
    lost, _on_its_way = accept(input_), accept(input_)
    dispatch_batch()
    IncomingMessage.objects.filter(pk=lost.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    assert dispatch_batch() == 1

    lost.refresh_from_db()
    assert lost.status == IncomingMessage.Status.RECEIVED
    assert lost.lease_until > timezone.now()


def test_sync_messages_are_left_to_the_gateway(route, sent_tasks):
    input_, _ = route
    Input.objects.filter(pk=input_.pk).update(delivery_mode=Input.DeliveryMode.SYNC)
    input_.refresh_from_db()
    accept(input_)

    assert dispatch_batch() == 0
