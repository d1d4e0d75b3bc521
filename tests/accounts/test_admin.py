from __future__ import annotations

import pytest

from accounts.models import ApiToken, User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["plan", "account", "user", "apitoken", "userkey"])
def test_the_admin_lists_and_searches_every_model(operator, owner, model):
    assert operator.get(f"/admin/accounts/{model}/").status_code == 200
    assert operator.get(f"/admin/accounts/{model}/", {"q": "example"}).status_code == 200


def test_the_admin_edits_a_user_and_an_account(operator, owner):
    assert operator.get(f"/admin/accounts/user/{owner.user.pk}/change/").status_code == 200
    assert operator.get(f"/admin/accounts/account/{owner.account.pk}/change/").status_code == 200


def test_the_admin_adds_a_user_with_an_email_login(operator, account_a):
    response = operator.post(
        "/admin/accounts/user/add/",
        {
            "email_address": "New.User@Example.com",
            "first_name": "New",
            "last_name": "User",
            "account": account_a.pk,
            "permission_level": "viewer",
            "usable_password": "true",
            "password1": "Fresh-Operator-Pass-1",
            "password2": "Fresh-Operator-Pass-1",
        },
    )

    assert response.status_code == 302, response.content
    user = User.objects.get(email_address="new.user@example.com")
    assert user.check_password("Fresh-Operator-Pass-1")
    assert (user.account_id, user.permission_level) == (account_a.pk, "viewer")


def test_the_admin_revokes_selected_tokens(operator, owner, developer):
    token = ApiToken.objects.get(user=owner.user)

    response = operator.post(
        "/admin/accounts/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiToken.objects.get(user=developer.user).revoked_at is None
    assert owner.client.get(f"/v1/accounts/{owner.account.id}").status_code == 401
