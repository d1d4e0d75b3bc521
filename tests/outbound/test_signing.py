from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from destinations.signing import standard_webhooks_headers, url_body_signature
from inputs.authentication_options import new_signing_secret

BODY = b'{"type": "ticket_created", "data": {"id": "7024061"}}'


def test_standard_webhooks_headers_verify_with_the_reference_library():
    secret = new_signing_secret()

    headers = standard_webhooks_headers(secret=secret, msg_id="msg_1", timestamp=int(time.time()), body=BODY)

    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers) == {"type": "ticket_created", "data": {"id": "7024061"}}


def test_standard_webhooks_signature_fails_for_another_secret_or_body():
    headers = standard_webhooks_headers(
        secret=new_signing_secret(), msg_id="msg_1", timestamp=int(time.time()), body=BODY
    )

    with pytest.raises(WebhookVerificationError):
        Webhook(new_signing_secret()).verify(BODY, headers)


def test_during_rotation_both_signatures_are_sent_and_each_verifies():
    old, new = new_signing_secret(), new_signing_secret()

    headers = standard_webhooks_headers(
        secret=[new, old], msg_id="msg_2", timestamp=int(time.time()), body=BODY
    )

    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(s.startswith("v1,") for s in signatures)
    for secret in (old, new):
        Webhook(secret).verify(BODY, headers)


def test_url_body_signature_is_hex_hmac_sha256_of_url_then_body():
    url = "https://receiver.example/hooks?x=1"
    expected = hmac.new(b"s3cret", url.encode() + BODY, hashlib.sha256).hexdigest()

    assert url_body_signature(secret="s3cret", url=url, body=BODY) == expected


def test_url_body_signature_matches_the_qminder_documentation_example():
    # The output of the document's own Node.js getSignature() for this example, run with node.
    expected = "cc316996bed6b481bfe539a643159a25bc8db08be2402e89be25b48e4935fde4"

    signature = url_body_signature(
        secret="71dX4IUKcJMDOaMHeA5IACBSHJkS4LzYNXlZPleg",
        url="https://example.com/webhooks",
        body=b'{ "statusCode": 200 }',
    )

    assert signature == expected
