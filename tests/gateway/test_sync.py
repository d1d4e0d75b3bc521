"""Sync mode: the gateway relays to the input's destination inline, to a real loopback receiver."""

from __future__ import annotations

import pytest

from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from inputs.models import Input
from tests.conftest import error_code
from tests.gateway.conftest import gateway_url, only_message
from tests.routing_factories import DestinationFactory
from tests.support.receivers import Reply

pytestmark = pytest.mark.django_db

BODY = b'{"type": "order.created", "id": 7}'


@pytest.fixture
def sync_input(make_input) -> Input:
    return make_input(delivery_mode=Input.DeliveryMode.SYNC, event_path="msg.type")


def destination_to(input: Input, url: str, **fields):
    return DestinationFactory(account=input.account, input=input, endpoint_url=url, rate_limit=None, **fields)


def post(client, input: Input, path: str | None = None):
    return client.post(path or gateway_url(input), BODY, content_type="application/json")


def test_it_answers_with_the_destination_s_status_body_and_content_type(client, sync_input, receiver):
    destination_to(sync_input, receiver.url + "hook")
    receiver.reply = Reply(status=201, headers={"Content-Type": "text/csv"}, body=b"a,b\n1,2\n")

    response = post(client, sync_input)

    assert response.status_code == 201
    assert response.content == b"a,b\n1,2\n"
    assert response["Content-Type"] == "text/csv"
    (received,) = receiver.requests
    assert (received.method, received.path, received.body) == ("POST", "/hook", BODY)
    message = only_message(sync_input)
    assert message.status == IncomingMessage.Status.PROCESSED
    attempt = Attempt.objects.get(outgoing__incoming=message)
    assert (attempt.status_code, attempt.succeeded) == (201, True)


def test_it_relays_an_error_status_of_the_destination(client, sync_input, receiver):
    destination_to(sync_input, receiver.url)
    receiver.reply = Reply(status=422, headers={"Content-Type": "application/json"}, body=b'{"bad": 1}')

    response = post(client, sync_input)

    assert (response.status_code, response.content) == (422, b'{"bad": 1}')
    assert OutgoingMessage.objects.get(incoming__input=sync_input).status == OutgoingMessage.Status.PENDING


def test_an_answer_without_a_content_type_is_relayed_without_one(client, sync_input, receiver):
    destination_to(sync_input, receiver.url)
    receiver.reply = Reply(status=200, body=b"plain")

    response = post(client, sync_input)

    assert response.content == b"plain"
    assert "Content-Type" not in response


def test_a_refused_connection_is_502_in_the_error_shape(client, sync_input, unused_port):
    destination_to(sync_input, f"http://127.0.0.1:{unused_port}/hook")

    response = post(client, sync_input)

    assert response.status_code == 502
    assert error_code(response) == "destination_failed"
    attempt = Attempt.objects.get(outgoing__incoming__input=sync_input)
    assert attempt.error
    assert response.json()["error"]["message"] == attempt.error


def test_a_destination_slower_than_the_timeout_is_504(client, sync_input, receiver, settings):
    settings.SYNC_DELIVERY_TIMEOUT = 0.3
    destination_to(sync_input, receiver.url)
    receiver.reply = Reply(delay=3)

    response = post(client, sync_input)

    assert response.status_code == 504
    assert error_code(response) == "destination_timeout"
    assert Attempt.objects.get(outgoing__incoming__input=sync_input).error_kind == "timeout"


def test_without_an_active_destination_it_answers_as_configured(client, sync_input, receiver):
    destination_to(sync_input, receiver.url, status="inactive")

    response = post(client, sync_input)

    assert response.status_code == 200
    assert response.json() == {"id": only_message(sync_input).pk}
    assert receiver.requests == []


def test_a_message_no_destination_wants_gets_the_configured_answer(client, sync_input, receiver):
    destination_to(sync_input, receiver.url, event_filters=["user.*"])
    Input.objects.filter(pk=sync_input.pk).update(response_code=202, response_content="ok")

    response = post(client, sync_input)

    assert (response.status_code, response.content) == (202, b"ok")
    assert receiver.requests == []


def test_a_filtered_message_is_not_relayed(client, sync_input, receiver):
    destination_to(sync_input, receiver.url)
    Input.objects.filter(pk=sync_input.pk).update(event_filters=["user.*"])

    response = post(client, sync_input)

    assert response.json() == {"id": only_message(sync_input).pk}
    assert only_message(sync_input).status == IncomingMessage.Status.FILTERED
    assert receiver.requests == []


def test_an_unauthenticated_message_is_not_relayed(client, sync_input, receiver):
    destination_to(sync_input, receiver.url)
    Input.objects.filter(pk=sync_input.pk).update(
        authentication_type=Input.AuthenticationType.TOKEN,
        authentication_options={"location": "header", "name": "X-Key", "value": "k"},
        authentication_failures=Input.AuthenticationFailures.ACCEPT,
    )

    response = post(client, sync_input)

    assert response.json() == {"id": only_message(sync_input).pk}
    assert only_message(sync_input).status == IncomingMessage.Status.UNAUTHENTICATED
    assert receiver.requests == []


def test_a_dynamic_sync_input_relays_to_the_target_url(client, make_input, receiver):
    input = make_input(type=Input.Type.DYNAMIC, delivery_mode=Input.DeliveryMode.SYNC)
    destination_to(input, "https://unused.example.com/")
    receiver.reply = Reply(status=200, headers={"Content-Type": "text/plain"}, body=b"hi")

    response = post(client, input, f"/{input.pk}/{receiver.url}receiver/path")

    assert (response.status_code, response.content) == (200, b"hi")
    (received,) = receiver.requests
    assert received.path == "/receiver/path"
    assert only_message(input).target_url == f"{receiver.url}receiver/path"
