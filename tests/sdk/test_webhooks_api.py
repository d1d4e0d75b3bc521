"""``client.webhooks``: the simple webhooks API (create, list, get, update, test, remove) against
the live server, and the signatures of its test delivery checked by the SDK's helpers."""

from __future__ import annotations

import json

import pytest
from hookrelay import Client, HookRelayError, verify_qminder, verify_signature

from tests.sdk.conftest import live

pytestmark = live


def test_the_simple_webhooks_api(sdk: Client, receiver):
    created = sdk.webhooks.create(receiver.url)
    other = sdk.webhooks.create("https://two.example.com/hook", events=["ticket_served"])

    assert created["secret"]
    assert {w["id"] for w in sdk.webhooks.list()} == {created["id"], other["id"]}
    assert sdk.webhooks.get(created["id"])["url"] == receiver.url
    assert sdk.webhooks.update(other["id"], url="https://three.example.com/hook")["url"] == (
        "https://three.example.com/hook"
    )

    result = sdk.webhooks.test(created["id"])
    (request,) = receiver.requests
    assert result["status_code"] == 200
    assert json.loads(request.body)["type"] == "webhook_test"
    assert verify_qminder(
        created["secret"], receiver.url, request.body, request.headers["X-Qminder-Signature"]
    )
    assert verify_signature(created["secret"], request.headers, request.body)

    sdk.webhooks.remove(created["id"])
    sdk.webhooks.remove(other["id"])
    assert list(sdk.webhooks.list()) == []


def test_a_bad_url_raises_the_error_shape(sdk: Client):
    with pytest.raises(HookRelayError) as refused:
        sdk.webhooks.create("ftp://nowhere")

    assert refused.value.status == 400
    assert "url" in refused.value.fields or refused.value.code == "ERROR_NO_URL"
