from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import ApiToken, User
from tests.conftest import error_code
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_USER = {
    "first_name": "Bob",
    "last_name": "Smith",
    "email_address": "bob.smith@example.com",
    "password": "Sample-Company-2024",
    "permission_level": "developer",
    "timezone": "Etc/GMT",
    "notify": "true",
}
USER_FIELDS = {
    "id",
    "account_id",
    "first_name",
    "last_name",
    "email_address",
    "permission_level",
    "timezone",
    "email_verified",
    "created",
    "updated",
}


def url(account, user_id: str | None = None, suffix: str = "") -> str:
    base = f"/v1/accounts/{account.id}/users"
    return f"{base}/{user_id}{suffix}" if user_id else base


# Create


def test_an_admin_creates_a_user_and_it_is_notified(admin_user):
    response = admin_user.client.post(url(admin_user.account), NEW_USER, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["id"].startswith("US")
    assert body["account_id"] == admin_user.account.id
    user = User.objects.get(pk=body["id"])
    assert user.check_password("Sample-Company-2024")
    assert user.permission_level == "developer"
    assert [message.to for message in mail.outbox] == [["bob.smith@example.com"]]
    assert "Account A" in mail.outbox[0].body


def test_it_creates_a_user_from_a_form_body_with_defaults_and_no_email(owner):
    data = {key: NEW_USER[key] for key in ["first_name", "last_name", "email_address", "password"]}

    response = owner.client.post(url(owner.account), data)

    assert response.status_code == 201, response.content
    assert response.json()["timezone"] == "Etc/GMT"
    assert response.json()["permission_level"] == "developer"
    assert mail.outbox == []


def test_an_owner_creates_a_user_in_a_sub_account(owner, sub_account):
    response = owner.client.post(url(sub_account), {**NEW_USER, "notify": False}, format="json")

    assert response.status_code == 201, response.content
    assert User.objects.get(pk=response.json()["id"]).account_id == sub_account.id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Etc/GTM"}, "timezone"),
        ({"permission_level": "mypassword"}, "permission_level"),
        ({"password": "mypassword"}, "password"),
        ({"email_address": "nope"}, "email_address"),
        ({"last_name": ""}, "last_name"),
    ],
)
def test_it_rejects_a_bad_user_with_the_field(owner, change, field):
    response = owner.client.post(url(owner.account), {**NEW_USER, **change}, format="json")

    assert response.status_code == 400, response.content
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"]


