from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from accounts.models import ApiToken, UserKey
from accounts.services import api_token_issue
from tests.accounts.conftest import emailed_key
from tests.conftest import error_code

pytestmark = pytest.mark.django_db

OLD_PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's password
NEW_PASSWORD = "Brand-New-Secret-7"


def change_url(user) -> str:
    return f"/v1/accounts/{user.account_id}/users/{user.id}/change_password"


def new_passwords(**extra) -> dict:
    return {"new_password": NEW_PASSWORD, "new_confirm_password": NEW_PASSWORD, **extra}


def request_reset(client, user) -> str:
    response = client.post("/v1/reset_password", {"email_address": user.email_address}, format="json")
    assert response.status_code == 200, response.content
    return emailed_key("CK", to=user.email_address)


# Reset password and the change key


def test_reset_emails_a_change_key_that_can_be_looked_up(anon, developer):
    response = anon.post("/v1/reset_password", {"email_address": developer.user.email_address.upper()})

    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    key = emailed_key("CK", to=developer.user.email_address)
    assert f"{settings.PUBLIC_BASE_URL}/v1/password_change_key/{key}" in mail.outbox[0].body
    lookup = anon.get(f"/v1/password_change_key/{key}")
    assert lookup.status_code == 200, lookup.content
    body = lookup.json()
    assert set(body) == {"user_id", "account_id", "email_address", "expires_at"}
    assert (body["user_id"], body["account_id"]) == (developer.user.id, developer.account.id)
    assert body["email_address"] == developer.user.email_address


def test_reset_answers_the_same_for_an_unknown_email(anon, developer):
    response = anon.post("/v1/reset_password", {"email_address": "nobody@example.com"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    assert mail.outbox == []
    assert not UserKey.objects.exists()


def test_reset_needs_an_email_address(anon):
    response = anon.post("/v1/reset_password", {"email_address": "nope"}, format="json")

    assert response.status_code == 400
    assert "email_address" in response.json()["error"]["fields"]


def test_the_change_key_is_stored_hashed(anon, developer):
    key = request_reset(anon, developer.user)

    row = UserKey.objects.get()
    assert key not in {str(value) for value in row.__dict__.values()}
    assert row.purpose == UserKey.Purpose.PASSWORD_CHANGE


@pytest.mark.parametrize("key", ["CK00000000000000000000000000000000", "garbage"])
def test_an_unknown_change_key_lookup_is_404(anon, key):
    response = anon.get(f"/v1/password_change_key/{key}")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_an_expired_change_key_lookup_is_404(anon, developer):
    key = request_reset(anon, developer.user)
    UserKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert anon.get(f"/v1/password_change_key/{key}").status_code == 404


# Change password with an emailed key


def test_the_emailed_key_changes_the_password_without_a_token(anon, developer):
    session = api_token_issue(user=developer.user, kind=ApiToken.Kind.SESSION)
    key = request_reset(anon, developer.user)

    response = anon.put(change_url(developer.user), new_passwords(change_key=key), format="json")

    assert response.status_code == 200, response.content
    assert response.json()["id"] == developer.user.id
    developer.user.refresh_from_db()
    assert developer.user.check_password(NEW_PASSWORD)
    assert anon.get(f"/v1/password_change_key/{key}").status_code == 404
    login = anon.put(
        "/v1/authenticate",
        {"email_address": developer.user.email_address, "password": NEW_PASSWORD},
        format="json",
    )
    assert login.status_code == 200
    # The old session is revoked; the long-lived API token is not.
    assert anon.get(f"/v1/accounts/{developer.account.id}?_token={session}").status_code == 401
    assert developer.client.get(f"/v1/accounts/{developer.account.id}").status_code == 200


def test_a_change_key_is_single_use(anon, developer):
    key = request_reset(anon, developer.user)
    anon.put(change_url(developer.user), new_passwords(change_key=key), format="json")

    again = anon.put(
        change_url(developer.user),
        {"new_password": "Third-Secret-42", "new_confirm_password": "Third-Secret-42", "change_key": key},
        format="json",
    )

    assert again.status_code == 400
    assert "change_key" in again.json()["error"]["fields"]


def test_an_expired_change_key_is_rejected(anon, developer):
    key = request_reset(anon, developer.user)
    UserKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = anon.put(change_url(developer.user), new_passwords(change_key=key))

    assert response.status_code == 400
    assert "change_key" in response.json()["error"]["fields"]
    developer.user.refresh_from_db()
    assert developer.user.check_password(OLD_PASSWORD)


def test_a_change_key_only_works_for_its_own_user(anon, developer, viewer):
    key = request_reset(anon, developer.user)

    response = anon.put(change_url(viewer.user), new_passwords(change_key=key), format="json")

    assert response.status_code == 400
    assert "change_key" in response.json()["error"]["fields"]
    viewer.user.refresh_from_db()
    assert viewer.user.check_password(OLD_PASSWORD)


def test_a_weak_new_password_does_not_burn_the_key(anon, developer):
    key = request_reset(anon, developer.user)

    weak = anon.put(
        change_url(developer.user),
        {"new_password": "mypassword", "new_confirm_password": "mypassword", "change_key": key},
        format="json",
    )

    assert weak.status_code == 400
    assert "new_password" in weak.json()["error"]["fields"]
    assert anon.put(change_url(developer.user), new_passwords(change_key=key)).status_code == 200


def test_without_a_token_or_a_key_it_is_401(anon, developer):
    response = anon.put(
        change_url(developer.user), new_passwords(existing_password=OLD_PASSWORD), format="json"
    )

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


# Change password with the existing password


def test_the_user_changes_their_own_password(developer):
    response = developer.client.put(
        change_url(developer.user), new_passwords(existing_password=OLD_PASSWORD), format="json"
    )

    assert response.status_code == 200, response.content
    developer.user.refresh_from_db()
    assert developer.user.check_password(NEW_PASSWORD)


def test_a_wrong_existing_password_is_rejected(developer):
    response = developer.client.put(
        change_url(developer.user), new_passwords(existing_password="not-it"), format="json"
    )

    assert response.status_code == 400
    assert "existing_password" in response.json()["error"]["fields"]


def test_mismatched_new_passwords_are_rejected(developer):
    response = developer.client.put(
        change_url(developer.user),
        {"new_password": NEW_PASSWORD, "new_confirm_password": "other", "existing_password": OLD_PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert "new_confirm_password" in response.json()["error"]["fields"]


def test_it_needs_the_existing_password_or_a_key(developer):
    response = developer.client.put(change_url(developer.user), new_passwords(), format="json")

    assert response.status_code == 400
    assert "existing_password" in response.json()["error"]["fields"]


def test_another_user_cannot_change_a_password_with_the_existing_one(owner, developer):
    response = owner.client.put(
        change_url(developer.user), new_passwords(existing_password=OLD_PASSWORD), format="json"
    )

    assert response.status_code == 403


def test_a_foreign_user_is_404(owner, outsider):
    response = owner.client.put(
        change_url(outsider.user), new_passwords(existing_password=OLD_PASSWORD), format="json"
    )

    assert response.status_code == 404
