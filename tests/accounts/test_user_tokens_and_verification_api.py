from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import ApiToken, User
from tests.accounts.conftest import emailed_key
from tests.conftest import error_code

pytestmark = pytest.mark.django_db


def user_url(actor_or_user, suffix: str) -> str:
    user = getattr(actor_or_user, "user", actor_or_user)
    return f"/v1/accounts/{user.account_id}/users/{user.id}/{suffix}"


# API token lookup


def test_a_user_gets_a_new_api_token_for_themselves(anon, viewer):
    response = viewer.client.get(user_url(viewer, "api-token"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"api_token", "hint", "scopes"}
    assert body["scopes"] == []
    assert body["api_token"].startswith(body["hint"])
    assert ApiToken.objects.filter(user=viewer.user, kind=ApiToken.Kind.API).count() == 2
    follow = anon.get(f"/v1/accounts/{viewer.account.id}?_token={body['api_token']}")
    assert follow.status_code == 200


def test_a_session_token_gets_a_long_lived_api_token(anon, developer):
    session = anon.put(
        "/v1/authenticate",
        {"email_address": developer.user.email_address, "password": "correct-horse-battery"},
        format="json",
    ).json()["session_token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {session}")

    response = anon.get(user_url(developer, "api-token"))

    assert response.status_code == 200
    issued = ApiToken.objects.get(user=developer.user, name="api-token lookup")
    assert (issued.kind, issued.expires_at) == (ApiToken.Kind.API, None)


def test_only_the_user_themselves_gets_an_api_token(owner, developer):
    response = owner.client.get(user_url(developer, "api-token"))

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_a_foreign_users_api_token_is_404(owner, outsider):
    assert owner.client.get(user_url(outsider, "api-token")).status_code == 404
    assert (
        owner.client.get(f"/v1/accounts/{owner.account.id}/users/{outsider.user.id}/api-token").status_code
        == 404
    )


# Resend verification


def test_a_user_gets_a_new_verification_email_that_works(anon, developer):
    response = developer.client.get(user_url(developer, "resend_verification"))

    assert response.status_code == 200, response.content
    key = emailed_key("EV", to=developer.user.email_address)
    assert anon.get(f"/v1/verify/{key}").status_code == 200
    developer.user.refresh_from_db()
    assert developer.user.email_verified is True


def test_an_admin_resends_verification_for_another_user(admin_user, viewer):
    response = admin_user.client.get(user_url(viewer, "resend_verification"))

    assert response.status_code == 200
    assert mail.outbox[0].to == [viewer.user.email_address]


def test_a_resent_link_keeps_the_registration_callback(anon):
    anon.post(
        "/v1/register",
        {
            "first_name": "Bob",
            "last_name": "Smith",
            "email_address": "bob@example.com",
            "password": "Sample-Company-2024",
            "password_confirm": "Sample-Company-2024",
            "plan_id": "starter",
            "email_verification_callback_url": "https://app.example.com/done",
        },
        format="json",
    )
    user = User.objects.get(email_address="bob@example.com")
    token = anon.put(
        "/v1/authenticate",
        {"email_address": "bob@example.com", "password": "Sample-Company-2024"},
        format="json",
    ).json()["session_token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    anon.get(user_url(user, "resend_verification"))
    response = anon.get(f"/v1/verify/{emailed_key('EV', to='bob@example.com')}")

    assert response.status_code == 302
    assert response["Location"] == "https://app.example.com/done?status=success"


def test_a_developer_cannot_resend_for_someone_else(developer, viewer):
    response = developer.client.get(user_url(viewer, "resend_verification"))

    assert response.status_code == 403
    assert mail.outbox == []


def test_resending_for_a_verified_address_is_409(developer):
    User.objects.filter(pk=developer.user.pk).update(email_verified=True)

    response = developer.client.get(user_url(developer, "resend_verification"))

    assert response.status_code == 409


def test_a_foreign_resend_is_404(owner, outsider):
    assert owner.client.get(user_url(outsider, "resend_verification")).status_code == 404
