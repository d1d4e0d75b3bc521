from __future__ import annotations

import pytest

from accounts.models import Account, Plan
from tests.conftest import error_code, make_actor
from tests.factories import make_account

pytestmark = pytest.mark.django_db


def url(account, suffix: str = "") -> str:
    return f"/v1/accounts/{account.id}{suffix}"


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


# Sub-accounts


def test_it_creates_a_sub_account_from_the_reference_example(owner):
    response = owner.client.post(
        url(owner.account, "/subaccounts"), {"name": "Bob", "account_key": "acct123456789"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "name", "account_key", "parent_id", "plan_id", "status", "created", "updated"}
    assert body["id"].startswith("AC")
    assert body["parent_id"] == owner.account.id
    assert body["plan_id"] == owner.account.plan_id
    assert body["status"] == "active"
    child = Account.objects.get(pk=body["id"])
    assert child.path == f"{owner.account.path}{child.id}/"


def test_it_creates_a_sub_account_from_a_form_body(admin_user):
    response = admin_user.client.post(url(admin_user.account, "/subaccounts"), {"name": "Form Sub"})

    assert response.status_code == 201, response.content
    assert response.json()["account_key"] == ""


def test_a_sub_account_needs_a_name(owner):
    response = owner.client.post(url(owner.account, "/subaccounts"), {"account_key": "x"}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_the_plan_limits_sub_accounts(db):
    Plan.objects.filter(pk="free").update(max_sub_accounts=1)
    actor = make_actor(make_account(plan_id="free"))
    first = actor.client.post(url(actor.account, "/subaccounts"), {"name": "One"}, format="json")

    second = actor.client.post(url(actor.account, "/subaccounts"), {"name": "Two"}, format="json")

    assert first.status_code == 201
    assert second.status_code == 403
    assert error_code(second) == "plan_limit_exceeded"


def test_a_developer_cannot_create_a_sub_account(developer):
    response = developer.client.post(url(developer.account, "/subaccounts"), {"name": "x"}, format="json")

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_it_lists_direct_children_filtered_by_account_key(owner, sub_account):
    other = make_account(name="Other", parent=owner.account, account_key="other")
    grandchild = make_account(name="Grandchild", parent=sub_account, account_key="sub-a")

    everything = owner.client.get(url(owner.account, "/subaccounts"))
    filtered = owner.client.get(url(owner.account, "/subaccounts"), {"account_key": "sub-a"})

    assert ids(everything) == [sub_account.id, other.id]
    assert ids(filtered) == [sub_account.id]
    assert grandchild.id not in ids(everything)


def test_a_viewer_can_list_sub_accounts(viewer, sub_account):
    assert ids(viewer.client.get(url(viewer.account, "/subaccounts"))) == [sub_account.id]


# Accounts


def test_it_lists_every_visible_account(owner, sub_account, outsider):
    grandchild = make_account(name="Grandchild", parent=sub_account, account_key="deep")

    response = owner.client.get("/v1/accounts")
    filtered = owner.client.get("/v1/accounts", {"account_key": "deep"})

    assert ids(response) == [owner.account.id, sub_account.id, grandchild.id]
    assert ids(filtered) == [grandchild.id]


def test_a_sub_account_token_sees_only_its_subtree(sub_owner, owner, outsider):
    assert ids(sub_owner.client.get("/v1/accounts")) == [sub_owner.account.id]


def test_it_gets_an_account(viewer):
    response = viewer.client.get(url(viewer.account))

    assert response.status_code == 200
    assert response.json()["id"] == viewer.account.id
    assert response.json()["parent_id"] is None


def test_an_owner_gets_a_sub_account(owner, sub_account):
    response = owner.client.get(url(sub_account))

    assert response.status_code == 200
    assert response.json()["parent_id"] == owner.account.id


def test_a_sub_account_owner_cannot_see_the_parent_or_a_sibling(sub_owner, owner):
    sibling = make_account(name="Sibling", parent=owner.account)

    for target in (owner.account, sibling):
        for response in (
            sub_owner.client.get(url(target)),
            sub_owner.client.put(url(target), {"name": "x"}, format="json"),
            sub_owner.client.delete(url(target)),
            sub_owner.client.get(url(target, "/subaccounts")),
            sub_owner.client.get(url(target, "/users")),
        ):
            assert response.status_code == 404, response.content
            assert error_code(response) == "not_found"


def test_it_rejects_a_foreign_account(owner, outsider):
    assert owner.client.get(url(outsider.account)).status_code == 404
    assert owner.client.delete(url(outsider.account)).status_code == 404
    assert Account.objects.filter(pk=outsider.account.id).exists()


def test_an_admin_updates_an_account(admin_user):
    response = admin_user.client.put(
        url(admin_user.account), {"name": "Bob", "account_key": "acct123456789"}, format="json"
    )

    assert response.status_code == 200, response.content
    admin_user.account.refresh_from_db()
    assert (admin_user.account.name, admin_user.account.account_key) == ("Bob", "acct123456789")


def test_an_update_may_be_partial_and_form_encoded(owner):
    response = owner.client.put(
        url(owner.account), "account_key=k1", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200, response.content
    owner.account.refresh_from_db()
    assert (owner.account.name, owner.account.account_key) == ("Account A", "k1")


def test_a_developer_cannot_update_an_account(developer):
    response = developer.client.put(url(developer.account), {"name": "x"}, format="json")

    assert response.status_code == 403


def test_an_admin_cannot_delete_an_account(admin_user):
    response = admin_user.client.delete(url(admin_user.account))

    assert response.status_code == 403
    assert Account.objects.filter(pk=admin_user.account.id).exists()


def test_an_owner_deletes_a_sub_account_and_its_subtree(owner, sub_account):
    grandchild = make_account(name="Grandchild", parent=sub_account)

    response = owner.client.delete(url(sub_account))

    assert response.status_code == 204
    assert not Account.objects.filter(pk__in=[sub_account.id, grandchild.id]).exists()
    assert Account.objects.filter(pk=owner.account.id).exists()


def test_an_owner_deletes_their_account(owner):
    response = owner.client.delete(url(owner.account))

    assert response.status_code == 204
    assert not Account.objects.filter(pk=owner.account.id).exists()
    assert owner.client.get("/v1/accounts").status_code == 401


def test_accounts_need_a_token(anon, account_a):
    assert anon.get("/v1/accounts").status_code == 401
    assert error_code(anon.get(url(account_a))) == "not_authenticated"
