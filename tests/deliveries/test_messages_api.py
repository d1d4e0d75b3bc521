from __future__ import annotations

import base64

import pytest

from tests.conftest import error_code
from tests.deliveries.factories import AttemptFactory, IncomingMessageFactory, OutgoingMessageFactory

pytestmark = pytest.mark.django_db


def base(account) -> str:
    return f"/v1/accounts/{account.id}"


@pytest.fixture
def outgoing(owner):
    return OutgoingMessageFactory(account=owner.account)


@pytest.fixture
def foreign_outgoing(outsider):
    return OutgoingMessageFactory(account=outsider.account)


def test_it_returns_an_incoming_message_with_its_text_body(owner, outgoing):
    incoming = outgoing.incoming

    response = owner.client.get(f"{base(owner.account)}/incoming/{incoming.id}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == incoming.id
    assert body["account_id"] == owner.account.id
    assert body["bucket_id"] == incoming.bucket_id
    assert body["input_id"] == incoming.input_id
    assert body["status"] == "processed"
    assert body["method"] == "POST"
    assert body["query_string"] == "source=shop"
    assert body["headers"] == {"Content-Type": "application/json", "X-Shop": "acme"}
    assert body["body"] == '{"order": 1}'
    assert "body_encoding" not in body
    assert body["event_type"] == "order.created"
    assert body["source_ip"] == "203.0.113.7"
    assert "outgoing_messages" not in body


def test_it_returns_a_binary_body_as_base64_with_a_marker(owner):
    raw = b"\x89PNG\r\n\x1a\n\xff\x00"
    incoming = IncomingMessageFactory(account=owner.account, body=raw, content_type="image/png")

    body = owner.client.get(f"{base(owner.account)}/incoming/{incoming.id}").json()

    assert body["body_encoding"] == "base64"
    assert base64.b64decode(body["body"]) == raw


def test_it_nests_the_outgoing_messages_on_request(owner, outgoing):
    response = owner.client.get(
        f"{base(owner.account)}/incoming/{outgoing.incoming_id}", {"include_outgoing_messages": "true"}
    )

    assert response.status_code == 200
    [nested] = response.json()["outgoing_messages"]
    assert nested["id"] == outgoing.id
    assert nested["destination_id"] == outgoing.destination_id
    assert nested["status"] == "failed"


def test_a_viewer_reads_messages(viewer, outgoing):
    response = viewer.client.get(f"{base(viewer.account)}/incoming/{outgoing.incoming_id}")

    assert response.status_code == 200


def test_it_answers_404_for_a_foreign_incoming_message(owner, foreign_outgoing):
    response = owner.client.get(f"{base(owner.account)}/incoming/{foreign_outgoing.incoming_id}")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_it_answers_404_for_an_unknown_incoming_message(owner):
    response = owner.client.get(f"{base(owner.account)}/incoming/IM{'0' * 32}")

    assert response.status_code == 404


def test_it_returns_an_outgoing_message_with_all_its_attempts(owner, outgoing):
    first = AttemptFactory(outgoing=outgoing, number=1)
    second = AttemptFactory(outgoing=outgoing, number=2, status_code=503)

    response = owner.client.get(f"{base(owner.account)}/outgoing/{outgoing.id}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == outgoing.id
    assert body["incoming_message_id"] == outgoing.incoming_id
    assert body["destination_id"] == outgoing.destination_id
    assert body["resent_from_id"] is None
    assert body["status"] == "failed"
    assert body["attempt_count"] == 1
    assert body["last_status_code"] == 500
    assert body["error"] == "HTTP 500"
    assert [attempt["id"] for attempt in body["attempts"]] == [first.id, second.id]
    assert body["attempts"][1]["status_code"] == 503


def test_it_returns_the_status_of_an_outgoing_message(owner, outgoing):
    response = owner.client.get(f"{base(owner.account)}/outgoing/{outgoing.id}/status")

    assert response.status_code == 200
    assert set(response.json()) == {
        "id",
        "status",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
        "completed_at",
    }
    assert response.json()["status"] == "failed"


def test_it_answers_404_for_a_foreign_outgoing_message_and_its_status(owner, foreign_outgoing):
    for suffix in ("", "/status"):
        response = owner.client.get(f"{base(owner.account)}/outgoing/{foreign_outgoing.id}{suffix}")

        assert response.status_code == 404
        assert error_code(response) == "not_found"


def test_it_returns_one_attempt(owner, outgoing):
    attempt = AttemptFactory(outgoing=outgoing, response_body=b"busy")

    response = owner.client.get(f"{base(owner.account)}/attempts/{attempt.id}")

    assert response.status_code == 200
    body = response.json()
    assert body["outgoing_message_id"] == outgoing.id
    assert body["request_method"] == "POST"
    assert body["request_url"] == outgoing.destination.endpoint_url
    assert body["request_headers"] == {"Content-Type": "application/json"}
    assert body["status_code"] == 500
    assert body["response_headers"] == {"Content-Type": "text/plain"}
    assert body["response_body"] == "busy"
    assert "response_body_encoding" not in body
    assert body["succeeded"] is False
    assert body["error_kind"] == "status"
    assert body["elapsed_ms"] == 42


def test_it_returns_a_binary_response_body_as_base64(owner, outgoing):
    attempt = AttemptFactory(outgoing=outgoing, response_body=b"\xff\xfe")

    body = owner.client.get(f"{base(owner.account)}/attempts/{attempt.id}").json()

    assert body["response_body_encoding"] == "base64"
    assert base64.b64decode(body["response_body"]) == b"\xff\xfe"


def test_it_answers_404_for_a_foreign_attempt(owner, foreign_outgoing):
    attempt = AttemptFactory(outgoing=foreign_outgoing)

    response = owner.client.get(f"{base(owner.account)}/attempts/{attempt.id}")

    assert response.status_code == 404


def test_the_parent_account_reads_a_sub_accounts_messages(owner, sub_account):
    outgoing = OutgoingMessageFactory(account=sub_account)

    response = owner.client.get(f"{base(sub_account)}/outgoing/{outgoing.id}")

    assert response.status_code == 200


def test_anonymous_gets_401(anon, outgoing):
    response = anon.get(f"/v1/accounts/{outgoing.account_id}/outgoing/{outgoing.id}")

    assert response.status_code == 401
