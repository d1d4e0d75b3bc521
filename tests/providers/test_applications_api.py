from __future__ import annotations

import pytest

from accounts.models import Account
from providers.models import Application, Consumer
from tests.conftest import error_code
from tests.providers.conftest import make_application

pytestmark = pytest.mark.django_db

EXAMPLE = {
    "name": "My Awesome Application",
    "categories": "ecommerce,payment",
    "overview": "This is the details of my awesome application.",
    "description": "This is the details of my awesome application.",
    "homepage_url": "http://mywebsite.com",
    "api_url": "http://api.mywebsite.com",
    "logo_url": "http://mywebsite.com/webhooksio/logo.jpg",
    "active": "true",
}


def url(account, application_id: str | None = None) -> str:
    base = f"/v1/accounts/{account.id}/applications"
    return f"{base}/{application_id}" if application_id else base


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_it_creates_an_application_from_the_reference_example(owner, fmt):
    response = owner.client.post(url(owner.account), EXAMPLE, format=fmt)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("AP")
    assert len(body["id"]) == 34
    assert body["account_id"] == owner.account.id
    assert body["categories"] == ["ecommerce", "payment"]
    assert body["active"] is True
    assert body["logo_url"] == EXAMPLE["logo_url"]
    assert Application.objects.get(pk=body["id"]).account_id == owner.account.id


def test_it_accepts_form_encoded_bodies_and_defaults_to_active(owner):
    response = owner.client.post(
        url(owner.account), "name=Shop&categories=a,b", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 201, response.content
    assert response.json()["active"] is True
    assert response.json()["categories"] == ["a", "b"]


def test_it_accepts_categories_as_a_json_array(owner):
    response = owner.client.post(
        url(owner.account), {"name": "Shop", "categories": ["ecommerce", "payment"]}, format="json"
    )

    assert response.json()["categories"] == ["ecommerce", "payment"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"categories": "a"}, "name"),
        ({"name": "x", "overview": "o" * 256}, "overview"),
        ({"name": "x", "homepage_url": "not a url"}, "homepage_url"),
        ({"name": "x", "api_url": "ftp//nope"}, "api_url"),
        ({"name": "x", "logo_url": "logo.jpg"}, "logo_url"),
        ({"name": "x", "active": "perhaps"}, "active"),
        ({"name": "x", "categories": 7}, "categories"),
    ],
)
def test_it_rejects_invalid_applications_in_the_error_shape(owner, payload, field):
    response = owner.client.post(url(owner.account), payload, format="json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"]


def test_it_lists_only_the_accounts_applications(owner, outsider):
    mine = make_application(owner.account)
    make_application(outsider.account)

    response = owner.client.get(url(owner.account))

    assert response.status_code == 200
    assert [a["id"] for a in response.json()["results"]] == [mine.id]


def test_it_gets_updates_and_deactivates(owner, viewer):
    application = make_application(owner.account)

    got = viewer.client.get(url(owner.account, application.id))
    updated = owner.client.put(
        url(owner.account, application.id),
        {"name": "Renamed", "categories": "crm", "active": "false"},
        format="json",
    )

    assert got.status_code == 200
    assert got.json()["name"] == "Billing"
    assert updated.status_code == 200, updated.content
    application.refresh_from_db()
    assert (application.name, application.categories, application.active) == ("Renamed", ["crm"], False)


def test_a_partial_form_update_keeps_active(owner):
    application = make_application(owner.account)

    response = owner.client.put(
        url(owner.account, application.id), "name=Only", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    application.refresh_from_db()
    assert (application.name, application.active) == ("Only", True)


def test_deleting_an_application_removes_its_consumers_and_their_sub_accounts(owner, application, consumer):
    sub_account_id = consumer.sub_account_id

    response = owner.client.delete(url(owner.account, application.id))

    assert response.status_code == 204
    assert not Application.objects.filter(pk=application.id).exists()
    assert not Consumer.objects.filter(pk=consumer.id).exists()
    assert not Account.objects.filter(pk=sub_account_id).exists()
    assert Account.objects.filter(pk=owner.account.id).exists()


def test_it_rejects_foreign_application(owner, outsider):
    theirs = make_application(outsider.account)

    assert owner.client.get(url(owner.account, theirs.id)).status_code == 404
    assert owner.client.get(url(outsider.account, theirs.id)).status_code == 404
    assert owner.client.put(url(outsider.account, theirs.id), {"name": "x"}, format="json").status_code == 404
    assert owner.client.delete(url(owner.account, theirs.id)).status_code == 404
    assert Application.objects.get(pk=theirs.id).name == "Billing"


def test_a_viewer_cannot_write(viewer):
    application = make_application(viewer.account)

    responses = [
        viewer.client.post(url(viewer.account), EXAMPLE, format="json"),
        viewer.client.put(url(viewer.account, application.id), {"name": "x"}, format="json"),
        viewer.client.delete(url(viewer.account, application.id)),
    ]

    for response in responses:
        assert response.status_code == 403
        assert error_code(response) == "permission_denied"


def test_a_missing_token_is_401(anon, account_a):
    response = anon.get(url(account_a))

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"
