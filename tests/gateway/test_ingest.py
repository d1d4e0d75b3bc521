from __future__ import annotations

import pytest

from accounts.models import Account, Plan
from deliveries.models import IncomingMessage
from inputs.models import Input
from tests.conftest import error_code
from tests.factories import make_account
from tests.gateway.conftest import gateway_url, only_message

pytestmark = pytest.mark.django_db

BODY = b'{"event": "order.created"}\x00\xff binary tail'


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "GET"])
def test_every_method_stores_the_request_exactly(client, make_input, method):
    input = make_input()

    response = client.generic(
        method,
        gateway_url(input) + "?a=1&b=two",
        data=BODY,
        content_type="application/octet-stream",
        headers={"X-Custom": "kept as sent"},
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 200, response.content
    message = only_message(input)
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"id": message.pk}
    assert message.pk.startswith("IM")
    assert message.status == IncomingMessage.Status.RECEIVED
    assert message.method == method
    assert message.path == gateway_url(input)
    assert message.query_string == "a=1&b=two"
    assert bytes(message.body) == BODY
    assert message.content_type == "application/octet-stream"
    assert message.headers["X-Custom"] == "kept as sent"
    assert message.headers["Content-Type"] == "application/octet-stream"
    assert message.source_ip == "203.0.113.9"
    assert (message.account_id, message.bucket_id) == (input.account_id, input.bucket_id)


def test_a_form_encoded_body_is_stored_byte_for_byte(client, make_input):
    input = make_input()

    client.post(gateway_url(input), "name=Ada&amount=12", content_type="application/x-www-form-urlencoded")

    message = only_message(input)
    assert bytes(message.body) == b"name=Ada&amount=12"
    assert message.content_type == "application/x-www-form-urlencoded"


def test_it_answers_the_configured_code_content_and_content_type(client, make_input):
    input = make_input(response_code=202, response_content="<ok/>", response_content_type="application/xml")

    response = client.post(gateway_url(input), {"a": 1}, content_type="application/json")

    assert response.status_code == 202
    assert response.content == b"<ok/>"
    assert response["Content-Type"] == "application/xml"
    assert only_message(input).status == IncomingMessage.Status.RECEIVED


def test_an_empty_configured_content_answers_the_message_id_with_the_configured_code(client, make_input):
    input = make_input(response_code=201, response_content_type="text/plain")

    response = client.post(gateway_url(input))

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"id": only_message(input).pk}


@pytest.mark.parametrize("name", ["sample-input", "anything", "Input%20with%20spaces", "%00"])
def test_the_input_name_in_the_url_is_cosmetic(client, make_input, name):
    input = make_input()

    response = client.post(gateway_url(input, name), b"{}", content_type="application/json")

    assert response.status_code == 200
    assert only_message(input).pk == response.json()["id"]


def test_head_answers_200_for_an_active_input_and_stores_nothing(client, make_input):
    input = make_input()

    response = client.head(gateway_url(input))

    assert response.status_code == 200
    assert response.content == b""
    assert not IncomingMessage.objects.exists()


def test_head_answers_404_for_an_inactive_input(client, make_input):
    input = make_input(status=Input.Status.INACTIVE)

    assert client.head(gateway_url(input)).status_code == 404


def test_an_unknown_input_is_404_in_the_error_shape(client):
    response = client.post("/v1/sample-input/IN" + "0" * 32, b"{}", content_type="application/json")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_an_inactive_input_is_404_and_stores_nothing(client, make_input):
    input = make_input(status=Input.Status.INACTIVE)

    response = client.post(gateway_url(input), b"{}", content_type="application/json")

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert not IncomingMessage.objects.exists()


def test_an_input_of_a_suspended_account_is_404(client, make_input):
    account = make_account(name="Suspended")
    Account.objects.filter(pk=account.pk).update(status=Account.Status.SUSPENDED)
    input = make_input(account=account)

    assert client.post(gateway_url(input)).status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/v1/sample-input/INXYZ", "/v1/sample-input/IN" + "A" * 32, "/v1/a/b/IN" + "0" * 32],
)
def test_a_malformed_input_id_is_a_json_404(client, path):
    response = client.post(path)

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_an_unsupported_method_is_405_with_allow(client, make_input):
    input = make_input()

    response = client.options(gateway_url(input))

    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"
    assert "POST" in response["Allow"]


def test_api_routes_are_not_taken_by_the_gateway(owner):
    response = owner.client.get(f"/v1/accounts/{owner.account.pk}")

    assert response.status_code == 200
    assert response.json()["id"] == owner.account.pk


@pytest.fixture
def tiny_account() -> Account:
    Plan.objects.create(
        id="tiny",
        name="Tiny",
        messages_per_month=100,
        max_rate_limit=1,
        max_sub_accounts=0,
        log_retention_days=1,
        max_body_bytes=10,
        public=False,
    )
    return make_account(name="Tiny", plan_id="tiny")


def test_a_body_at_the_plan_limit_is_accepted(client, make_input, tiny_account):
    input = make_input(account=tiny_account)

    response = client.post(gateway_url(input), b"0123456789", content_type="text/plain")

    assert response.status_code == 200
    assert bytes(only_message(input).body) == b"0123456789"


def test_a_body_over_the_plan_limit_is_413_and_stores_nothing(client, make_input, tiny_account):
    input = make_input(account=tiny_account)

    response = client.post(gateway_url(input), b"0123456789!", content_type="text/plain")

    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert not IncomingMessage.objects.exists()


def test_a_declared_content_length_over_the_limit_is_413_before_reading(client, make_input, tiny_account):
    input = make_input(account=tiny_account)

    response = client.post(gateway_url(input), b"tiny", content_type="text/plain", CONTENT_LENGTH="5000000")

    assert response.status_code == 413


def test_the_default_plan_accepts_a_body_larger_than_django_s_upload_limit(client, make_input):
    input = make_input()
    # Over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB): only the plan's limit (pro: 5 MiB) applies.
    body = b"x" * (3 * 1024 * 1024)

    response = client.post(gateway_url(input), body, content_type="application/octet-stream")

    assert response.status_code == 200
    assert len(bytes(only_message(input).body)) == len(body)


def test_over_the_rate_limit_it_answers_429_with_retry_after(client, make_input, settings):
    settings.INGEST_RATE_LIMIT_PER_SECOND = 2
    input = make_input()

    # Five requests span at most two one-second windows, so one window sees a third request.
    responses = [client.post(gateway_url(input)) for _ in range(5)]

    refused = [response for response in responses if response.status_code == 429]
    assert refused
    assert error_code(refused[0]) == "rate_limited"
    assert refused[0]["Retry-After"] == "1"
    accepted = [response for response in responses if response.status_code == 200]
    assert len(accepted) + len(refused) == 5
    assert IncomingMessage.objects.filter(input=input).count() == len(accepted)


def test_the_rate_limit_counts_each_input_separately(client, make_input, settings):
    settings.INGEST_RATE_LIMIT_PER_SECOND = 1
    busy, other = make_input(), make_input()
    for _ in range(3):
        client.post(gateway_url(busy))

    assert client.post(gateway_url(other)).status_code == 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_message_is_committed_before_the_answer(client, make_input):
    input = make_input()

    response = client.post(gateway_url(input), b'{"a": 1}', content_type="application/json")

    assert response.status_code == 200
    # transaction=True: no test transaction around the request, so the row found is committed.
    assert IncomingMessage.objects.get(pk=response.json()["id"]).status == IncomingMessage.Status.RECEIVED
