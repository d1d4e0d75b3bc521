from __future__ import annotations

import base64
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from deliveries.models import IncomingMessage
from inputs.authentication_options import new_signing_secret
from inputs.models import Input
from tests.conftest import error_code
from tests.gateway.conftest import gateway_url, only_message

pytestmark = pytest.mark.django_db

BODY = b'{"id": 1, "event": "order.created"}'
SECRET = "shared-secret"


def post(client, input: Input, *, body: bytes = BODY, query: str = "", headers: dict | None = None):
    return client.post(
        gateway_url(input) + query, body, content_type="application/json", headers=headers or {}
    )


def assert_rejected(response, input: Input) -> None:
    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"
    message = only_message(input)
    assert message.status == IncomingMessage.Status.UNAUTHENTICATED
    assert bytes(message.body) == BODY


def assert_accepted(response, input: Input) -> None:
    assert response.status_code == 200, response.content
    message = only_message(input)
    assert response.json() == {"id": message.pk}
    assert message.status == IncomingMessage.Status.RECEIVED


def basic(credentials: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


@pytest.fixture
def basic_input(make_input) -> Input:
    return make_input(
        authentication_type=Input.AuthenticationType.BASIC,
        authentication_options={"username": "sender", "password": "s3cret:with:colons"},
    )


def test_basic_accepts_the_right_credentials(client, basic_input):
    assert_accepted(post(client, basic_input, headers=basic("sender:s3cret:with:colons")), basic_input)


@pytest.mark.parametrize(
    "headers",
    [
        basic("sender:wrong"),
        basic("other:s3cret:with:colons"),
        basic("sender"),
        {"Authorization": "Basic !!not-base64!!"},
        {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode()},
        {"Authorization": "Bearer sender:s3cret:with:colons"},
        {},
    ],
    ids=["wrong-password", "wrong-user", "no-colon", "not-base64", "not-utf8", "other-scheme", "missing"],
)
def test_basic_rejects_wrong_credentials_with_a_challenge(client, basic_input, headers):
    response = post(client, basic_input, headers=headers)

    assert_rejected(response, basic_input)
    assert response["WWW-Authenticate"] == 'Basic realm="input"'


def test_a_token_in_a_header_authenticates(client, make_input):
    input = make_input(
        authentication_type=Input.AuthenticationType.TOKEN,
        authentication_options={"location": "header", "name": "X-Api-Key", "value": "tok-123"},
    )

    assert_accepted(post(client, input, headers={"X-API-KEY": "tok-123"}), input)


@pytest.mark.parametrize("headers", [{"X-Api-Key": "tok-124"}, {"X-Api-Key": "tok-123 "}, {}])
def test_a_wrong_or_missing_token_header_is_rejected(client, make_input, headers):
    input = make_input(
        authentication_type=Input.AuthenticationType.TOKEN,
        authentication_options={"location": "header", "name": "X-Api-Key", "value": "tok-123"},
    )

    assert_rejected(post(client, input, headers=headers), input)


@pytest.fixture
def query_token_input(make_input) -> Input:
    return make_input(
        authentication_type=Input.AuthenticationType.TOKEN,
        authentication_options={"location": "query", "name": "key", "value": "tok-123"},
    )


def test_a_token_in_a_query_parameter_authenticates(client, query_token_input):
    assert_accepted(post(client, query_token_input, query="?key=tok-123"), query_token_input)


@pytest.mark.parametrize("query", ["?key=nope", "?other=tok-123", "", "?key=%C3%A9%00"])
def test_a_wrong_or_missing_query_token_is_rejected(client, query_token_input, query):
    assert_rejected(post(client, query_token_input, query=query), query_token_input)


def hmac_input(make_input, **options) -> Input:
    return make_input(
        authentication_type=Input.AuthenticationType.HMAC,
        authentication_options={
            "algorithm": "sha256",
            "encoding": "hex",
            "prefix": "",
            "signed_content": "body",
            "secret": SECRET,
            **options,
        },
    )


def digest(content: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(SECRET.encode(), content, algorithm).digest()


def test_a_github_style_signature_authenticates(client, make_input):
    input = hmac_input(make_input, header="X-Hub-Signature-256", prefix="sha256=")

    response = post(client, input, headers={"X-Hub-Signature-256": "sha256=" + digest(BODY).hex()})

    assert_accepted(response, input)


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=" + hmac.new(b"other-secret", BODY, "sha256").hexdigest(),
        "sha256=" + digest(BODY + b" ").hex(),
        digest(BODY).hex(),  # the prefix missing
        "sha1=" + digest(BODY).hex(),
        "sha256=é\x00",
        "",
    ],
    ids=["other-secret", "other-body", "no-prefix", "other-prefix", "non-ascii", "empty"],
)
def test_a_wrong_github_style_signature_is_rejected(client, make_input, signature):
    input = hmac_input(make_input, header="X-Hub-Signature-256", prefix="sha256=")

    assert_rejected(post(client, input, headers={"X-Hub-Signature-256": signature}), input)


def test_a_shopify_style_base64_signature_authenticates(client, make_input):
    input = hmac_input(make_input, header="X-Shopify-Hmac-Sha256", encoding="base64")

    signature = base64.b64encode(digest(BODY)).decode()
    assert_accepted(post(client, input, headers={"X-Shopify-Hmac-Sha256": signature}), input)


def test_a_hex_signature_in_a_base64_input_is_rejected(client, make_input):
    input = hmac_input(make_input, header="X-Shopify-Hmac-Sha256", encoding="base64")

    assert_rejected(post(client, input, headers={"X-Shopify-Hmac-Sha256": digest(BODY).hex()}), input)


