from __future__ import annotations

import pytest

from tests.conftest import error_code

pytestmark = pytest.mark.django_db


def test_it_lists_the_input_authentication_types_without_a_token(anon):
    response = anon.get("/v1/gateway/authentication/input")

    assert response.status_code == 200, response.content
    names = [t["name"] for t in response.json()["results"]]
    assert names == ["none", "basic", "token", "hmac", "standard_webhooks"]


def test_it_lists_the_destination_authentication_types(anon):
    response = anon.get("/v1/gateway/authentication/destination")

    assert response.status_code == 200
    assert [t["name"] for t in response.json()["results"]] == ["none", "basic", "bearer", "header"]


def test_it_describes_one_type_with_its_options(anon):
    response = anon.get("/v1/gateway/authentication/input/hmac")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "hmac"
    options = {option["name"]: option for option in body["options"]}
    assert list(options) == ["header", "algorithm", "encoding", "prefix", "secret", "signed_content"]
    assert options["algorithm"] == {
        "name": "algorithm",
        "description": "The hash algorithm.",
        "type": "string",
        "required": False,
        "default": "sha256",
        "choices": ["sha1", "sha256", "sha512"],
    }
    assert options["secret"]["required"] is True


def test_the_basic_type_requires_a_username_and_a_password(anon):
    response = anon.get("/v1/gateway/authentication/input/basic")

    assert [(o["name"], o["required"]) for o in response.json()["options"]] == [
        ("username", True),
        ("password", True),
    ]


def test_the_standard_webhooks_tolerance_is_an_integer_defaulting_to_300(anon):
    response = anon.get("/v1/gateway/authentication/input/standard_webhooks")

    tolerance = next(o for o in response.json()["options"] if o["name"] == "tolerance_seconds")
    assert (tolerance["type"], tolerance["default"]) == ("integer", 300)


def test_it_answers_even_with_an_invalid_token(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert anon.get("/v1/gateway/authentication/destination/bearer").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/v1/gateway/authentication/output",
        "/v1/gateway/authentication/output/basic",
        "/v1/gateway/authentication/input/bearer",
        "/v1/gateway/authentication/destination/hmac",
    ],
)
def test_an_unknown_type_is_404(anon, path):
    response = anon.get(path)

    assert response.status_code == 404
    assert error_code(response) == "not_found"
