"""End to end: a simple webhook receives what every input of its account accepts, through the
pipeline (a real worker), signed both ways."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.test import Client
from standardwebhooks import Webhook as StandardWebhook

from deliveries.models import IncomingMessage, OutgoingMessage
from inputs.models import Input
from tests.conftest import make_actor
from tests.factories import make_account
from tests.pipeline.conftest import ingest, wait_until
from tests.routing_factories import InputFactory
from webhooks.models import Webhook
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_every_input_of_the_account_reaches_the_webhook_signed_both_ways(
    worker, account, make_scripted_receiver, make_input, make_destination
):
    webhook_receiver, own_receiver = make_scripted_receiver(), make_scripted_receiver()
    orders, tickets = make_input(), make_input()
    make_destination(orders, own_receiver)
    webhook = webhook_create(account=account, url=webhook_receiver.url)
    other_account_input = InputFactory(account=make_account(name="Elsewhere"))
    bodies = [json.dumps({"type": name, "data": {"id": n}}).encode() for n, name in enumerate(["a", "b"])]

    ingest(orders, body=bodies[0], event="ticket_created")
    ingest(tickets, body=bodies[1], event="ticket_called")
    ingest(other_account_input, event="ticket_created")

    wait_until(lambda: OutgoingMessage.objects.filter(status="succeeded").count() == 3, timeout=60)
    assert sorted(request.body for request in webhook_receiver.requests) == sorted(bodies)
    assert len(own_receiver.requests) == 1
    secret = webhook.destination.secret
    for request in webhook_receiver.requests:
        expected = hmac.new(secret.encode(), webhook_receiver.url.encode() + request.body, hashlib.sha256)
        assert request.headers["X-Qminder-Signature"] == expected.hexdigest()
        assert StandardWebhook(secret).verify(request.body, request.headers)


def test_events_limit_what_the_webhook_gets(worker, account, make_scripted_receiver, make_input):
    receiver = make_scripted_receiver()
    source = make_input()
    webhook_create(account=account, url=receiver.url, events=["ticket_served"])

    ingest(source, event="ticket_created")
    served = ingest(source, event="ticket_served")

    wait_until(lambda: OutgoingMessage.objects.filter(status="succeeded").exists(), timeout=60)
    wait_until(lambda: not IncomingMessage.objects.filter(status="received").exists(), timeout=60)
    assert [request.headers["X-Qminder-Event"] for request in receiver.requests] == ["ticket_served"]
    assert OutgoingMessage.objects.get().incoming_id == served.pk


def test_a_fifo_webhook_delivers_the_messages_of_all_inputs_in_arrival_order(
    worker, account, make_scripted_receiver, make_input
):
    receiver = make_scripted_receiver()
    inputs = [make_input(), make_input()]
    webhook = webhook_create(account=account, url=receiver.url)
    webhook.destination.delivery_order = "fifo"
    webhook.destination.save()

    for n in range(10):
        ingest(inputs[n % 2], {"n": n}, event="ticket_created")

    wait_until(lambda: len(receiver.requests) == 10, timeout=60)
    assert [json.loads(request.body)["n"] for request in receiver.requests] == list(range(10))
    assert receiver.max_in_flight == 1


def test_a_dynamic_inputs_message_goes_to_its_target_and_to_the_webhook(
    worker, account, make_scripted_receiver, make_input, make_destination
):
    target, webhook_receiver, settings_holder = (make_scripted_receiver() for _ in range(3))
    dynamic = make_input(type=Input.Type.DYNAMIC)
    make_destination(dynamic, settings_holder)
    webhook_create(account=account, url=webhook_receiver.url)

    response = Client().post(f"/{dynamic.pk}/{target.url}", b'{"a": 1}', content_type="application/json")

    assert response.status_code == 200
    wait_until(lambda: OutgoingMessage.objects.filter(status="succeeded").count() == 2, timeout=60)
    assert [request.body for request in target.requests] == [b'{"a": 1}']
    assert [request.body for request in webhook_receiver.requests] == [b'{"a": 1}']
    assert not settings_holder.requests


def test_the_api_registers_a_webhook_the_pipeline_delivers_to(
    worker, make_scripted_receiver, make_input, account
):
    receiver = make_scripted_receiver()
    owner = make_actor(account, "owner")
    created = owner.client.post("/v1/webhooks", {"url": receiver.url}, format="json").json()

    ingest(make_input(), event="ticket_created")

    wait_until(lambda: receiver.requests, timeout=60)
    (request,) = receiver.requests
    expected = hmac.new(created["secret"].encode(), receiver.url.encode() + request.body, hashlib.sha256)
    assert request.headers["X-Qminder-Signature"] == expected.hexdigest()
    assert Webhook.objects.get().pk == created["id"]
