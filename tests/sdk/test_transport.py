"""Retries, backoff and errors of the SDK against real local HTTP servers that script their
answers (tests.support.receivers)."""

from __future__ import annotations

import json

import pytest
from hookrelay import Client, HookRelayError
from hookrelay.transport import retry_after_seconds

from tests.support.receivers import Receiver, Reply

OK = Reply(status=200, headers={"Content-Type": "application/json"}, body=b'{"status": "ok"}')


def scripted(*replies: Reply):
    """Answer the n-th request with the n-th reply, and the last reply from then on."""
    return lambda index, request: replies[min(index, len(replies) - 1)]


def client_of(receiver: Receiver, **options) -> Client:
    return Client(receiver.url + "v1", "wha_test-token", **options)


def test_a_429_is_retried_after_the_retry_after_delay(make_receiver):
    receiver = make_receiver(responder=scripted(Reply(status=429, headers={"Retry-After": "1"}), OK))

    with client_of(receiver, backoff=0.01) as client:
        answer = client.health_check()

    assert answer == {"status": "ok"}
    first, second = receiver.requests
    assert second.arrived - first.arrived >= 1.0  # Retry-After, not the 0.01 s backoff
    assert second.headers["Authorization"] == "Bearer wha_test-token"


def test_5xx_answers_are_retried_with_backoff_until_one_succeeds(make_receiver):
    receiver = make_receiver(responder=scripted(Reply(status=503), Reply(status=502), OK))

    with client_of(receiver, backoff=0.05) as client:
        assert client.get_plan("free") == {"status": "ok"}

    assert [r.path for r in receiver.requests] == ["/v1/plans/free"] * 3
    first, second, third = receiver.requests
    assert third.arrived - second.arrived > second.arrived - first.arrived  # exponential


def test_the_last_failure_is_raised_when_retries_run_out(make_receiver):
    body = json.dumps({"error": {"code": "unavailable", "message": "Try later."}}).encode()
    receiver = make_receiver(responder=scripted(Reply(status=503, body=body)))

    with client_of(receiver, backoff=0.01, max_retries=2) as client, pytest.raises(HookRelayError) as failed:
        client.get_plans()

    assert len(receiver.requests) == 3
    assert (failed.value.status, failed.value.code, failed.value.message) == (
        503,
        "unavailable",
        "Try later.",
    )


def test_a_4xx_is_not_retried_and_carries_the_error_shape(make_receiver):
    error = {
        "error": {"code": "validation_error", "message": "name: required", "fields": {"name": ["required"]}}
    }
    receiver = make_receiver(responder=scripted(Reply(status=400, body=json.dumps(error).encode())))

    with client_of(receiver) as client, pytest.raises(HookRelayError) as failed:
        client.create_bucket("AC1", name="", key=None, color="red")  # None is not sent; extra options are

    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0].body) == {"name": "", "color": "red"}
    assert failed.value.status == 400
    assert failed.value.code == "validation_error"
    assert failed.value.fields == {"name": ["required"]}


def test_an_answer_outside_the_error_shape_still_raises_the_one_error_type(make_receiver):
    receiver = make_receiver(responder=scripted(Reply(status=404, body=b"<html>Not here</html>")))

    with client_of(receiver) as client, pytest.raises(HookRelayError) as failed:
        client.get_bucket("AC1", "BU1")

    assert (failed.value.status, failed.value.code) == (404, "http_404")
    assert "Not here" in failed.value.message


def test_a_refused_connection_raises_the_one_error_type(unused_port):
    with Client(f"http://127.0.0.1:{unused_port}/v1") as client, pytest.raises(HookRelayError) as failed:
        client.health_check()

    assert failed.value.status is None
    assert failed.value.code == "connection_error"


def test_options_go_to_the_query_of_reads_and_the_body_of_writes(make_receiver):
    receiver = make_receiver(responder=scripted(OK))

    with client_of(receiver) as client:
        client.get_inputs("AC 1", "BU/1", key="k", event_filter=None)
        client.get_consumer_subscription(
            "AC1", "AP1", "my customer", bucket_key="dev", event_name="invoice.paid"
        )
        client.get_incoming_message("AC1", "IM1", include_outgoing_messages=True)

    reads, check, incoming = receiver.requests
    assert (reads.method, reads.path) == ("GET", "/v1/accounts/AC%201/buckets/BU%2F1/inputs?key=k")
    assert (check.method, check.path) == (
        "POST",
        "/v1/accounts/AC1/applications/AP1/consumers/my%20customer/check/dev",
    )
    assert json.loads(check.body) == {"event_type": "invoice.paid"}
    assert incoming.path == "/v1/accounts/AC1/incoming/IM1?include_outgoing_messages=true"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("0", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None), (None, None)],
)
def test_retry_after_is_read_as_seconds_or_a_date(header, seconds):
    assert retry_after_seconds(header) == seconds
