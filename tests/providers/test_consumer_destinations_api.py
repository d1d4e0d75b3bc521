from __future__ import annotations

import pytest

from buckets.models import Bucket
from destinations.models import Destination
from inputs.models import Input
from providers.services import consumer_create, consumer_destination_create
from recipes.models import Recipe
from tests.conftest import error_code
from tests.providers.conftest import make_application, make_version

pytestmark = pytest.mark.django_db

EXAMPLE = {
    "name": "My Final Destination",
    "endpoint_url": "http://mydomain.com/webhook-endpoint",
    "delivery_order": "random",
    "message_method": "GET",
    "event_filters": "account.created,message.sent",
    "header_prefix": "Webhooks",
    "alert_on_failure": "bob@mail.com,john@email.com",
    "rate_limit": "5",
}


def url(consumer, destination_id: str | None = None) -> str:
    base = (
        f"/v1/accounts/{consumer.account_id}/applications/{consumer.application_id}"
        f"/consumers/{consumer.consumer_id}/destinations"
    )
    return f"{base}/{destination_id}" if destination_id else base


def add_destination(consumer, **fields) -> Destination:
    values = {"name": "Hook", "endpoint_url": "https://example.com/hook", **fields}
    return consumer_destination_create(consumer=consumer, **values)


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_it_creates_a_consumer_destination_from_the_reference_example(owner, consumer, fmt):
    recipe = Recipe.objects.create(
        account=consumer.sub_account, name="R", type="destination", recipe_draft="exit(result);"
    )

    response = owner.client.post(url(consumer), {**EXAMPLE, "recipe_id": recipe.id}, format=fmt)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("OU")
    assert body["account_id"] == consumer.sub_account_id
    assert body["event_filters"] == ["account.created", "message.sent"]
    assert body["recipe_id"] == recipe.id
    assert body["rate_limit"] == 5
    assert body["secret"].startswith("whsec_")
    assert "bucket_key" not in body
    input_ = Input.objects.get(pk=body["input_id"])
    assert (input_.account_id, input_.bucket.key) == (consumer.sub_account_id, "default")


def test_a_new_bucket_key_creates_the_bucket_and_its_input(owner, consumer):
    response = owner.client.post(url(consumer), {**EXAMPLE, "bucket_key": "development"}, format="json")

    assert response.status_code == 201, response.content
    bucket = Bucket.objects.get(account=consumer.sub_account, key="development")
    assert Input.objects.get(pk=response.json()["input_id"]).bucket_id == bucket.id


def test_the_same_bucket_reuses_its_input(owner, consumer):
    first = owner.client.post(url(consumer), EXAMPLE, format="json")
    second = owner.client.post(url(consumer), EXAMPLE, format="json")

    assert first.json()["input_id"] == second.json()["input_id"]
    assert Input.objects.filter(account=consumer.sub_account).count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"endpoint_url": "https://example.com/x"}, "name"),
        ({"name": "x"}, "endpoint_url"),
        ({"name": "x", "endpoint_url": "not a url"}, "endpoint_url"),
        ({"name": "x", "endpoint_url": "https://example.com", "bucket_key": "no slug!"}, "bucket_key"),
        ({"name": "x", "endpoint_url": "https://example.com", "rate_limit": 100_000}, "rate_limit"),
    ],
)
def test_it_rejects_invalid_destinations_in_the_error_shape(owner, consumer, payload, field):
    response = owner.client.post(url(consumer), payload, format="json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"]
    assert not Destination.objects.exists()


def test_a_recipe_of_the_provider_account_is_not_the_consumers(owner, consumer):
    providers_recipe = Recipe.objects.create(
        account=owner.account, name="R", type="destination", recipe_draft="exit(result);"
    )

    response = owner.client.post(url(consumer), {**EXAMPLE, "recipe_id": providers_recipe.id}, format="json")

    assert response.status_code == 400
    assert "recipe_id" in response.json()["error"]["fields"]


def test_event_filters_must_be_event_types_of_the_active_version(owner, application, consumer):
    make_version(application)

    unknown = owner.client.post(url(consumer), EXAMPLE, format="json")
    known = owner.client.post(
        url(consumer), {**EXAMPLE, "event_filters": "invoice.created,customer.deleted"}, format="json"
    )
    glob = owner.client.post(url(consumer), {**EXAMPLE, "event_filters": "invoice.*"}, format="json")
    everything = owner.client.post(url(consumer), {**EXAMPLE, "event_filters": "*"}, format="json")

    assert unknown.status_code == 400
    assert error_code(unknown) == "validation_error"
    assert "account.created" in unknown.json()["error"]["fields"]["event_filters"][0]
    assert [r.status_code for r in (known, glob, everything)] == [201, 201, 201]


