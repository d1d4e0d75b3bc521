from __future__ import annotations

import json

import pytest

from deliveries.models import IncomingMessage
from inputs.models import Input
from tests.gateway.conftest import gateway_url, only_message

pytestmark = pytest.mark.django_db

ORDER = {"data": {"items": [{"type": "item.first"}, {"type": "order.created"}]}, "count": 3}


def post_json(client, input: Input, payload: object, **extra):
    return client.post(gateway_url(input), json.dumps(payload), content_type="application/json", **extra)


@pytest.mark.parametrize(
    ("event_path", "expected"),
    [
        ("msg.data.items.1.type", "order.created"),
        ("msg.count", "3"),
        ("msg.data.items.7.type", ""),
        ("msg.data.items.x.type", ""),
        ("msg.data.missing", ""),
        ("msg.data", ""),
    ],
)
def test_it_extracts_the_event_type_from_the_json_payload(client, make_input, event_path, expected):
    input = make_input(event_location=Input.EventLocation.PAYLOAD, event_path=event_path)

    response = post_json(client, input, ORDER)

    assert response.status_code == 200
    assert only_message(input).event_type == expected


def test_it_reads_a_json_payload_whatever_its_content_type(client, make_input):
    input = make_input(event_path="msg.type")

    client.post(gateway_url(input), b'{"type": "ping"}', content_type="text/plain")

    assert only_message(input).event_type == "ping"


def test_it_extracts_the_event_type_from_a_form_encoded_body(client, make_input):
    input = make_input(event_path="msg.event")

    client.post(
        gateway_url(input), "event=invoice.paid&amount=5", content_type="application/x-www-form-urlencoded"
    )

    assert only_message(input).event_type == "invoice.paid"


def test_it_extracts_the_event_type_from_a_header(client, make_input):
    input = make_input(event_location=Input.EventLocation.HEADER, event_path="X-GitHub-Event")

    post_json(client, input, {}, headers={"X-Github-Event": "push"})

    assert only_message(input).event_type == "push"


def test_it_extracts_the_event_type_from_a_query_parameter(client, make_input):
    input = make_input(event_location=Input.EventLocation.QUERY, event_path="event")

    client.post(gateway_url(input) + "?event=user.deleted&x=1")

    assert only_message(input).event_type == "user.deleted"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00binary",
        b"[" * 100_000,
        b'{"type": ' + b"9" * 5000 + b"}",
        b'"\\u0000"',
        b"",
    ],
    ids=["bad-json", "binary", "deep-nesting", "huge-number", "nul-string", "empty"],
)
def test_a_body_without_the_event_is_stored_with_no_event_type(client, make_input, body):
    input = make_input(event_path="msg.type")

    response = client.post(gateway_url(input), body, content_type="application/json")

    assert response.status_code == 200
    message = only_message(input)
    assert message.event_type == ""
    assert bytes(message.body) == body


def test_a_nul_or_overlong_event_type_is_made_storable(client, make_input):
    input = make_input(event_path="msg.type")

    post_json(client, input, {"type": "a\x00b" + "c" * 400})

    event_type = only_message(input).event_type
    assert event_type.startswith("a\ufffdbc")
    assert len(event_type) == 255


@pytest.mark.parametrize(
    ("filters", "event", "status"),
    [
        (["order.created"], "order.created", IncomingMessage.Status.RECEIVED),
        (["order.created", "user.deleted"], "user.deleted", IncomingMessage.Status.RECEIVED),
        (["order.created"], "order.updated", IncomingMessage.Status.FILTERED),
        (["order.*"], "order.updated", IncomingMessage.Status.RECEIVED),
        (["order.*"], "orders.updated", IncomingMessage.Status.FILTERED),
        (["*"], "anything.at.all", IncomingMessage.Status.RECEIVED),
        (["*"], "", IncomingMessage.Status.RECEIVED),
        ([], "", IncomingMessage.Status.RECEIVED),
        (["order.*"], "", IncomingMessage.Status.FILTERED),
    ],
)
def test_input_event_filters_decide_whether_the_message_goes_on(client, make_input, filters, event, status):
    input = make_input(event_path="msg.type", event_filters=filters)

    response = post_json(client, input, {"type": event} if event else {})

    assert response.status_code == 200
    message = only_message(input)
    assert response.json() == {"id": message.pk}
    assert message.status == status
    assert message.event_type == event


def test_a_filtered_message_gets_the_configured_answer(client, make_input):
    input = make_input(
        event_path="msg.type", event_filters=["order.*"], response_code=202, response_content="thanks"
    )

    response = post_json(client, input, {"type": "user.created"})

    assert (response.status_code, response.content) == (202, b"thanks")
    message = only_message(input)
    assert message.status == IncomingMessage.Status.FILTERED
    assert message.processed_at is not None
