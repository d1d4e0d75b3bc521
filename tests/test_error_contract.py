"""The one error contract, end to end on the bucket routes: every refusal, however malformed the
request, answers JSON ``{"error": {"code", "message"}}`` with the right status, never HTML or 500."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import error_code
from tests.factories import BucketFactory

pytestmark = pytest.mark.django_db

ODD_IDS = [
    pytest.param("BU" + "0" * 32, id="well-formed-unknown"),
    pytest.param("X" * 5000, id="huge"),
    pytest.param("BU" + "g" * 32, id="not-hex"),
    pytest.param("' OR 1=1 --", id="sql"),
    pytest.param("%00", id="nul-byte"),
    pytest.param("%E2%98%83", id="unicode"),
    pytest.param("%FF%FE", id="invalid-utf8"),
    pytest.param("..%2F..%2Fetc%2Fpasswd", id="traversal"),
]


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    assert isinstance(body["error"]["code"], str)
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def buckets_url(account, bucket_id: str | None = None) -> str:
    base = f"/v1/accounts/{account.id}/buckets"
    return f"{base}/{bucket_id}" if bucket_id else base


def test_a_malformed_json_body_is_400_parse_error(owner):
    response = owner.client.post(
        buckets_url(owner.account), '{"name": "Orders", ', content_type="application/json"
    )

    assert_error(response, 400, "parse_error")


def test_a_json_body_that_is_not_an_object_is_400_in_the_error_shape(owner):
    response = owner.client.post(buckets_url(owner.account), "[1, 2]", content_type="application/json")

    error = assert_error(response, 400, "validation_error")
    assert "dictionary" in error["message"]


def test_a_validation_error_lists_the_fields(owner):
    response = owner.client.post(buckets_url(owner.account), {"key": "not a slug!"}, format="json")

    error = assert_error(response, 400, "validation_error")
    assert {"name", "key"} <= set(error["fields"])


def test_an_unsupported_content_type_is_415(owner):
    response = owner.client.post(buckets_url(owner.account), "name=Orders", content_type="text/plain")

    assert_error(response, 415, "unsupported_media_type")


def test_a_wrong_method_is_405(owner):
    bucket = BucketFactory(account=owner.account)

    response = owner.client.post(buckets_url(owner.account, bucket.id), {}, format="json")

    assert_error(response, 405, "method_not_allowed")


def test_a_wrong_method_on_a_list_is_405(owner):
    response = owner.client.delete(buckets_url(owner.account))

    assert_error(response, 405, "method_not_allowed")


def test_a_missing_token_is_401_with_a_challenge(anon, account_a):
    response = anon.get(buckets_url(account_a))

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_401(anon, account_a):
    anon.credentials(HTTP_AUTHORIZATION="Bearer wha_not-a-real-token")

    response = anon.get(buckets_url(account_a))

    assert_error(response, 401, "authentication_failed")


def test_a_viewer_writing_is_403(viewer):
    response = viewer.client.post(buckets_url(viewer.account), {"name": "Nope"}, format="json")

    assert_error(response, 403, "permission_denied")


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/v1/nothing-here", id="unknown-v1-path"),
        pytest.param("/v1/accounts/{account}/nothing-here", id="unknown-account-subpath"),
        pytest.param("/v1/accounts/{account}/buckets/", id="trailing-slash"),
        pytest.param("/nothing-here", id="unknown-non-api-path"),
        pytest.param("/", id="root"),
    ],
)
def test_an_unknown_path_is_a_json_404(owner, path):
    response = owner.client.get(path.format(account=owner.account.id))

    assert_error(response, 404, "not_found")


def test_an_unknown_path_is_a_json_404_even_without_a_token():
    response = Client().post("/v1/nothing-here", "<xml/>", content_type="application/xml")

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("odd_id", ODD_IDS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_an_odd_bucket_id_is_404(owner, odd_id, method):
    response = getattr(owner.client, method)(buckets_url(owner.account, odd_id), {}, format="json")

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("odd_id", ODD_IDS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_odd_account_id_is_404(owner, odd_id, method):
    response = getattr(owner.client, method)(f"/v1/accounts/{odd_id}/buckets", {}, format="json")

    assert_error(response, 404, "not_found")


def test_a_foreign_bucket_is_404_not_403(owner, outsider):
    theirs = BucketFactory(account=outsider.account)

    response = owner.client.delete(buckets_url(owner.account, theirs.id))

    assert_error(response, 404, "not_found")


def test_a_409_conflict_is_in_the_error_shape(owner):
    BucketFactory(account=owner.account, key="dup")

    response = owner.client.post(buckets_url(owner.account), {"name": "Dup", "key": "dup"}, format="json")

    assert_error(response, 409, "conflict")


def test_a_value_the_database_refuses_is_400_not_500(db):
    client = APIClient()
    response = client.post(
        "/v1/register",
        {
            "first_name": "Bob",
            "last_name": "Smith",
            "email_address": "nul@example.com",
            "password": "a-long-passphrase-1",
            "password_confirm": "a-long-passphrase-1",
            "plan_id": "fr\x00ee",
        },
        format="json",
    )

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
