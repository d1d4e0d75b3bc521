from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core import mail

from accounts.models import Account, ApiToken, User, UserKey
from core.secrets import digest
from tests.accounts.conftest import emailed_key
from tests.conftest import error_code

pytestmark = pytest.mark.django_db

# The reference's example, with a password Django's validators accept ("mypassword" is too common).
REFERENCE_EXAMPLE = {
    "name": "Sample Company, LLC",
    "first_name": "Bob",
    "last_name": "Smith",
    "email_address": "bob.smith@example.com",
    "password": "Sample-Company-2024",
    "password_confirm": "Sample-Company-2024",
    "plan_id": "free",
}


def test_it_registers_an_account_with_its_owner_and_a_token(anon):
    response = anon.post("/v1/register", REFERENCE_EXAMPLE, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"account", "user", "api_token"}
    account = Account.objects.get(pk=body["account"]["id"])
    assert account.name == "Sample Company, LLC"
    assert account.plan_id == "free"
    assert account.parent_id is None
    assert body["account"]["plan_id"] == "free"
    user = User.objects.get(pk=body["user"]["id"])
    assert user.account_id == account.id
    assert user.permission_level == "owner"
    assert user.check_password("Sample-Company-2024")
    assert "password" not in body["user"]
    assert body["user"]["email_verified"] is False
    token_check = anon.get(f"/v1/accounts/{account.id}", HTTP_AUTHORIZATION=f"Bearer {body['api_token']}")
    assert token_check.status_code == 200


def test_it_accepts_a_form_encoded_registration_with_ignored_billing_fields(anon):
    data = {**REFERENCE_EXAMPLE, "card_number": "4242424242424242", "coupon": "X", "invite_code": "Y"}

    response = anon.post("/v1/register", data)

    assert response.status_code == 201, response.content
    assert response.json()["user"]["email_address"] == "bob.smith@example.com"


def test_it_emails_a_verification_link_that_verifies_the_address(anon):
    anon.post("/v1/register", REFERENCE_EXAMPLE, format="json")

    assert len(mail.outbox) == 1
    key = emailed_key("EV", to="bob.smith@example.com")
    assert f"{settings.PUBLIC_BASE_URL}/v1/verify/{key}" in mail.outbox[0].body
    response = anon.get(f"/v1/verify/{key}")

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "success"}
    assert User.objects.get(email_address="bob.smith@example.com").email_verified is True
    assert UserKey.objects.get().digest == digest(key)


def test_a_verification_key_works_once(anon):
    anon.post("/v1/register", REFERENCE_EXAMPLE, format="json")
    key = emailed_key("EV", to="bob.smith@example.com")
    anon.get(f"/v1/verify/{key}")

    again = anon.get(f"/v1/verify/{key}")

    assert again.status_code == 404
    assert error_code(again) == "not_found"


def test_verification_redirects_to_the_callback_url_with_the_status(anon):
    data = {**REFERENCE_EXAMPLE, "email_verification_callback_url": "https://app.example.com/verified?x=1"}
    anon.post("/v1/register", data, format="json")
    key = emailed_key("EV", to="bob.smith@example.com")

    first = anon.get(f"/v1/verify/{key}")
    second = anon.get(f"/v1/verify/{key}")

    assert first.status_code == 302
    first_url = urlsplit(first["Location"])
    assert (first_url.netloc, first_url.path) == ("app.example.com", "/verified")
    assert parse_qs(first_url.query) == {"x": ["1"], "status": ["success"]}
    assert second.status_code == 302
    assert parse_qs(urlsplit(second["Location"]).query)["status"] == ["failure"]


def test_an_unknown_verification_key_is_404(anon):
    response = anon.get("/v1/verify/EV00000000000000000000000000000000")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_it_answers_409_for_an_email_already_registered(anon, owner):
    data = {**REFERENCE_EXAMPLE, "email_address": owner.user.email_address.upper()}

    response = anon.post("/v1/register", data, format="json")

    assert response.status_code == 409
    assert error_code(response) == "conflict"
    assert "email_address" in response.json()["error"]["fields"]
    assert not Account.objects.filter(name="Sample Company, LLC").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password_confirm": "Other-Password-2024"}, "password_confirm"),
        ({"plan_id": "platinum"}, "plan_id"),
        ({"password": "short", "password_confirm": "short"}, "password"),
        ({"password": "mypassword", "password_confirm": "mypassword"}, "password"),
        ({"email_address": "not-an-email"}, "email_address"),
        ({"first_name": ""}, "first_name"),
        ({"email_verification_callback_url": "javascript:alert(1)"}, "email_verification_callback_url"),
    ],
)
def test_it_rejects_a_bad_registration_with_the_field(anon, change, field):
    response = anon.post("/v1/register", {**REFERENCE_EXAMPLE, **change}, format="json")

    assert response.status_code == 400, response.content
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"]
    assert not User.objects.exists()


def test_registration_needs_the_required_fields(anon):
    response = anon.post("/v1/register", {}, format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    for name in ["first_name", "last_name", "email_address", "password", "password_confirm", "plan_id"]:
        assert name in fields


def test_registration_ignores_a_bad_token(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer nonsense")

    response = anon.post("/v1/register", REFERENCE_EXAMPLE, format="json")

    assert response.status_code == 201


def test_the_registration_token_is_stored_hashed(anon):
    token = anon.post("/v1/register", REFERENCE_EXAMPLE, format="json").json()["api_token"]

    row = ApiToken.objects.get()
    assert token not in {str(value) for value in row.__dict__.values()}