def test_an_inactive_version_does_not_restrict_event_filters(owner, application, consumer):
    make_version(application, active=False)

    response = owner.client.post(url(consumer), EXAMPLE, format="json")

    assert response.status_code == 201


def test_the_newest_active_version_decides(owner, application, consumer):
    make_version(application, key="1", release_date="2015-01-01", version_json=["old.event"])
    make_version(application, key="2", release_date="2016-01-01", version_json=["new.event"])

    old = owner.client.post(url(consumer), {**EXAMPLE, "event_filters": "old.event"}, format="json")
    new = owner.client.post(url(consumer), {**EXAMPLE, "event_filters": "new.event"}, format="json")

    assert (old.status_code, new.status_code) == (400, 201)


def test_it_lists_the_destinations_of_a_bucket_filtered_by_key(owner, consumer):
    default = add_destination(consumer, key="primary")
    add_destination(consumer, key="secondary")
    development = add_destination(consumer, bucket_key="development")

    default_list = owner.client.get(url(consumer))
    by_key = owner.client.get(url(consumer), {"destination_key": "primary"})
    by_bucket = owner.client.get(url(consumer), {"bucket_key": "development"})

    assert len(default_list.json()["results"]) == 2
    assert [d["id"] for d in by_key.json()["results"]] == [default.id]
    assert [d["id"] for d in by_bucket.json()["results"]] == [development.id]
    assert "secret" not in default_list.json()["results"][0]


def test_it_gets_updates_and_deletes(owner, viewer, application, consumer):
    make_version(application)
    destination = add_destination(consumer, event_filters=["invoice.paid"])

    got = viewer.client.get(url(consumer, destination.id))
    updated = owner.client.put(
        url(consumer, destination.id), {"name": "Renamed", "event_filters": "invoice.*"}, format="json"
    )
    rejected = owner.client.put(url(consumer, destination.id), {"event_filters": "nope.event"}, format="json")
    deleted = owner.client.delete(url(consumer, destination.id))

    assert got.status_code == 200
    assert "secret" not in got.json()
    assert updated.status_code == 200, updated.content
    assert updated.json()["event_filters"] == ["invoice.*"]
    assert rejected.status_code == 400
    assert "event_filters" in rejected.json()["error"]["fields"]
    assert deleted.status_code == 204
    assert not Destination.objects.filter(pk=destination.id).exists()


def test_a_destination_outside_the_consumers_sub_account_is_404(owner, outsider, application, consumer):
    provider_input = Input.objects.create(
        account=owner.account,
        bucket=Bucket.objects.create(account=owner.account, name="b", key="b"),
        name="i",
    )
    providers_own = Destination.objects.create(
        account=owner.account, input=provider_input, name="own", endpoint_url="https://e.com", secret="s"
    )
    neighbours = add_destination(consumer_create(application=application, consumer_id="n", name="N"))
    foreign_consumer = consumer_create(
        application=make_application(outsider.account), consumer_id="f", name="F"
    )
    foreign = add_destination(foreign_consumer)

    for destination_id in (providers_own.id, neighbours.id):
        assert owner.client.get(url(consumer, destination_id)).status_code == 404
        assert (
            owner.client.put(url(consumer, destination_id), {"name": "x"}, format="json").status_code == 404
        )
        assert owner.client.delete(url(consumer, destination_id)).status_code == 404
    assert owner.client.get(url(foreign_consumer, foreign.id)).status_code == 404
    assert owner.client.post(url(foreign_consumer), EXAMPLE, format="json").status_code == 404
    assert Destination.objects.filter(pk__in=[providers_own.id, neighbours.id, foreign.id]).count() == 3


def test_a_viewer_cannot_write(viewer, consumer):
    destination = add_destination(consumer)

    responses = [
        viewer.client.post(url(consumer), EXAMPLE, format="json"),
        viewer.client.put(url(consumer, destination.id), {"name": "x"}, format="json"),
        viewer.client.delete(url(consumer, destination.id)),
    ]

    for response in responses:
        assert response.status_code == 403
        assert error_code(response) == "permission_denied"
    assert Destination.objects.count() == 1


def test_odd_list_filters_are_400_not_500(owner, consumer):
    response = owner.client.get(url(consumer), {"bucket_key": "a\x00b"})

    assert response.status_code == 400
    assert "bucket_key" in response.json()["error"]["fields"]
