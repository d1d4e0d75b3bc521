from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_issue
from tests.conftest import error_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's password


def account_url(actor) -> str:
    return f"/v1/accounts/{actor.account.id}"


def login(client: APIClient, email_address: str, password: str, fmt: str | None = "json"):
    return client.put("/v1/authenticate", {"email_address": email_address, "password": password}, format=fmt)


def test_it_logs_in_with_email_and_password(anon, owner):
    response = login(anon, owner.user.email_address, PASSWORD)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"user", "account", "session_token", "expires_at"}
    assert body["user"]["id"] == owner.user.id
    assert body["account"]["id"] == owner.account.id
    session = ApiToken.objects.get(user=owner.user, kind=ApiToken.Kind.SESSION)
    assert session.expires_at > timezone.now()
    follow = anon.get(account_url(owner), HTTP_AUTHORIZATION=f"Bearer {body['session_token']}")
    assert follow.status_code == 200


def test_it_logs_in_with_a_form_body_and_any_email_case(anon, owner):
    response = login(anon, owner.user.email_address.upper(), PASSWORD, fmt=None)

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("which", ["unknown_email", "wrong_password"])
def test_a_failed_login_is_401_with_one_message(anon, owner, which):
    email = "nobody@example.com" if which == "unknown_email" else owner.user.email_address
    password = PASSWORD if which == "unknown_email" else "wrong-password"

    response = login(anon, email, password)

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"
    assert response.json()["error"]["message"] == "Invalid email address or password."
    assert not ApiToken.objects.filter(kind=ApiToken.Kind.SESSION).exists()


def test_an_inactive_user_cannot_log_in(anon, owner):
    owner.user.is_active = False
    owner.user.save()

    assert login(anon, owner.user.email_address, PASSWORD).status_code == 401


def test_login_needs_both_fields(anon):
    response = anon.put("/v1/authenticate", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"email_address", "password"}


def test_tokens_are_not_stored_in_plain_text(owner):
    row = ApiToken.objects.get(user=owner.user)

    assert owner.token not in {str(value) for value in row.__dict__.values()}
    assert owner.token.startswith(row.hint)


def test_the_token_works_as_a_query_parameter(anon, owner):
    response = anon.get(f"{account_url(owner)}?_token={owner.token}")

    assert response.status_code == 200
    assert response.json()["id"] == owner.account.id


def test_a_wrong_token_is_401(anon, owner):
    anon.credentials(HTTP_AUTHORIZATION="Bearer wha_not-a-real-token")

    response = anon.get(account_url(owner))

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"
    assert anon.get(f"{account_url(owner)}?_token=wrong").status_code == 401


def test_a_revoked_token_is_401(owner):
    ApiToken.objects.filter(user=owner.user).update(revoked_at=timezone.now())

    response = owner.client.get(account_url(owner))

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


def test_an_expired_session_token_is_401(anon, owner):
    token = api_token_issue(user=owner.user, kind=ApiToken.Kind.SESSION)
    ApiToken.objects.filter(kind=ApiToken.Kind.SESSION).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = anon.get(account_url(owner))

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"
