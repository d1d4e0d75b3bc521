"""Whatever a sender throws at the gateway, the answer is never a 500."""

from __future__ import annotations

import pytest

from inputs.models import Input
from tests.conftest import error_code
from tests.gateway.conftest import gateway_url, only_message

pytestmark = pytest.mark.django_db


def test_nul_bytes_in_headers_are_stored_as_replacement_characters(client, make_input):
    input = make_input(event_location=Input.EventLocation.HEADER, event_path="X-Event")

    response = client.post(gateway_url(input), headers={"X-Event": "a\x00b", "X-Odd\x00": "c"})

    assert response.status_code == 200
    message = only_message(input)
    assert message.headers["X-Event"] == "a\ufffdb"
    assert message.event_type == "a\ufffdb"


def test_a_huge_header_is_stored(client, make_input):
    input = make_input()

    response = client.post(gateway_url(input), headers={"X-Huge": "h" * 200_000})

    assert response.status_code == 200
    assert len(only_message(input).headers["X-Huge"]) == 200_000


def test_a_non_utf8_query_string_is_stored_percent_encoded(client, make_input):
    input = make_input(event_location=Input.EventLocation.QUERY, event_path="event")

    # WSGI carries raw query bytes as latin-1 characters: "\xff" is the byte 0xFF.
    response = client.post(gateway_url(input), QUERY_STRING="event=%ff%00&raw=\xff\x00 x")

    assert response.status_code == 200
    message = only_message(input)
    assert message.query_string == "event=%ff%00&raw=%FF%00%20x"
    assert message.event_type == "\ufffd\ufffd"


@pytest.mark.parametrize("length", ["-5", "abc", "1e3", ""])
def test_a_malformed_content_length_reads_no_body(client, make_input, length):
    input = make_input()

    response = client.post(gateway_url(input), b"body", content_type="text/plain", CONTENT_LENGTH=length)

    assert response.status_code == 200
    assert bytes(only_message(input).body) == b""


def test_an_overlong_content_type_is_400(client, make_input):
    input = make_input()

    response = client.post(gateway_url(input), b"{}", content_type="application/json; x=" + "y" * 300)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_an_overlong_path_is_stored_truncated(client, make_input):
    input = make_input()

    response = client.post(gateway_url(input, "n" * 3000), b"{}", content_type="application/json")

    assert response.status_code == 200
    assert len(only_message(input).path) == 2048


@pytest.mark.parametrize("source", ["", "unix:/run/gunicorn.sock", "not-an-ip"])
def test_a_source_address_that_is_no_ip_is_stored_as_none(client, make_input, source):
    input = make_input()

    client.post(gateway_url(input), REMOTE_ADDR=source)

    assert only_message(input).source_ip is None


def test_an_ipv6_source_address_is_stored(client, make_input):
    input = make_input()

    client.post(gateway_url(input), REMOTE_ADDR="2001:db8::1")

    assert only_message(input).source_ip == "2001:db8::1"


def test_a_host_not_allowed_is_400_and_stores_nothing(client, make_input):
    """The gateway skips the browser/API middleware, not ALLOWED_HOSTS."""
    input = make_input()

    response = client.post(
        gateway_url(input), b"{}", content_type="application/json", HTTP_HOST="evil.example"
    )

    assert response.status_code == 400
    assert error_code(response) == "bad_request"
    assert not input.incoming_messages.exists()
