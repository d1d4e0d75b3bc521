"""A consumer's buckets, ``check`` with the bucket key in the body, ``send/:bucket_key``, the
application gateway and the embedded view's HTML (the consumer's and the account's own)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from buckets.models import Bucket
from deliveries.models import IncomingMessage
from providers.models import ClientToken
from providers.services import consumer_client_token_issue, consumer_create, consumer_destination_create
from tests.conftest import error_code
from tests.providers.conftest import make_application, make_version

pytestmark = pytest.mark.django_db


def consumer_url(consumer, tail: str) -> str:
    return (
        f"/v1/accounts/{consumer.account_id}/applications/{consumer.application_id}"
        f"/consumers/{consumer.consumer_id}/{tail}"
    )


def gateway_url(consumer, bucket_key: str = "default", target: str = "hooks.example.com/in") -> str:
    return f"/{consumer.application_id}/{consumer.consumer_id}/{bucket_key}/{target}"


# buckets


def test_it_lists_the_consumers_buckets(owner, consumer):
    consumer_client_token_issue(consumer=consumer, bucket_key="staging")

    response = owner.client.get(consumer_url(consumer, "buckets"))

    assert response.status_code == 200
    assert [bucket["key"] for bucket in response.json()["results"]] == ["default", "staging"]
    assert {bucket["account_id"] for bucket in response.json()["results"]} == {consumer.sub_account_id}


# check with the bucket key in the body


def test_check_takes_the_bucket_key_in_the_body(owner, application, consumer):
    make_version(application)
    consumer_destination_create(
        consumer=consumer, name="d", endpoint_url="https://d.example/h", event_filters=["invoice.paid"]
    )

    subscribed = owner.client.post(
        consumer_url(consumer, "check"), {"bucket_key": "default", "event_type": "invoice.paid"}
    )
    other = owner.client.post(consumer_url(consumer, "check"), {"bucket_key": "default", "event_type": "x.y"})
    listed = owner.client.post(consumer_url(consumer, "check"), {"bucket_key": "default"})
    missing = owner.client.post(consumer_url(consumer, "check"), {"event_type": "invoice.paid"})

    assert subscribed.json() == {"subscribed": True, "event_types": ["invoice.paid"]}
    assert other.json() == {"subscribed": False, "event_types": []}
    assert listed.json()["event_types"] == ["invoice.paid"]
    assert missing.status_code == 400
    assert "bucket_key" in missing.json()["error"]["fields"]


# send


def test_send_stores_a_message_of_the_consumers_input_without_the_providers_token(owner, consumer):
    response = owner.client.post(
        consumer_url(consumer, "send/default") + "?_token=nope&ref=7",
        data=b'{"invoice": 1}',
        content_type="application/json",
        headers={"X-Webhooks-Event": "invoice.paid"},
    )

    assert response.status_code == 200, response.content
    incoming = IncomingMessage.objects.get(pk=response.json()["id"])
    assert incoming.account_id == consumer.sub_account_id
    assert incoming.input.key == consumer.application_id
    assert incoming.bucket.key == "default"
    assert incoming.status == IncomingMessage.Status.RECEIVED
    assert incoming.event_type == "invoice.paid"
    assert bytes(incoming.body) == b'{"invoice": 1}'
    assert "Authorization" not in incoming.headers
    assert owner.token not in str(incoming.headers)
    assert incoming.query_string == "ref=7"


def test_send_to_a_bucket_the_consumer_lacks_is_404(owner, consumer):
    response = owner.client.post(consumer_url(consumer, "send/nowhere"), {}, format="json")

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert not IncomingMessage.objects.exists()


def test_send_refuses_a_body_over_the_plans_limit(owner, consumer):
    limit = consumer.sub_account.plan.max_body_bytes

    response = owner.client.post(
        consumer_url(consumer, "send/default"), data=b"x" * (limit + 1), content_type="text/plain"
    )

    assert response.status_code == 413
    assert not IncomingMessage.objects.exists()


def test_send_is_refused_to_viewers_and_outsiders(viewer, outsider, consumer):
    assert viewer.client.post(consumer_url(consumer, "send/default"), {}).status_code == 403
    assert outsider.client.post(consumer_url(consumer, "send/default"), {}).status_code == 404
    assert not IncomingMessage.objects.exists()


# the application gateway


def test_the_application_gateway_stores_a_message_for_the_target_url(owner, consumer):
    response = owner.client.post(
        gateway_url(consumer, target="hooks.example.com/in?x=1"),
        data=b"{}",
        content_type="application/json",
        headers={"X-Webhooks-Event": "invoice.paid"},
    )

    assert response.status_code == 200, response.content
    incoming = IncomingMessage.objects.get(pk=response.json()["id"])
    assert incoming.target_url == "https://hooks.example.com/in"
    assert incoming.account_id == consumer.sub_account_id
    assert incoming.event_type == "invoice.paid"
    assert "Authorization" not in incoming.headers


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("{app}/unknown/default/h.example.com/x", 404),
        ("{app}/acme-42/nowhere/h.example.com/x", 404),
        ("{app}/acme-42/default/not a host", 400),
        ("{app}/acme%00/default/h.example.com/x", 404),
        ("AP" + "0" * 32 + "/acme-42/default/h.example.com/x", 404),
    ],
)
def test_the_application_gateway_refuses_what_names_nothing(owner, consumer, path, status):
    response = owner.client.post("/" + path.format(app=consumer.application_id), {}, format="json")

    assert response.status_code == status, response.content
    error_code(response)
    assert not IncomingMessage.objects.exists()


def test_the_application_gateway_needs_the_providers_token(anon, outsider, consumer):
    token, _ = consumer_client_token_issue(consumer=consumer)
    client_token = APIClient()
    client_token.credentials(HTTP_AUTHORIZATION=f"client-token-bearer {token}")

    assert anon.post(gateway_url(consumer), {}).status_code == 401
    assert outsider.client.post(gateway_url(consumer), {}).status_code == 404
    assert client_token.post(gateway_url(consumer), {}).status_code == 403
    assert not IncomingMessage.objects.exists()


def test_a_parent_account_reaches_its_sub_accounts_applications(owner, sub_account):
    application = make_application(sub_account)
    consumer = consumer_create(application=application, consumer_id="c1", name="C1")

    response = owner.client.post(gateway_url(consumer), {}, format="json")

    assert response.status_code == 200, response.content


# embedded-view-html


def test_the_consumers_embedded_view_html_mounts_an_iframe_with_a_new_client_token(owner, consumer):
    response = owner.client.post(
        consumer_url(consumer, "embedded-view-html"),
        {
            "bucket_key": "development",
            "element_id": "my-hooks",
            "default_tab": "logs",
            "show_introduction": "false",
            "introduction_url": "https://docs.example.com/intro.md",
            "css_url": "https://cdn.example.com/hooks.css",
            "api_url": "https://hooks.example.com",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    html = body["html"]
    assert html.startswith('<div id="my-hooks"></div>')
    assert 'src="https://hooks.example.com/static/providers/embed.js"' in html
    assert 'data-view-url="https://hooks.example.com/embedded/"' in html
    assert f'data-token="{body["token"]}"' in html
    token = ClientToken.objects.get(account=consumer.sub_account)
    assert token.consumer == consumer
    assert token.bucket_key == "development"
    assert token.options == {
        "css_url": "https://cdn.example.com/hooks.css",
        "default_tab": "logs",
        "show_introduction": "never",
        "introduction_url": "https://docs.example.com/intro.md",
    }
    assert Bucket.objects.filter(account=consumer.sub_account, key="development").exists()
    # The token in the snippet is the view's login.
    view = APIClient()
    view.credentials(HTTP_AUTHORIZATION=f"client-token-bearer {body['token']}")
    assert view.get("/v1/embedded/context").json()["default_tab"] == "logs"


def test_the_snippet_defaults_to_this_server_and_its_script(owner, consumer):
    response = owner.client.post(
        consumer_url(consumer, "embedded-view-html"), {"embedded_url": "https://cdn.example.com/e.js"}
    )

    html = response.json()["html"]
    assert '<div id="webhooks-embedded"></div>' in html
    assert 'src="https://cdn.example.com/e.js"' in html
    assert 'data-view-url="http://testserver/embedded/"' in html
    default = owner.client.post(consumer_url(consumer, "embedded-view-html")).json()["html"]
    assert 'src="http://testserver/static/providers/embed.js"' in default


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"element_id": '"><script>'}, "element_id"),
        ({"default_tab": "admin"}, "default_tab"),
        ({"show_introduction": "sometimes"}, "show_introduction"),
        ({"css_url": "javascript:alert(1)"}, "css_url"),
        ({"introduction_url": "file:///etc/passwd"}, "introduction_url"),
    ],
)
def test_the_embedded_view_html_rejects_bad_options(owner, consumer, payload, field):
    response = owner.client.post(consumer_url(consumer, "embedded-view-html"), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not ClientToken.objects.exists()


def test_the_accounts_own_embedded_view_needs_one_of_its_buckets(owner):
    Bucket.objects.create(account=owner.account, name="Orders", key="orders")
    url = f"/v1/accounts/{owner.account.id}/embedded-view-html"

    missing = owner.client.post(url, {"bucket_key": "nope"})
    created = owner.client.post(url, {"bucket_key": "orders"})

    assert missing.status_code == 400
    assert "bucket_key" in missing.json()["error"]["fields"]
    assert created.status_code == 201, created.content
    token = ClientToken.objects.get()
    assert (token.account_id, token.consumer_id, token.bucket_key) == (owner.account.id, None, "orders")