@pytest.mark.parametrize("algorithm", ["sha1", "sha512"])
def test_other_hash_algorithms_authenticate(client, make_input, algorithm):
    input = hmac_input(make_input, header="X-Signature", algorithm=algorithm)

    signature = digest(BODY, algorithm).hex().upper()  # hex compares case-insensitively
    assert_accepted(post(client, input, headers={"X-Signature": signature}), input)


def test_a_url_and_body_signature_authenticates(client, make_input):
    input = hmac_input(make_input, header="X-Signature", signed_content="url_body")
    url = f"http://testserver{gateway_url(input)}?a=1"

    response = post(client, input, query="?a=1", headers={"X-Signature": digest(url.encode() + BODY).hex()})

    assert_accepted(response, input)


def test_a_url_and_body_signature_of_another_url_is_rejected(client, make_input):
    input = hmac_input(make_input, header="X-Signature", signed_content="url_body")
    url = f"http://testserver{gateway_url(input)}?a=2"

    response = post(client, input, query="?a=1", headers={"X-Signature": digest(url.encode() + BODY).hex()})

    assert_rejected(response, input)


@pytest.fixture
def webhook_secret() -> str:
    return new_signing_secret()


@pytest.fixture
def standard_input(make_input, webhook_secret) -> Input:
    return make_input(
        authentication_type=Input.AuthenticationType.STANDARD_WEBHOOKS,
        authentication_options={"secret": webhook_secret, "tolerance_seconds": 300},
    )


def standard_headers(secret: str, *, body: bytes = BODY, at: datetime | None = None) -> dict[str, str]:
    at = at or datetime.now(tz=UTC)
    return {
        "webhook-id": "msg_2Lz7",
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_2Lz7", at, body.decode()),
    }


def test_a_standard_webhooks_signature_authenticates(client, standard_input, webhook_secret):
    assert_accepted(post(client, standard_input, headers=standard_headers(webhook_secret)), standard_input)


def test_any_of_several_standard_webhooks_signatures_may_match(client, standard_input, webhook_secret):
    headers = standard_headers(webhook_secret)
    other = standard_headers(new_signing_secret())["webhook-signature"]
    headers["webhook-signature"] = f"{other} v1a,ignored {headers['webhook-signature']}"

    assert_accepted(post(client, standard_input, headers=headers), standard_input)


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-signature": "v1,aW52YWxpZA=="},
        {"webhook-id": "msg_other"},
        {"webhook-timestamp": "not-a-number"},
        {"webhook-timestamp": "9" * 400},
        {"webhook-id": ""},
        {"webhook-signature": ""},
    ],
    ids=["wrong-signature", "other-id", "bad-timestamp", "huge-timestamp", "no-id", "no-signature"],
)
def test_a_wrong_standard_webhooks_signature_is_rejected(client, standard_input, webhook_secret, change):
    headers = {**standard_headers(webhook_secret), **change}

    assert_rejected(post(client, standard_input, headers=headers), standard_input)


def test_a_standard_webhooks_signature_of_another_secret_is_rejected(client, standard_input):
    assert_rejected(
        post(client, standard_input, headers=standard_headers(new_signing_secret())), standard_input
    )


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_a_standard_webhooks_timestamp_outside_the_tolerance_is_rejected(
    client, standard_input, webhook_secret, offset
):
    headers = standard_headers(webhook_secret, at=datetime.now(tz=UTC) + offset)

    assert_rejected(post(client, standard_input, headers=headers), standard_input)


def test_the_standard_webhooks_tolerance_is_configurable(client, make_input, webhook_secret):
    input = make_input(
        authentication_type=Input.AuthenticationType.STANDARD_WEBHOOKS,
        authentication_options={"secret": webhook_secret, "tolerance_seconds": 3600},
    )
    headers = standard_headers(webhook_secret, at=datetime.now(tz=UTC) - timedelta(minutes=30))

    assert_accepted(post(client, input, headers=headers), input)


def test_with_failures_accepted_a_wrong_credential_gets_the_configured_answer(client, make_input):
    input = hmac_input(
        make_input,
        header="X-Hub-Signature-256",
        prefix="sha256=",
    )
    Input.objects.filter(pk=input.pk).update(
        authentication_failures=Input.AuthenticationFailures.ACCEPT,
        response_code=202,
        response_content="queued",
        response_content_type="text/plain",
    )

    response = post(client, input, headers={"X-Hub-Signature-256": "sha256=forged"})

    assert (response.status_code, response.content, response["Content-Type"]) == (
        202,
        b"queued",
        "text/plain",
    )
    assert only_message(input).status == IncomingMessage.Status.UNAUTHENTICATED


def test_with_failures_accepted_the_default_answer_carries_the_message_id(client, basic_input):
    Input.objects.filter(pk=basic_input.pk).update(
        authentication_failures=Input.AuthenticationFailures.ACCEPT
    )

    response = post(client, basic_input, headers=basic("sender:wrong"))

    assert response.status_code == 200
    message = only_message(basic_input)
    assert response.json() == {"id": message.pk}
    assert message.status == IncomingMessage.Status.UNAUTHENTICATED


def test_an_unauthenticated_message_keeps_its_event_type_for_the_log(client, make_input):
    input = hmac_input(make_input, header="X-Signature")
    Input.objects.filter(pk=input.pk).update(event_path="msg.event")

    post(client, input, headers={"X-Signature": "forged"})

    assert only_message(input).event_type == "order.created"


def test_authentication_is_checked_after_the_rate_limit(client, basic_input, settings):
    settings.INGEST_RATE_LIMIT_PER_SECOND = 1

    statuses = {post(client, basic_input).status_code for _ in range(4)}

    assert 429 in statuses
