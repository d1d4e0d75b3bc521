"""The SDK over messages the platform really delivers: the live server, a real Celery worker and
loopback receivers. Messages and Reporting sections of seed 002, the consumers' sending, and the
signature helpers checked on requests the platform signed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import standardwebhooks
from hookrelay import Client, verify_qminder, verify_signature, verify_standard_webhooks

from tests.providers.conftest import VERSION_JSON
from tests.sdk.conftest import live, wait_for
from tests.sdk.test_sections import APPLICATION
from tests.support.receivers import Receiver

pytestmark = [live, pytest.mark.usefixtures("worker")]


def route(sdk: Client, account: str, receiver: Receiver, **destination_options) -> tuple[dict, dict]:
    """A bucket, an input reading its event from the X-Event header, and a destination to
    ``receiver``: (input, destination with its secret)."""
    bucket = sdk.create_bucket(account, name="Shop")
    source = sdk.create_input(
        account, bucket_id=bucket["id"], name="shop", event_location="header", event_path="X-Event"
    )
    destination = sdk.create_destination(
        account, source["id"], name="Receiver", endpoint_url=receiver.url, retry_policy_id="fixed", retry_count=3,
        retry_interval=1, **destination_options,
    )  # fmt: skip
    return source, destination


def test_messages_section(sdk: Client, owner, receiver):
    account = owner.account.id
    source, destination = route(sdk, account, receiver)

    incoming_id = sdk.send_message(source["id"], '{"order": 1}', headers={"X-Event": "order.created"})["id"]
    wait_for(lambda: receiver.requests, "the delivery")
    incoming = wait_for(
        lambda: (
            (m := sdk.get_incoming_message(account, incoming_id, include_outgoing_messages=True))[
                "outgoing_messages"
            ]
            and m
        ),
        "the outgoing message",
    )
    outgoing_id = incoming["outgoing_messages"][0]["id"]
    status = wait_for(
        lambda: (s := sdk.get_outgoing_message_status(account, outgoing_id))["status"] == "succeeded" and s,
        "the outcome",
    )
    outgoing = sdk.get_outgoing_message(account, outgoing_id)

    assert incoming["event_type"] == "order.created"
    assert outgoing["destination_id"] == destination["id"]
    assert [a["status_code"] for a in outgoing["attempts"]] == [200]
    assert status["attempt_count"] == 1
    assert receiver.requests[0].body == b'{"order": 1}'

    resent = sdk.resend(account, outgoing_message_ids=[outgoing_id])["outgoing_messages"]
    wait_for(lambda: len(receiver.requests) == 2, "the resent delivery")
    assert resent[0]["id"] != outgoing_id
    assert receiver.requests[1].body == b'{"order": 1}'


def test_the_signature_helpers_verify_what_the_platform_signed(sdk: Client, owner, receiver):
    account = owner.account.id
    source, destination = route(sdk, account, receiver, signature_scheme="both")
    sdk.send_message(source["id"], '{"ticket": 7}', headers={"X-Event": "ticket_created"})
    request = wait_for(lambda: receiver.requests and receiver.requests[0], "the delivery")
    secret, headers, body = destination["secret"], request.headers, request.body
    qminder_only = {k: v for k, v in headers.items() if not k.lower().startswith("webhook-")}

    assert verify_standard_webhooks(secret, headers, body)
    assert verify_qminder(secret, receiver.url, body, headers["X-Webhooks-Signature"])
    assert verify_signature(secret, headers, body)
    assert verify_signature(secret, qminder_only, body, url=receiver.url)
    # The reference library agrees, both ways.
    standardwebhooks.Webhook(secret).verify(body, headers)
    timestamp = datetime.now(tz=UTC)
    signed = standardwebhooks.Webhook(secret).sign("msg_1", timestamp, body.decode())
    assert verify_standard_webhooks(
        secret, {"webhook-id": "msg_1", "webhook-timestamp": str(int(timestamp.timestamp())), "webhook-signature": signed},
        body,
    )  # fmt: skip
    # What must fail does.
    assert not verify_standard_webhooks(secret, headers, body + b" ")
    assert not verify_standard_webhooks("whsec_" + "A" * 32, headers, body)
    assert not verify_standard_webhooks(secret, headers, body, now=int(headers["webhook-timestamp"]) + 301)
    assert not verify_qminder(secret, receiver.url + "x", body, headers["X-Webhooks-Signature"])
    assert not verify_signature(secret, {"Content-Type": "application/json"}, body)


def test_reporting_section(sdk: Client, owner, receiver):
    account = owner.account.id
    source, _ = route(sdk, account, receiver)
    sdk.send_message(source["id"], '{"order": 2}', headers={"X-Event": "order.paid"})
    wait_for(lambda: receiver.requests, "the delivery")
    now = datetime.now(tz=UTC)
    start, end = (now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=1)).isoformat()

    log = wait_for(
        lambda: list(sdk.paginate(sdk.get_request_log, account, input_id=source["id"])), "the log entry"
    )
    summary = sdk.get_summary_report(account, start_date=start, end_date=end, input_id=source["id"])
    overview = sdk.get_overview_report(account, start_date=start, end_date=end, precision="hour")

    assert len(log) == 1
    assert json.dumps(summary)  # an answer, in the shapes of issue 11
    assert json.dumps(overview)
    assert list(sdk.paginate(sdk.get_request_log, account, input_id=source["id"], http_status=500)) == []


def test_providers_section_sending_and_the_embedded_view(sdk: Client, owner, receiver):
    account = owner.account.id
    app = sdk.create_application(account, **APPLICATION)
    version = sdk.create_application_version(
        account, app["id"], key="1.0", release_date="2015-01-01", version_json=VERSION_JSON, examples_json={},
        active=True,
    )  # fmt: skip
    sdk.create_consumer(account, app["id"], consumer_id="acme", bucket_key="default", name="ACME")
    sdk.create_consumer_destination(
        account, app["id"], "acme", application_version_id=version["id"], name="Hook", bucket_key="default",
        endpoint_url=receiver.url,
    )  # fmt: skip

    assert "default" in json.dumps(sdk.get_consumer_buckets(account, app["id"], "acme"))
    sdk.send_consumer_webhook_request(account, app["id"], "acme", "default", type="invoice.paid", amount=5)
    request = wait_for(lambda: receiver.requests and receiver.requests[0], "the consumer's delivery")
    assert json.loads(request.body) == {"type": "invoice.paid", "amount": 5}
    log = wait_for(
        lambda: list(sdk.paginate(sdk.get_consumer_request_log, account, app["id"], "acme")), "the log"
    )
    assert len(log) == 1
    html = sdk.get_embedded_view_html(
        account, app["id"], "acme", bucket_key="default", css_url="https://a.example/x.css"
    )
    assert "iframe" in json.dumps(html) or "script" in json.dumps(html)
