"""The simple webhooks API: ``/v1/webhooks`` on the token's own account (seeds 000, 001, 003)."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import override_settings
from rest_framework.test import APIClient
from standardwebhooks import Webhook as StandardWebhook

from accounts.services import api_token_issue
from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from destinations.models import Destination
from tests.conftest import error_code
from tests.support.receivers import Reply
from webhooks.models import WEBHOOKS_KEY, Webhook

pytestmark = pytest.mark.django_db

SEED_001 = Path("/work/shared/seeds/001_929a21752b1f8188.txt")


def create(client, url: str = "https://hooks.example.com/qminder", **fields):
    return client.post("/v1/webhooks", {"url": url, **fields}, format="json")


def test_create_answers_201_with_id_url_secret_events_and_created(owner):
    response = create(owner.client, events=["ticket_created", "ticket_called"])

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "url", "secret", "events", "created"}
    assert body["id"].startswith("WH")
    assert body["url"] == "https://hooks.example.com/qminder"
    assert body["events"] == ["ticket_created", "ticket_called"]
    webhook = Webhook.objects.select_related("destination__input").get(pk=body["id"])
    assert body["secret"] == webhook.destination.secret
    destination = webhook.destination
    assert destination.feed == Destination.Feed.ACCOUNT
    assert destination.signature_scheme == Destination.SignatureScheme.BOTH
    assert destination.header_prefix == "Qminder"
    assert destination.input.key == WEBHOOKS_KEY


def test_every_webhook_of_an_account_shares_one_webhooks_input(owner):
    first = create(owner.client, "https://one.example.com/hook").json()
    second = create(owner.client, "https://two.example.com/hook").json()

    inputs = {Webhook.objects.get(pk=body["id"]).destination.input_id for body in (first, second)}

    assert len(inputs) == 1


def test_a_form_encoded_url_is_accepted(owner):
    response = owner.client.post("/v1/webhooks", {"url": "https://hooks.example.com/form"})

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("body", [{}, {"url": ""}, {"url": None}])
def test_a_missing_url_is_error_no_url(owner, body):
    response = owner.client.post("/v1/webhooks", body, format="json")

    assert response.status_code == 400
    assert error_code(response) == "ERROR_NO_URL"
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "https://localhost/hook",
        "https://example/hook",
        "https://example.123/hook",
        "https://1.2/hook",
        "example.com/hook",
        "https://" + "a" * 500 + ".example.com/",
    ],
)
def test_urls_breaking_the_seed_rules_are_refused(owner, url):
    response = create(owner.client, url)

    assert response.status_code == 400, response.content
    assert error_code(response) == "validation_error"
    assert "url" in response.json()["error"]["fields"]


def test_a_url_of_512_characters_is_accepted(owner):
    url = "https://hooks.example.com/" + "a" * (512 - len("https://hooks.example.com/"))

    assert create(owner.client, url).status_code == 201


def test_a_url_already_registered_on_the_account_is_409(owner, outsider):
    create(owner.client)

    again = create(owner.client)
    elsewhere = create(outsider.client)

    assert again.status_code == 409
    error_code(again)
    assert elsewhere.status_code == 201


def test_list_is_paginated_without_secrets(owner, outsider):
    create(owner.client, "https://one.example.com/hook")
    create(owner.client, "https://two.example.com/hook")
    create(outsider.client, "https://three.example.com/hook")

    body = owner.client.get("/v1/webhooks").json()

    assert body["count"] == 2
    assert [item["url"] for item in body["results"]] == [
        "https://one.example.com/hook",
        "https://two.example.com/hook",
    ]
    assert all("secret" not in item for item in body["results"])


def test_get_put_and_delete_one(owner):
    webhook_id = create(owner.client).json()["id"]

    got = owner.client.get(f"/v1/webhooks/{webhook_id}")
    put = owner.client.put(
        f"/v1/webhooks/{webhook_id}",
        {"url": "https://new.example.com/hook", "events": "ticket_served"},
        format="json",
    )
    events_only = owner.client.put(f"/v1/webhooks/{webhook_id}", {"events": []}, format="json")
    deleted = owner.client.delete(f"/v1/webhooks/{webhook_id}")

    assert got.status_code == 200
    assert "secret" not in got.json()
    assert put.status_code == 200, put.content
    assert put.json()["url"] == "https://new.example.com/hook"
    assert put.json()["events"] == ["ticket_served"]
    assert events_only.json() == {**put.json(), "events": []}
    assert deleted.status_code == 204
    assert not Webhook.objects.exists()
    assert not Destination.objects.filter(feed=Destination.Feed.ACCOUNT).exists()
    assert owner.client.get(f"/v1/webhooks/{webhook_id}").status_code == 404


def test_put_to_a_url_another_webhook_has_is_409(owner):
    create(owner.client, "https://one.example.com/hook")
    second = create(owner.client, "https://two.example.com/hook").json()["id"]

    response = owner.client.put(
        f"/v1/webhooks/{second}", {"url": "https://one.example.com/hook"}, format="json"
    )

    assert response.status_code == 409


@pytest.mark.parametrize("method", ["get", "put", "delete"])
@pytest.mark.parametrize("webhook_id", ["123", "undefined", "WH" + "z" * 32])
def test_a_malformed_webhook_id_is_error_no_webhook_id(owner, method, webhook_id):
    response = getattr(owner.client, method)(f"/v1/webhooks/{webhook_id}")

    assert response.status_code == 400
    assert error_code(response) == "ERROR_NO_WEBHOOK_ID"


def test_a_malformed_id_to_test_is_error_no_webhook_id(owner):
    response = owner.client.post("/v1/webhooks/test/123")

    assert error_code(response) == "ERROR_NO_WEBHOOK_ID"


# Tenancy: the routes act on the token's own account.


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/webhooks/{id}"),
        ("put", "/v1/webhooks/{id}"),
        ("delete", "/v1/webhooks/{id}"),
        ("post", "/v1/webhooks/test/{id}"),
    ],
)
@pytest.mark.parametrize("intruder", ["outsider", "sub_owner"])
def test_another_accounts_webhook_is_404_and_untouched(request, owner, method, path, intruder):
    webhook_id = create(owner.client).json()["id"]
    client = request.getfixturevalue(intruder).client

    response = getattr(client, method)(
        path.format(id=webhook_id), {"url": "https://x.example.com/h"}, format="json"
    )

    assert response.status_code == 404
    error_code(response)
    webhook = Webhook.objects.select_related("destination").get(pk=webhook_id)
    assert webhook.destination.endpoint_url == "https://hooks.example.com/qminder"
    assert not Attempt.objects.exists()


def test_a_sub_account_does_not_see_the_parents_webhooks(owner, sub_owner):
    create(owner.client)

    assert sub_owner.client.get("/v1/webhooks").json()["count"] == 0


def test_a_viewer_reads_but_cannot_write(owner, viewer):
    webhook_id = create(owner.client).json()["id"]

    assert viewer.client.get("/v1/webhooks").status_code == 200
    assert viewer.client.get(f"/v1/webhooks/{webhook_id}").status_code == 200
    for response in (
        create(viewer.client, "https://viewer.example.com/hook"),
        viewer.client.put(f"/v1/webhooks/{webhook_id}", {"events": "x"}, format="json"),
        viewer.client.delete(f"/v1/webhooks/{webhook_id}"),
        viewer.client.post(f"/v1/webhooks/test/{webhook_id}"),
    ):
        assert response.status_code == 403
        error_code(response)
    assert Webhook.objects.count() == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/webhooks"),
        ("post", "/v1/webhooks"),
        ("get", "/v1/webhooks/WH" + "0" * 32),
        ("post", "/v1/webhooks/test/WH" + "0" * 32),
    ],
)
def test_anonymous_is_401(anon, method, path):
    response = getattr(anon, method)(path)

    assert response.status_code == 401
    error_code(response)


# Scopes (seed 003's permissions)


def scoped_client(actor, *scopes: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=actor.user, scopes=list(scopes))}")
    return client


def test_each_route_needs_its_scope(owner):
    webhook_id = create(owner.client).json()["id"]
    view = scoped_client(owner, "WEBHOOKS:VIEW")
    add = scoped_client(owner, "WEBHOOKS:ADD")
    edit = scoped_client(owner, "WEBHOOKS:EDIT")
    remove = scoped_client(owner, "WEBHOOKS:REMOVE")

    assert view.get("/v1/webhooks").status_code == 200
    assert view.get(f"/v1/webhooks/{webhook_id}").status_code == 200
    assert create(view, "https://view.example.com/h").status_code == 403
    assert add.get("/v1/webhooks").status_code == 403
    assert create(add, "https://add.example.com/h").status_code == 201
    assert add.put(f"/v1/webhooks/{webhook_id}", {"events": "a"}, format="json").status_code == 403
    assert edit.put(f"/v1/webhooks/{webhook_id}", {"events": "a"}, format="json").status_code == 200
    assert edit.delete(f"/v1/webhooks/{webhook_id}").status_code == 403
    assert remove.delete(f"/v1/webhooks/{webhook_id}").status_code == 204


def test_a_scoped_token_reaches_no_other_route_and_a_full_token_every_one(owner):
    view = scoped_client(owner, "WEBHOOKS:VIEW", "WEBHOOKS:ADD", "WEBHOOKS:EDIT", "WEBHOOKS:REMOVE")

    refused = view.get(f"/v1/accounts/{owner.account.id}/buckets")
    allowed = owner.client.get(f"/v1/accounts/{owner.account.id}/buckets")

    assert refused.status_code == 403
    assert error_code(refused) == "permission_denied"
    assert allowed.status_code == 200


def test_the_token_api_issues_a_scoped_token(owner):
    url = f"/v1/accounts/{owner.account.id}/users/{owner.user.id}/api-token"

    issued = owner.client.get(url, {"scopes": "WEBHOOKS:VIEW"})
    unknown = owner.client.get(url, {"scopes": "WEBHOOKS:EVERYTHING"})

    assert issued.status_code == 200, issued.content
    assert issued.json()["scopes"] == ["WEBHOOKS:VIEW"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.json()['api_token']}")
    assert client.get("/v1/webhooks").status_code == 200
    assert create(client).status_code == 403
    assert unknown.status_code == 400
    assert owner.client.get(url).json()["scopes"] == []


# POST /v1/webhooks/test/:id


def test_test_sends_a_signed_dummy_payload_at_once_and_answers_the_attempt(owner, receiver):
    receiver.reply = Reply(status=200, body=b'{"received": true}')
    created = create(owner.client, receiver.url).json()

    response = owner.client.post(f"/v1/webhooks/test/{created['id']}")

    assert response.status_code == 200, response.content
    result = response.json()
    assert result["succeeded"] is True
    assert result["status_code"] == 200
    assert result["elapsed_ms"] >= 0
    assert result["response_excerpt"] == '{"received": true}'
    assert result["error"] == ""
    (request,) = receiver.requests
    assert json.loads(request.body)["type"] == "webhook_test"
    expected = hmac.new(
        created["secret"].encode(), receiver.url.encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["X-Qminder-Signature"] == expected
    assert StandardWebhook(created["secret"]).verify(request.body, request.headers)["type"] == "webhook_test"
    outgoing = OutgoingMessage.objects.get(pk=result["outgoing_message_id"])
    assert outgoing.status == OutgoingMessage.Status.SUCCEEDED
    assert outgoing.incoming.event_type == "webhook_test"
    assert outgoing.incoming.status == IncomingMessage.Status.PROCESSED
    assert Attempt.objects.get(pk=result["attempt_id"]).status_code == 200


def test_test_of_a_failing_url_answers_the_failed_attempt_without_retrying(owner, unused_port):
    created = create(owner.client, f"http://127.0.0.1:{unused_port}/hook").json()

    result = owner.client.post(f"/v1/webhooks/test/{created['id']}").json()

    assert result["succeeded"] is False
    assert result["status_code"] is None
    assert result["error_kind"] == "connection"
    assert result["error"]
    outgoing = OutgoingMessage.objects.get(pk=result["outgoing_message_id"])
    assert outgoing.status == OutgoingMessage.Status.FAILED
    assert outgoing.completed_at is not None


def test_test_of_a_private_address_is_blocked_by_the_ssrf_guard(owner, receiver):
    created = create(owner.client, receiver.url).json()

    with override_settings(OUTBOUND_ALLOWED_NETWORKS=[]):
        result = owner.client.post(f"/v1/webhooks/test/{created['id']}").json()

    assert result["error_kind"] == "ssrf_blocked"
    assert not receiver.requests


@pytest.mark.skipif(
    shutil.which("node") is None, reason="node is not installed: seed 001's snippet cannot run"
)
def test_seed_001s_nodejs_get_signature_matches_the_received_header(owner, receiver, tmp_path):
    """Seed 001's snippet, run as published with only its secret and arguments replaced."""
    created = create(owner.client, receiver.url).json()
    owner.client.post(f"/v1/webhooks/test/{created['id']}")
    (request,) = receiver.requests
    seed = SEED_001.read_text()
    snippet = seed[seed.index("const crypto = require('crypto');") :]
    snippet = snippet.replace("'71dX4IUKcJMDOaMHeA5IACBSHJkS4LzYNXlZPleg'", json.dumps(created["secret"]))
    call = snippet[snippet.index("console.log(") :]
    snippet = snippet.replace(
        call, f"console.log(getSignature({json.dumps(receiver.url)}, {json.dumps(request.body.decode())}));"
    )
    script = tmp_path / "verify.js"
    script.write_text(snippet)

    node = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60, check=True)

    assert node.stdout.strip() == request.headers["X-Qminder-Signature"]
