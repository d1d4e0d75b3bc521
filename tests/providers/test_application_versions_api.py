from __future__ import annotations

import json

import pytest

from providers.models import ApplicationVersion
from tests.conftest import error_code
from tests.providers.conftest import VERSION_JSON, make_application, make_version

pytestmark = pytest.mark.django_db


def url(application, version_id: str | None = None) -> str:
    base = f"/v1/accounts/{application.account_id}/applications/{application.id}/versions"
    return f"{base}/{version_id}" if version_id else base


def test_it_creates_a_version_with_event_types(owner, application):
    payload = {
        "key": "1.1",
        "release_date": "2015-01-01",
        "version_json": VERSION_JSON,
        "examples_json": {"invoice.created": {"id": "inv_1"}},
        "active": "true",
    }

    response = owner.client.post(url(application), payload, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("AV")
    assert body["application_id"] == application.id
    assert body["account_id"] == owner.account.id
    assert body["release_date"] == "2015-01-01"
    assert body["version_json"] == VERSION_JSON
    assert body["event_types"] == ["invoice.created", "invoice.paid", "customer.deleted"]
    assert body["active"] is True


def test_it_parses_json_strings_from_form_bodies(owner, application):
    payload = {
        "key": "2.0",
        "release_date": "2016-02-29",
        "version_json": json.dumps(["order.placed", {"name": "order.shipped"}]),
        "examples_json": json.dumps([{"event": "order.placed"}]),
    }

    response = owner.client.post(url(application), payload)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["event_types"] == ["order.placed", "order.shipped"]
    assert body["examples_json"] == [{"event": "order.placed"}]
    assert body["active"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"release_date": "2015-01-01"}, "key"),
        ({"key": "1", "release_date": "01/02/2015"}, "release_date"),
        ({"key": "1", "release_date": "2015-02-30"}, "release_date"),
        ({"key": "1", "version_json": "[object Object]"}, "version_json"),
        ({"key": "1", "version_json": '"just a string"'}, "version_json"),
        ({"key": "1", "version_json": 42}, "version_json"),
        ({"key": "1", "version_json": {"events": "invoice.created"}}, "version_json"),
        ({"key": "1", "version_json": {"events": [{"description": "no name"}]}}, "version_json"),
        ({"key": "1", "examples_json": "{not json"}, "examples_json"),
        ({"key": "k" * 65}, "key"),
    ],
)
def test_it_rejects_invalid_versions_in_the_error_shape(owner, application, payload, field):
    response = owner.client.post(url(application), payload, format="json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"]
    assert not ApplicationVersion.objects.exists()


def test_it_answers_409_for_a_duplicate_key(owner, application):
    make_version(application, key="1.1")

    response = owner.client.post(url(application), {"key": "1.1"}, format="json")

    assert response.status_code == 409
    assert error_code(response) == "conflict"
    assert "key" in response.json()["error"]["fields"]


def test_the_same_key_may_be_used_by_another_application(owner, application):
    make_version(make_application(owner.account), key="1.1")

    response = owner.client.post(url(application), {"key": "1.1"}, format="json")

    assert response.status_code == 201


def test_it_lists_the_applications_versions_only(owner, application):
    mine = make_version(application, key="1.0")
    make_version(make_application(owner.account), key="1.0")

    response = owner.client.get(url(application))

    assert [v["id"] for v in response.json()["results"]] == [mine.id]


def test_it_gets_updates_and_deletes(owner, viewer, application):
    version = make_version(application, key="1.0")

    got = viewer.client.get(url(application, version.id))
    updated = owner.client.put(url(application, version.id), {"key": "1.1", "active": False}, format="json")
    deleted = owner.client.delete(url(application, version.id))

    assert got.status_code == 200
    assert got.json()["event_types"] == ["invoice.created", "invoice.paid", "customer.deleted"]
    assert updated.status_code == 200, updated.content
    assert (updated.json()["key"], updated.json()["active"]) == ("1.1", False)
    assert deleted.status_code == 204
    assert not ApplicationVersion.objects.filter(pk=version.id).exists()


def test_updating_to_a_taken_key_is_409(owner, application):
    make_version(application, key="1.0")
    other = make_version(application, key="2.0")

    response = owner.client.put(url(application, other.id), {"key": "1.0"}, format="json")

    assert response.status_code == 409
    other.refresh_from_db()
    assert other.key == "2.0"


def test_a_version_of_another_application_or_account_is_404(owner, outsider, application):
    sibling_version = make_version(make_application(owner.account))
    foreign_application = make_application(outsider.account)
    foreign_version = make_version(foreign_application)

    assert owner.client.get(url(application, sibling_version.id)).status_code == 404
    assert owner.client.delete(url(application, sibling_version.id)).status_code == 404
    assert owner.client.get(url(foreign_application, foreign_version.id)).status_code == 404
    assert owner.client.get(url(foreign_application)).status_code == 404
    assert owner.client.post(url(foreign_application), {"key": "9"}, format="json").status_code == 404
    assert ApplicationVersion.objects.filter(pk=sibling_version.id).exists()


def test_a_viewer_cannot_write(viewer, application):
    version = make_version(application)

    responses = [
        viewer.client.post(url(application), {"key": "2"}, format="json"),
        viewer.client.put(url(application, version.id), {"key": "3"}, format="json"),
        viewer.client.delete(url(application, version.id)),
    ]

    for response in responses:
        assert response.status_code == 403
        assert error_code(response) == "permission_denied"
