from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from deliveries.dispatcher import dispatch_batch
from deliveries.models import IncomingMessage
from inputs.models import Input
from tests.pipeline_core.conftest import accept

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_tasks(settings):
    """The tasks the dispatcher published, read back from the real Redis broker's queue."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("celery")

    def read() -> list[tuple[str, list]]:
        tasks = []
        for raw in reversed(broker.lrange("celery", 0, -1)):
            message = json.loads(raw)
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            tasks.append((message["headers"]["task"], args))
        return tasks

    yield read
    broker.delete("celery")


def test_it_hands_received_messages_to_processing_once(route, sent_tasks):
    input_, _ = route
    received = [accept(input_) for _ in range(3)]
    accept(input_, status=IncomingMessage.Status.FILTERED)

    first = dispatch_batch()
    second = dispatch_batch()

    assert (first, second) == (3, 0)
    assert sent_tasks() == [("deliveries.tasks.process_batch", [[message.pk for message in received]])]


def test_a_lost_dispatch_or_a_dead_processor_is_handed_out_again_after_its_lease(route, sent_tasks):
    input_, _ = route
    expired = timezone.now() - timedelta(seconds=1)
    lost = accept(input_)
    dead = accept(input_)
    dispatch_batch()
    IncomingMessage.objects.filter(pk=lost.pk).update(lease_until=expired)
    IncomingMessage.objects.filter(pk=dead.pk).update(status="processing", lease_until=expired)

    assert dispatch_batch() == 2

    dead.refresh_from_db()
    assert dead.status == IncomingMessage.Status.RECEIVED
    assert dead.lease_until > timezone.now()


def test_sync_messages_are_left_to_the_gateway(route, sent_tasks):
    input_, _ = route
    Input.objects.filter(pk=input_.pk).update(delivery_mode=Input.DeliveryMode.SYNC)
    input_.refresh_from_db()
    accept(input_)

    assert dispatch_batch() == 0
