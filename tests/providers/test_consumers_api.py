from __future__ import annotations

import pytest

from accounts.models import Account, Plan
from buckets.models import Bucket
from inputs.models import Input
from providers.models import Consumer
from providers.services import consumer_create
from tests.conftest import error_code, make_actor
from tests.factories import make_account
from tests.providers.conftest import make_application

pytestmark = pytest.mark.django_db

EXAMPLE = {"consumer_id": "my-internal-customer-id", "bucket_key": "default", "name": "ACME Corp, Inc."}


def url(application, consumer_id: str | None = None) -> str:
    base = f"/v1/accounts/{application.account_id}/applications/{application.id}/consumers"
    return f"{base}/{consumer_id}" if consumer_id else base


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_it_creates_a_consumer_with_its_sub_account_bucket_and_input(owner, application, fmt):
    response = owner.client.post(url(application), EXAMPLE, format=fmt)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("CN")
    assert len(body["id"]) == 34
    assert body["consumer_id"] == "my-internal-customer-id"
    assert body["name"] == "ACME Corp, Inc."
    assert body["application_id"] == application.id
    assert body["buckets"] == ["default"]
    assert "bucket_key" not in body
    sub_account = Account.objects.get(pk=body["account_id"])
    assert sub_account.parent_id == owner.account.id
    assert sub_account.plan_id == owner.account.plan_id
    assert sub_account.account_key == "my-internal-customer-id"
    bucket = Bucket.objects.get(account=sub_account, key="default")
    assert Input.objects.filter(account=sub_account, bucket=bucket, name=application.name).count() == 1


def test_the_bucket_key_defaults_to_default_and_may_be_chosen(owner, application):
    default = owner.client.post(url(application), {"consumer_id": "a", "name": "A"}, format="json")
    chosen = owner.client.post(
        url(application), {"consumer_id": "b", "name": "B", "bucket_key": "development"}, format="json"
    )

    assert default.json()["buckets"] == ["default"]
    assert chosen.json()["buckets"] == ["development"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "No id"}, "consumer_id"),
        ({"consumer_id": "x"}, "name"),
        ({"consumer_id": "x", "name": "X", "bucket_key": "not a slug!"}, "bucket_key"),
        ({"consumer_id": "x" * 256, "name": "X"}, "consumer_id"),
    ],
)
def test_it_rejects_invalid_consumers_and_creates_nothing(owner, application, payload, field):
    response = owner.client.post(url(application), payload, format="json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"]
    assert not Account.objects.filter(parent=owner.account).exists()


def test_a_duplicate_consumer_id_is_409_and_leaves_no_sub_account_behind(owner, application, consumer):
    before = Account.objects.count()

    response = owner.client.post(url(application), {"consumer_id": consumer.consumer_id, "name": "Again"})

    assert response.status_code == 409
    assert error_code(response) == "conflict"
    assert "consumer_id" in response.json()["error"]["fields"]
    assert Account.objects.count() == before
    assert Consumer.objects.count() == 1


def test_the_same_consumer_id_may_be_used_in_another_application(owner, application, consumer):
    other = make_application(owner.account, name="Other")

    response = owner.client.post(url(other), {"consumer_id": consumer.consumer_id, "name": "Same"})

    assert response.status_code == 201


def test_the_plans_sub_account_limit_answers_403_and_creates_nothing(db):
    plan = Plan.objects.create(
        id="tiny",
        name="Tiny",
        messages_per_month=10,
        max_rate_limit=1,
        max_sub_accounts=1,
        log_retention_days=1,
    )
    provider = make_actor(make_account(name="Small provider", plan_id=plan.id))
    application = make_application(provider.account)
    first = provider.client.post(url(application), {"consumer_id": "one", "name": "One"}, format="json")

    second = provider.client.post(url(application), {"consumer_id": "two", "name": "Two"}, format="json")

    assert first.status_code == 201
    assert second.status_code == 403
    assert error_code(second) == "plan_limit_exceeded"
    assert Account.objects.filter(parent=provider.account).count() == 1
    assert list(Consumer.objects.values_list("consumer_id", flat=True)) == ["one"]
    assert Bucket.objects.filter(account__parent=provider.account).count() == 1


def test_it_lists_the_applications_consumers(owner, application, consumer):
    consumer_create(application=make_application(owner.account), consumer_id="elsewhere", name="E")

    response = owner.client.get(url(application))

    assert response.status_code == 200
    assert [c["consumer_id"] for c in response.json()["results"]] == ["acme-42"]


def test_it_gets_a_consumer_by_the_providers_consumer_id(viewer, application, consumer):
    response = viewer.client.get(url(application, "acme-42"))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == consumer.id
    assert body["account_id"] == consumer.sub_account_id
    assert body["buckets"] == ["default"]


def test_the_cn_id_is_not_the_url_key(owner, application, consumer):
    response = owner.client.get(url(application, consumer.id))

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_it_updates_the_name(owner, application, consumer):
    response = owner.client.put(url(application, "acme-42"), {"name": "ACME Ltd"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "ACME Ltd"
    consumer.refresh_from_db()
    assert consumer.name == "ACME Ltd"


def test_it_refuses_to_change_the_consumer_id(owner, application, consumer):
    changed = owner.client.put(url(application, "acme-42"), {"consumer_id": "other"}, format="json")
    same = owner.client.put(
        url(application, "acme-42"), {"consumer_id": "acme-42", "name": "N"}, format="json"
    )

    assert changed.status_code == 400
    assert "consumer_id" in changed.json()["error"]["fields"]
    assert same.status_code == 200
    consumer.refresh_from_db()
    assert consumer.consumer_id == "acme-42"


def test_deleting_a_consumer_removes_its_sub_account(owner, application, consumer):
    sub_account_id = consumer.sub_account_id

    response = owner.client.delete(url(application, "acme-42"))

    assert response.status_code == 204
    assert not Consumer.objects.filter(pk=consumer.id).exists()
    assert not Account.objects.filter(pk=sub_account_id).exists()
    assert not Bucket.objects.filter(account_id=sub_account_id).exists()


def test_it_rejects_foreign_consumers(owner, outsider, application, consumer):
    foreign_application = make_application(outsider.account)
    consumer_create(application=foreign_application, consumer_id="theirs", name="T")
    sibling = make_application(owner.account, name="Sibling")

    assert owner.client.get(url(foreign_application, "theirs")).status_code == 404
    assert owner.client.get(url(foreign_application)).status_code == 404
    assert owner.client.delete(url(foreign_application, "theirs")).status_code == 404
    assert owner.client.get(url(sibling, "acme-42")).status_code == 404
    assert outsider.client.get(url(application, "acme-42")).status_code == 404
    assert outsider.client.post(url(application), EXAMPLE, format="json").status_code == 404
    assert Consumer.objects.filter(consumer_id="theirs").exists()


def test_a_consumers_own_sub_account_cannot_see_the_provider(consumer, application):
    sub_user = make_actor(consumer.sub_account)

    response = sub_user.client.get(url(application, "acme-42"))

    assert response.status_code == 404


def test_a_viewer_cannot_write(viewer, application, consumer):
    responses = [
        viewer.client.post(url(application), EXAMPLE, format="json"),
        viewer.client.put(url(application, "acme-42"), {"name": "x"}, format="json"),
        viewer.client.delete(url(application, "acme-42")),
    ]

    for response in responses:
        assert response.status_code == 403
        assert error_code(response) == "permission_denied"
    assert Consumer.objects.filter(pk=consumer.id).exists()
