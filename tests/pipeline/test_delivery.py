"""End to end: what a receiver gets, signatures, event filters."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.db import transaction
from standardwebhooks import Webhook

from deliveries.claim import outgoing_claim
from deliveries.models import Attempt, OutgoingMessage
from deliveries.processing import incoming_process
from tests.pipeline.conftest import backends_waiting_on_a_lock, ingest, wait_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_receiver_gets_the_exact_message_signed_both_ways(
    worker, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver()
    source = make_input()
    destination = make_destination(
        source, receiver, signature_scheme="both", headers_to_include=["X-Shop-Domain"]
    )
    body = json.dumps({"type": "order.created", "data": {"id": 7024061, "name": "Zoë"}}).encode()

    incoming = ingest(
        source,
        body=body,
        event="order.created",
        headers={"X-Shop-Domain": "shop.example.com", "X-Not-Forwarded": "secret"},
    )

    wait_until(lambda: receiver.requests)
    outgoing = wait_until(
        lambda: OutgoingMessage.objects.filter(incoming=incoming, status="succeeded").first(), timeout=5
    )
    (request,) = receiver.requests
    assert request.method == "POST"
    assert request.path == "/hook"
    assert request.body == body
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Webhooks-Message-Id"] == outgoing.pk
    assert headers["X-Webhooks-Event"] == "order.created"
    assert headers["X-Webhooks-Attempt"] == "1"
    assert abs(int(headers["X-Webhooks-Timestamp"]) - request.arrived) < 5
    assert headers["X-Shop-Domain"] == "shop.example.com"
    assert "X-Not-Forwarded" not in headers
    assert Webhook(destination.secret).verify(body, headers) == json.loads(body)
    expected = hmac.new(destination.secret.encode(), receiver.url.encode() + body, hashlib.sha256).hexdigest()
    assert headers["X-Webhooks-Signature"] == expected
    attempt = Attempt.objects.get(outgoing=outgoing)
    assert (attempt.number, attempt.status_code, attempt.succeeded) == (1, 200, True)


def test_only_destinations_whose_event_filters_match_receive(
    worker, make_scripted_receiver, make_input, make_destination
):
    source = make_input()
    everything, exact, prefixed, other = (make_scripted_receiver() for _ in range(4))
    make_destination(source, everything)
    make_destination(source, exact, event_filters=["order.created"])
    make_destination(source, prefixed, event_filters=["order.*"])
    make_destination(source, other, event_filters=["invoice.paid", "customer.*"])

    ingest(source, event="order.created")
    ingest(source, event="order.deleted")
    ingest(source, event="invoice.paid")
    ingest(source, event="shipment.sent")

    wait_until(lambda: len(everything.requests) == 4)
    wait_until(
        lambda: OutgoingMessage.objects.filter(status="pending").count() == 0 and len(prefixed.requests) == 2,
    )
    events = {
        name: sorted(r.headers["X-Webhooks-Event"] for r in receiver.requests)
        for name, receiver in {"exact": exact, "prefixed": prefixed, "other": other}.items()
    }
    assert events == {
        "exact": ["order.created"],
        "prefixed": ["order.created", "order.deleted"],
        "other": ["invoice.paid"],
    }
    assert OutgoingMessage.objects.count() == 4 + 1 + 2 + 1


def test_duplicate_tasks_skip_a_message_another_worker_is_claiming_without_waiting(
    workers, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver()
    source = make_input()
    make_destination(source, receiver)
    incoming = ingest(source, event="order.created")
    (outgoing_id,) = incoming_process(incoming_ids=[incoming.pk])
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    with transaction.atomic():
        # This process is the worker that claims first; its claim commits late.
        assert outgoing_claim(outgoing_ids=[outgoing_id]).claimed != []
        workers.start()
        # Duplicate tasks (a redelivery, the sweeper) for the message.
        for _ in range(8):
            current_app.send_task("deliveries.tasks.deliver", args=[[outgoing_id]])
        wait_until(lambda: broker.llen("celery") == 0)
        time.sleep(0.5)
        assert backends_waiting_on_a_lock() == 0

    time.sleep(0.5)
    assert receiver.requests == []
    assert Attempt.objects.count() == 0
    assert OutgoingMessage.objects.get().attempt_count == 1


def test_the_gateway_wakes_an_idle_dispatcher_rather_than_leaving_the_message_to_its_poll(
    workers, make_scripted_receiver, make_input, make_destination
):
    workers.start(DISPATCH_POLL_SECONDS="600")  # idle, the dispatcher would next claim in 10 minutes
    receiver = make_scripted_receiver()
    source = make_input()
    make_destination(source, receiver)

    # The first may go by the dispatcher's first claim; each next one is posted once the previous
    # was delivered, so after a claim that found it, while the dispatcher waits.
    for n in range(3):
        ingest(source, {"n": n})
        wait_until(lambda n=n: len(receiver.requests) == n + 1)  # within the wait ceiling, not 600 s

    assert [json.loads(request.body) for request in receiver.requests] == [{"n": 0}, {"n": 1}, {"n": 2}]
