from __future__ import annotations

import pytest

from deliveries.models import IncomingMessage
from inputs.models import Input
from tests.conftest import error_code
from tests.gateway.conftest import gateway_url, only_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def dynamic_input(make_input) -> Input:
    return make_input(type=Input.Type.DYNAMIC)


@pytest.mark.parametrize(
    ("target", "stored"),
    [
        ("demo.tld-domain.com/receiver/path", "https://demo.tld-domain.com/receiver/path"),
        ("https://demo.tld-domain.com/receiver/path", "https://demo.tld-domain.com/receiver/path"),
        ("http://demo.tld-domain.com:8080/in", "http://demo.tld-domain.com:8080/in"),
        ("HTTP://demo.tld-domain.com/in", "http://demo.tld-domain.com/in"),
        ("https:/demo.tld-domain.com/merged", "https://demo.tld-domain.com/merged"),
        ("demo.tld-domain.com/a%20b/%C3%A9", "https://demo.tld-domain.com/a%20b/%C3%A9"),
        ("demo.tld-domain.com/search%3Fq%3D1", "https://demo.tld-domain.com/search?q=1"),
    ],
)
def test_a_dynamic_input_stores_the_target_url_of_its_path(client, dynamic_input, target, stored):
    response = client.post(f"/{dynamic_input.pk}/{target}", b'{"a": 1}', content_type="application/json")

    assert response.status_code == 200, response.content
    message = only_message(dynamic_input)
    assert response.json() == {"id": message.pk}
    assert message.target_url == stored
    assert message.status == IncomingMessage.Status.RECEIVED
    assert bytes(message.body) == b'{"a": 1}'


def test_the_query_string_stays_off_the_target_url(client, dynamic_input):
    client.post(f"/{dynamic_input.pk}/demo.tld-domain.com/receiver?token=abc")

    message = only_message(dynamic_input)
    assert message.target_url == "https://demo.tld-domain.com/receiver"
    assert message.query_string == "token=abc"


@pytest.mark.parametrize(
    "target",
    [
        "ftp://demo.tld-domain.com/file",
        "javascript:alert(1)",
        "not a host/path",
        "https://",
        "-",
        "demo.tld-domain.com%00/x",
        "x" * 2100 + ".com/path",
    ],
)
def test_an_invalid_target_url_is_400_and_stores_nothing(client, dynamic_input, target):
    response = client.post(f"/{dynamic_input.pk}/{target}")

    assert response.status_code == 400
    assert error_code(response) == "invalid_target_url"
    assert not IncomingMessage.objects.exists()


def test_a_static_input_on_the_dynamic_route_is_404(client, make_input):
    input = make_input()

    response = client.post(f"/{input.pk}/demo.tld-domain.com/receiver")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_a_dynamic_input_on_the_static_route_is_404(client, dynamic_input):
    assert client.post(gateway_url(dynamic_input)).status_code == 404


def test_head_answers_200_for_an_active_dynamic_input(client, dynamic_input):
    assert client.head(f"/{dynamic_input.pk}/demo.tld-domain.com/receiver").status_code == 200


def test_an_inactive_dynamic_input_is_404(client, make_input):
    input = make_input(type=Input.Type.DYNAMIC, status=Input.Status.INACTIVE)

    assert client.post(f"/{input.pk}/demo.tld-domain.com/receiver").status_code == 404