def test_it_answers_409_for_a_taken_email(owner, developer):
    response = owner.client.post(
        url(owner.account), {**NEW_USER, "email_address": developer.user.email_address}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "conflict"


def test_a_viewer_cannot_create_a_user(viewer):
    response = viewer.client.post(url(viewer.account), NEW_USER, format="json")

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_a_developer_cannot_manage_users(developer, viewer):
    created = developer.client.post(url(developer.account), NEW_USER, format="json")
    updated = developer.client.put(url(developer.account, viewer.user.id), {"first_name": "X"}, format="json")
    deleted = developer.client.delete(url(developer.account, viewer.user.id))

    assert [created.status_code, updated.status_code, deleted.status_code] == [403, 403, 403]
    assert User.objects.filter(pk=viewer.user.id).exists()


def test_only_an_owner_may_create_an_owner(admin_user, owner):
    by_admin = admin_user.client.post(
        url(admin_user.account), {**NEW_USER, "permission_level": "owner"}, format="json"
    )
    by_owner = owner.client.post(url(owner.account), {**NEW_USER, "permission_level": "owner"}, format="json")

    assert by_admin.status_code == 403
    assert error_code(by_admin) == "permission_denied"
    assert by_owner.status_code == 201


# Read


def test_it_lists_the_accounts_users_only(viewer, owner, outsider, sub_owner):
    response = viewer.client.get(url(viewer.account))

    assert response.status_code == 200
    assert [user["id"] for user in response.json()["results"]] == [viewer.user.id, owner.user.id]
    assert all("password" not in user for user in response.json()["results"])


def test_it_gets_a_user(viewer, owner):
    response = viewer.client.get(url(viewer.account, owner.user.id))

    assert response.status_code == 200
    assert set(response.json()) == USER_FIELDS
    assert response.json()["email_address"] == owner.user.email_address


def test_it_rejects_a_foreign_user(owner, outsider, sub_owner):
    assert owner.client.get(url(owner.account, outsider.user.id)).status_code == 404
    assert owner.client.get(url(outsider.account, outsider.user.id)).status_code == 404
    assert outsider.client.delete(url(owner.account, owner.user.id)).status_code == 404
    assert sub_owner.client.get(url(owner.account, owner.user.id)).status_code == 404
    # A user of the sub-account is not found under the parent's URL either.
    assert owner.client.get(url(owner.account, sub_owner.user.id)).status_code == 404
    assert owner.client.get(url(sub_owner.account, sub_owner.user.id)).status_code == 200


# Update


def test_an_admin_updates_a_user_from_the_reference_example(admin_user, developer):
    data = {"first_name": "Bob", "last_name": "Smith", "email_address": "bob.smith@example.com"}
    developer.user.email_verified = True
    developer.user.save()

    response = admin_user.client.put(url(admin_user.account, developer.user.id), data, format="json")

    assert response.status_code == 200, response.content
    developer.user.refresh_from_db()
    assert developer.user.email_address == "bob.smith@example.com"
    assert developer.user.email_verified is False
    assert developer.user.timezone == "Etc/GMT"


def test_an_update_sets_password_timezone_and_level(admin_user, developer):
    response = admin_user.client.put(
        url(admin_user.account, developer.user.id),
        {"password": "Another-Secret-99", "timezone": "Europe/Tallinn", "permission_level": "viewer"},
    )

    assert response.status_code == 200, response.content
    assert "password" not in response.json()
    developer.user.refresh_from_db()
    assert developer.user.check_password("Another-Secret-99")
    assert (developer.user.timezone, developer.user.permission_level) == ("Europe/Tallinn", "viewer")


def test_an_update_rejects_an_unknown_timezone_and_a_weak_password(owner, developer):
    bad_zone = owner.client.put(
        url(owner.account, developer.user.id), {"timezone": "Mars/Base"}, format="json"
    )
    weak = owner.client.put(url(owner.account, developer.user.id), {"password": "123"}, format="json")

    assert bad_zone.status_code == 400
    assert "timezone" in bad_zone.json()["error"]["fields"]
    assert weak.status_code == 400
    assert "password" in weak.json()["error"]["fields"]


def test_an_update_to_a_taken_email_is_409(owner, developer, viewer):
    response = owner.client.put(
        url(owner.account, developer.user.id), {"email_address": viewer.user.email_address}, format="json"
    )

    assert response.status_code == 409


def test_an_admin_cannot_promote_to_owner_or_change_an_owner(admin_user, developer, owner):
    promote = admin_user.client.put(
        url(admin_user.account, developer.user.id), {"permission_level": "owner"}, format="json"
    )
    change_owner = admin_user.client.put(
        url(admin_user.account, owner.user.id), {"permission_level": "viewer"}, format="json"
    )

    assert promote.status_code == 403
    assert change_owner.status_code == 403
    owner.user.refresh_from_db()
    assert owner.user.permission_level == "owner"


def test_an_owner_promotes_a_user_to_owner(owner, developer):
    response = owner.client.put(
        url(owner.account, developer.user.id), {"permission_level": "owner"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["permission_level"] == "owner"


def test_the_last_owner_cannot_demote_themselves(owner):
    response = owner.client.put(
        url(owner.account, owner.user.id), {"permission_level": "admin"}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "conflict"


# Delete


def test_an_admin_deletes_a_user(admin_user, developer):
    response = admin_user.client.delete(url(admin_user.account, developer.user.id))

    assert response.status_code == 204
    assert not User.objects.filter(pk=developer.user.id).exists()
    assert not ApiToken.objects.filter(user_id=developer.user.id).exists()


def test_the_last_owner_cannot_delete_themselves(owner):
    response = owner.client.delete(url(owner.account, owner.user.id))

    assert response.status_code == 409
    assert error_code(response) == "conflict"
    assert User.objects.filter(pk=owner.user.id).exists()


def test_an_owner_may_delete_themselves_when_another_owner_remains(owner):
    UserFactory(account=owner.account, permission_level="owner")

    response = owner.client.delete(url(owner.account, owner.user.id))

    assert response.status_code == 204


def test_an_admin_cannot_delete_an_owner(admin_user, owner):
    UserFactory(account=owner.account, permission_level="owner")

    response = admin_user.client.delete(url(admin_user.account, owner.user.id))

    assert response.status_code == 403
    assert User.objects.filter(pk=owner.user.id).exists()
