"""Which destinations a message fans out to once the account has simple and trigger webhooks
(processing called directly; the end to end runs are in tests/pipeline/test_simple_webhooks.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from deliveries.models import IncomingMessage, OutgoingMessage
from deliveries.processing import incoming_process
from destinations.models import Destination
from inputs.models import Input
from tests.factories import make_account
from tests.routing_factories import DestinationFactory, InputFactory
from tests.support.receivers import Reply
from webhooks.services import webhook_create
from webhooks.triggers import trigger_webhook_create

pytestmark = pytest.mark.django_db


def received(input: Input) -> IncomingMessage:
    return IncomingMessage.objects.create(
        account=input.account, bucket=input.bucket, input=input, method="POST", path="/", body=b"{}"
    )


def test_a_message_of_any_input_goes_to_the_accounts_webhooks_once(account_a):
    first, second = InputFactory(account=account_a), InputFactory(account=account_a)
    own = DestinationFactory(account=account_a, input=first)
    webhook = webhook_create(account=account_a, url="https://hooks.example.com/a")
    trigger_webhook_create(account=account_a, name="lookup", url="https://api.example.com/lookup")
    elsewhere = make_account(name="Elsewhere")
    webhook_create(account=elsewhere, url="https://hooks.example.com/b")
    messages = [received(first), received(second), received(webhook.destination.input)]

    incoming_process(incoming_ids=[message.pk for message in messages])

    fanned = sorted(OutgoingMessage.objects.values_list("incoming_id", "destination_id"))
    expected = [
        (messages[0].pk, own.pk),
        (messages[0].pk, webhook.destination_id),
        (messages[1].pk, webhook.destination_id),
        (messages[2].pk, webhook.destination_id),
    ]
    assert fanned == sorted(expected)


def test_a_sync_input_relays_its_own_destinations_answer_not_the_webhooks(
    client: Client, make_receiver, account_a
):
    own, webhook = make_receiver(), make_receiver()
    own.reply = Reply(status=201, body=b"own")
    webhook.reply = Reply(status=200, body=b"webhook")
    sync = InputFactory(account=account_a, delivery_mode=Input.DeliveryMode.SYNC)
    DestinationFactory(account=account_a, input=sync, endpoint_url=own.url, rate_limit=None)
    webhook_create(account=account_a, url=webhook.url)

    # Outgoing ids are random: several messages make a wrong pick all but certain to show.
    answers = [client.post(f"/v1/in/{sync.pk}", b"{}", content_type="application/json") for _ in range(6)]

    assert [(answer.status_code, answer.content) for answer in answers] == [(201, b"own")] * 6
    assert OutgoingMessage.objects.filter(destination__feed=Destination.Feed.ACCOUNT).count() == 6


def test_a_sync_input_without_its_own_destination_gives_its_configured_answer(
    client, make_receiver, account_a
):
    webhook = make_receiver()
    sync = InputFactory(account=account_a, delivery_mode=Input.DeliveryMode.SYNC)
    webhook_create(account=account_a, url=webhook.url)

    response = client.post(f"/v1/in/{sync.pk}", b"{}", content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {"id": IncomingMessage.objects.get().pk}
    assert OutgoingMessage.objects.get().destination.feed == Destination.Feed.ACCOUNT
