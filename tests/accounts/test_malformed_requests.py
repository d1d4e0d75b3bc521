"""No body, however malformed, makes an account endpoint answer 500 or leave the error shape."""

from __future__ import annotations

import json

import pytest

from tests.conftest import error_code

pytestmark = pytest.mark.django_db

BODIES = [
    "[1, 2]",
    '"text"',
    "null",
    "{",
    '{"name": {}, "email_address": {"a": 1}, "password": [1], "plan_id": [], '
    '"timezone": 5, "notify": "maybe", "change_key": {}, "new_password": 1}',
]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/register"),
        ("put", "/v1/authenticate"),
        ("post", "/v1/reset_password"),
        ("put", "/v1/accounts/{account}/users/{user}/change_password"),
    ],
)
def test_public_endpoints_answer_400_to_a_malformed_body(anon, owner, method, path, body):
    url = path.format(account=owner.account.id, user=owner.user.id)

    response = getattr(anon, method)(url, body, content_type="application/json")

    assert response.status_code in {400, 401}, response.content
    error_code(response)


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/accounts/{account}/subaccounts"),
        ("put", "/v1/accounts/{account}"),
        ("post", "/v1/accounts/{account}/users"),
        ("put", "/v1/accounts/{account}/users/{user}"),
        ("put", "/v1/accounts/{account}/users/{user}/change_password"),
    ],
)
def test_authenticated_endpoints_answer_400_to_a_malformed_body(owner, method, path, body):
    url = path.format(account=owner.account.id, user=owner.user.id)

    response = getattr(owner.client, method)(url, body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert error_code(response) in {"validation_error", "parse_error"}


def test_an_unsupported_content_type_is_415(anon):
    response = anon.post("/v1/register", json.dumps({}), content_type="text/plain")

    assert response.status_code == 415
    assert error_code(response) == "unsupported_media_type"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/plans/%00",
        "/v1/verify/%00",
        "/v1/password_change_key/%00",
        "/v1/accounts/%00",
        "/v1/accounts/{account}/users/%00",
        "/v1/accounts/{account}/users/%00/api-token",
    ],
)
def test_a_nul_byte_in_the_path_is_404(owner, path):
    response = owner.client.get(path.format(account=owner.account.id))

    assert response.status_code == 404
    assert error_code(response) == "not_found"


@pytest.mark.parametrize("path", ["/v1/accounts", "/v1/accounts/{account}/subaccounts"])
def test_a_nul_byte_in_the_account_key_filter_is_400(owner, path):
    response = owner.client.get(path.format(account=owner.account.id), {"account_key": "\x00"})

    assert response.status_code == 400
    assert "account_key" in response.json()["error"]["fields"]


def test_a_change_key_request_with_odd_ids_is_400(anon):
    response = anon.put(
        "/v1/accounts/%00/users/%00/change_password",
        {
            "new_password": "Brand-New-Secret-7",
            "new_confirm_password": "Brand-New-Secret-7",
            "change_key": "CK1",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "change_key" in response.json()["error"]["fields"]
