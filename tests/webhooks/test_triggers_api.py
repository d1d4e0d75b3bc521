"""Trigger webhooks (seed 004): registration, the synchronous trigger, its record."""

from __future__ import annotations

import base64

import pytest
from django.test import override_settings

from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from tests.conftest import error_code
from tests.support.receivers import Reply
from webhooks.models import TriggerWebhook

pytestmark = pytest.mark.django_db

CREDENTIAL = "Bearer sk_live_0123456789abcdef"


def base(actor) -> str:
    return f"/v1/accounts/{actor.account.id}/trigger-webhooks"


def register(actor, url: str, **fields):
    body = {"id": "get-randomapi", "url": url, "method": "GET", **fields}
    return actor.client.post(base(actor), body, format="json")


def trigger(actor, name: str = "get-randomapi", **body):
    return actor.client.post(f"{base(actor)}/{name}/trigger", body, format="json")


def test_registration_in_seed_004s_format_masks_the_headers(owner):
    response = register(
        owner,
        "https://coviu.com/api/v1/randomApi",
        headers={"Authorization": CREDENTIAL, "X-Short": "abc"},
        queryParams=["pageNum"],
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == "get-randomapi"
    assert body["url"] == "https://coviu.com/api/v1/randomApi"
    assert body["method"] == "GET"
    assert body["queryParams"] == ["pageNum"]
    assert body["payload_encoding"] is None
    assert body["headers"] == {"Authorization": "****cdef", "X-Short": "****"}
    for response in (owner.client.get(base(owner)), owner.client.get(f"{base(owner)}/get-randomapi")):
        assert CREDENTIAL not in response.content.decode()
    assert TriggerWebhook.objects.get().headers["Authorization"] == CREDENTIAL


def test_the_method_defaults_to_post_and_the_id_is_unique_per_account(owner, outsider):
    first = owner.client.post(
        base(owner), {"id": "send-jpeg", "url": "https://postman-echo.com/post"}, format="json"
    )
    again = owner.client.post(
        base(owner), {"id": "send-jpeg", "url": "https://postman-echo.com/post"}, format="json"
    )
    elsewhere = outsider.client.post(
        base(outsider), {"id": "send-jpeg", "url": "https://postman-echo.com/post"}, format="json"
    )

    assert first.json()["method"] == "POST"
    assert again.status_code == 409
    assert elsewhere.status_code == 201


@pytest.mark.parametrize(
    "fields",
    [
        {"id": "not a slug"},
        {"url": "ftp://example.com"},
        {"method": "TRACE"},
        {"headers": {"Bad Name": "x"}},
        {"headers": {"Host": "internal"}},
        {"headers": {"X-A": "line\r\nbreak"}},
        {"queryParams": ["a&b"]},
        {"payload_encoding": "hex"},
    ],
)
def test_a_malformed_registration_is_400(owner, fields):
    body = {"id": "get-randomapi", "url": "https://example.com/api", **fields}

    response = owner.client.post(base(owner), body, format="json")

    assert response.status_code == 400, response.content
    assert error_code(response) == "validation_error"
    assert not TriggerWebhook.objects.exists()


def test_put_updates_the_registration_and_delete_removes_it(owner):
    register(owner, "https://example.com/api")

    put = owner.client.put(
        f"{base(owner)}/get-randomapi",
        {"id": "renamed", "url": "https://example.org/v2", "method": "POST", "payload_encoding": "base64"},
        format="json",
    )
    deleted = owner.client.delete(f"{base(owner)}/renamed")

    assert put.status_code == 200, put.content
    assert put.json()["id"] == "renamed"
    assert put.json()["url"] == "https://example.org/v2"
    assert put.json()["method"] == "POST"
    assert put.json()["payload_encoding"] == "base64"
    assert deleted.status_code == 204
    assert owner.client.get(f"{base(owner)}/renamed").status_code == 404


def test_trigger_calls_the_endpoint_and_answers_its_status_and_json(owner, receiver):
    receiver.reply = Reply(
        status=200, headers={"Content-Type": "application/json"}, body=b'{"results": [1, 2]}'
    )
    register(owner, receiver.url, headers={"Authorization": CREDENTIAL}, queryParams=["pageNum"])

    response = trigger(owner, headers={"X-Request": "42"}, query_params={"pageNum": "2"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"reference_id", "status", "data", "error"}
    assert body["status"] == 200
    assert body["data"] == {"results": [1, 2]}
    assert body["error"] is False
    (request,) = receiver.requests
    assert request.method == "GET"
    assert request.path == "/?pageNum=2"
    assert request.headers["Authorization"] == CREDENTIAL
    assert request.headers["X-Request"] == "42"


def test_every_call_is_recorded_with_the_credentials_masked(owner, receiver):
    register(owner, receiver.url, method="POST", headers={"Authorization": CREDENTIAL})

    reference_id = trigger(owner, data={"key": "value"}).json()["reference_id"]

    outgoing = OutgoingMessage.objects.select_related("incoming").get(pk=reference_id)
    assert outgoing.status == OutgoingMessage.Status.SUCCEEDED
    incoming = outgoing.incoming
    assert incoming.status == IncomingMessage.Status.PROCESSED
    assert incoming.event_type == "trigger.get-randomapi"
    assert bytes(incoming.body) == b'{"key": "value"}'
    assert incoming.content_type == "application/json"
    (attempt,) = Attempt.objects.filter(outgoing=outgoing)
    assert attempt.request_headers["Authorization"] == "****cdef"
    assert receiver.requests[0].body == b'{"key": "value"}'
    assert receiver.requests[0].headers["Content-Type"] == "application/json"
    detail = owner.client.get(f"/v1/accounts/{owner.account.id}/trigger-invocations/{reference_id}")
    assert detail.status_code == 200
    assert detail.json()["trigger_webhook_id"] == "get-randomapi"
    assert detail.json()["incoming_message_id"] == incoming.pk
    assert detail.json()["attempt"]["status_code"] == 200
    assert CREDENTIAL not in detail.content.decode()
    logged = owner.client.get(f"/v1/accounts/{owner.account.id}/outgoing/{reference_id}")
    assert logged.status_code == 200
    assert CREDENTIAL not in logged.content.decode()


def test_a_text_answer_is_data_as_text_and_a_string_is_sent_as_text(owner, receiver):
    receiver.reply = Reply(status=201, headers={"Content-Type": "text/plain"}, body=b"created")
    register(owner, receiver.url, method="POST")

    body = trigger(owner, data="hello").json()

    assert body["data"] == "created"
    assert body["status"] == 201
    assert receiver.requests[0].body == b"hello"
    assert receiver.requests[0].headers["Content-Type"] == "text/plain; charset=utf-8"


def test_base64_data_is_sent_as_the_decoded_bytes(owner, receiver):
    jpeg = bytes([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]) + b"JFIF\x00"
    register(
        owner, receiver.url, method="POST", headers={"Content-Type": "image/jpeg"}, payload_encoding="base64"
    )

    body = trigger(owner, data=base64.b64encode(jpeg).decode()).json()

    assert body["error"] is False
    assert receiver.requests[0].body == jpeg
    assert receiver.requests[0].headers["Content-Type"] == "image/jpeg"
    assert bytes(OutgoingMessage.objects.get(pk=body["reference_id"]).incoming.body) == jpeg


@pytest.mark.parametrize(
    ("registration", "call", "field"),
    [
        ({"queryParams": ["pageNum"]}, {"query_params": {"page": "2"}}, "query_params"),
        (
            {"headers": {"Authorization": CREDENTIAL}},
            {"headers": {"authorization": "Bearer mine"}},
            "headers",
        ),
        ({"headers": {"Content-Type": "image/jpeg"}}, {"headers": {"Content-Type": "text/plain"}}, "headers"),
        ({"payload_encoding": "base64"}, {"data": "not base64!"}, "data"),
        ({"payload_encoding": "base64"}, {"data": {"an": "object"}}, "data"),
        ({}, {"headers": {"Host": "internal"}}, "headers"),
        ({}, {"headers": "not an object"}, "headers"),
    ],
)
def test_a_call_breaking_the_registered_format_is_400_and_calls_nothing(
    owner, receiver, registration, call, field
):
    register(owner, receiver.url, **registration)

    response = trigger(owner, **call)

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not receiver.requests
    assert not OutgoingMessage.objects.exists()


def test_an_unknown_id_is_404(owner):
    response = trigger(owner, "nothing-here")

    assert response.status_code == 404
    error_code(response)


@pytest.mark.parametrize("status", [404, 500, 503])
def test_an_endpoint_error_is_a_successful_trigger_with_error_true(owner, receiver, status):
    receiver.reply = Reply(status=status, headers={"Content-Type": "application/json"}, body=b'{"oops": 1}')
    register(owner, receiver.url)

    response = trigger(owner)

    assert response.status_code == 200
    assert response.json()["status"] == status
    assert response.json()["data"] == {"oops": 1}
    assert response.json()["error"] is True
    assert OutgoingMessage.objects.get().status == OutgoingMessage.Status.FAILED


def test_an_unreachable_endpoint_is_a_successful_trigger_with_error_true(owner, unused_port):
    register(owner, f"http://127.0.0.1:{unused_port}/api")

    body = trigger(owner).json()

    assert body == {"reference_id": body["reference_id"], "status": None, "data": None, "error": True}
    assert Attempt.objects.get().error_kind == "connection"


def test_a_timeout_is_a_successful_trigger_with_error_true(owner, receiver):
    receiver.reply = Reply(delay=5)
    register(owner, receiver.url)

    with override_settings(OUTBOUND_READ_TIMEOUT=0.5):
        body = trigger(owner).json()

    assert body["error"] is True
    assert Attempt.objects.get().error_kind == "timeout"


def test_a_private_address_is_blocked_by_the_ssrf_guard(owner, receiver):
    register(owner, receiver.url)

    with override_settings(OUTBOUND_ALLOWED_NETWORKS=[]):
        body = trigger(owner).json()

    assert body["error"] is True
    assert Attempt.objects.get().error_kind == "ssrf_blocked"
    assert not receiver.requests


def test_another_accounts_invocation_is_404(owner, outsider, receiver):
    register(owner, receiver.url)
    reference_id = trigger(owner).json()["reference_id"]

    response = outsider.client.get(f"/v1/accounts/{outsider.account.id}/trigger-invocations/{reference_id}")
    own = owner.client.get(f"/v1/accounts/{owner.account.id}/trigger-invocations/{reference_id}")

    assert response.status_code == 404
    assert own.status_code == 200


def test_an_ordinary_outgoing_message_is_not_an_invocation(owner, receiver):
    register(owner, receiver.url)
    trigger(owner)
    ordinary = OutgoingMessage.objects.get()
    ordinary.destination.feed = "input"
    ordinary.destination.save()

    response = owner.client.get(f"/v1/accounts/{owner.account.id}/trigger-invocations/{ordinary.pk}")

    assert response.status_code == 404


def test_the_trigger_is_recorded_but_never_fanned_out_to_the_accounts_webhooks(owner, make_receiver):
    endpoint, webhook = make_receiver(), make_receiver()
    owner.client.post("/v1/webhooks", {"url": webhook.url}, format="json")
    register(owner, endpoint.url)

    trigger(owner)

    assert len(endpoint.requests) == 1
    assert OutgoingMessage.objects.count() == 1
    assert IncomingMessage.objects.get().status == IncomingMessage.Status.PROCESSED


def test_a_trigger_call_is_neither_resent_nor_retried_by_the_pipeline(owner, receiver):
    register(owner, receiver.url)
    reference_id = trigger(owner).json()["reference_id"]
    account = f"/v1/accounts/{owner.account.id}"

    resend = owner.client.post(f"{account}/resend", {"outgoing_message_ids": [reference_id]}, format="json")
    retry = owner.client.post("/v1/retry", {"outgoing_message_id": reference_id}, format="json")
    bulk = owner.client.post(f"{account}/resend/bulk", {}, format="json")

    assert resend.status_code == 409
    assert retry.status_code == 409, retry.content
    assert bulk.status_code == 201
    assert bulk.json()["count"] == 0
    assert OutgoingMessage.objects.count() == 1
