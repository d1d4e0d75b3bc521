from __future__ import annotations

import pytest

from destinations.models import Destination
from inputs.models import Input
from recipes.models import Recipe
from tests.conftest import error_code
from tests.factories import BucketFactory
from tests.routing_factories import DestinationFactory, InputFactory, RecipeFactory

pytestmark = pytest.mark.django_db


def url(account, input_id: str | None = None) -> str:
    base = f"/v1/accounts/{account.id}/inputs"
    return f"{base}/{input_id}" if input_id else base


def bucket_inputs_url(account, bucket_id: str) -> str:
    return f"/v1/accounts/{account.id}/buckets/{bucket_id}/inputs"


@pytest.fixture
def bucket(owner):
    return BucketFactory(account=owner.account)


@pytest.fixture
def input_recipe(owner):
    return RecipeFactory(account=owner.account, type=Recipe.Type.INPUT)


def reference_example(bucket, recipe) -> dict:
    return {
        "bucket_id": bucket.id,
        "name": "My Bucket",
        "event_location": "payload",
        "event_path": "msg.event",
        "event_filters": "account.created,message.sent",
        "response_content_type": "application/json",
        "recipe_id": recipe.id,
        "type": "static",
    }


def assert_field_error(response, field: str) -> None:
    assert response.status_code == 400, response.content
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"], response.json()


def test_it_creates_an_input_from_the_reference_example(owner, bucket, input_recipe):
    response = owner.client.post(url(owner.account), reference_example(bucket, input_recipe), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("IN")
    assert len(body["id"]) == 34
    assert body["account_id"] == owner.account.id
    assert body["bucket_id"] == bucket.id
    assert body["recipe_id"] == input_recipe.id
    assert body["event_filters"] == ["account.created", "message.sent"]
    assert body["url"] == f"http://testserver/v1/my-bucket/{body['id']}"
    assert body["status"] == "active"
    assert body["delivery_mode"] == "async"
    assert body["response_code"] == 200
    assert body["authentication_type"] == "none"
    assert body["authentication_options"] == {}
    assert body["authentication_failures"] == "reject"
    created = Input.objects.get(pk=body["id"])
    assert created.account_id == owner.account.id
    assert created.event_filters == ["account.created", "message.sent"]


def test_it_accepts_the_reference_example_form_encoded(owner, bucket, input_recipe):
    response = owner.client.post(url(owner.account), reference_example(bucket, input_recipe))

    assert response.status_code == 201, response.content
    assert response.json()["event_filters"] == ["account.created", "message.sent"]
    assert response.json()["recipe_id"] == input_recipe.id


def test_it_accepts_event_filters_as_a_json_array_with_globs(owner, bucket):
    body = {"bucket_id": bucket.id, "name": "Orders", "event_filters": ["order.*", "refund.created", "*"]}

    response = owner.client.post(url(owner.account), body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["event_filters"] == ["order.*", "refund.created", "*"]


def test_a_dynamic_input_has_the_dynamic_gateway_url(owner, bucket):
    response = owner.client.post(
        url(owner.account), {"bucket_id": bucket.id, "name": "Relay", "type": "dynamic"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["url"] == f"http://testserver/{response.json()['id']}/"


def test_it_requires_a_bucket(owner):
    response = owner.client.post(url(owner.account), {"name": "No bucket"}, format="json")

    assert_field_error(response, "bucket_id")


def test_it_rejects_foreign_bucket(owner, outsider):
    theirs = BucketFactory(account=outsider.account)

    response = owner.client.post(url(owner.account), {"bucket_id": theirs.id, "name": "x"}, format="json")

    assert_field_error(response, "bucket_id")
    assert not Input.objects.exists()


def test_it_rejects_a_bucket_of_the_parent_in_a_sub_account(owner, sub_account, bucket):
    response = owner.client.post(url(sub_account), {"bucket_id": bucket.id, "name": "x"}, format="json")

    assert_field_error(response, "bucket_id")


def test_the_owner_creates_inputs_in_a_sub_account(owner, sub_account):
    sub_bucket = BucketFactory(account=sub_account)

    response = owner.client.post(url(sub_account), {"bucket_id": sub_bucket.id, "name": "x"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["account_id"] == sub_account.id


def test_it_rejects_a_recipe_of_another_account(owner, outsider, bucket):
    theirs = RecipeFactory(account=outsider.account, type=Recipe.Type.INPUT)

    response = owner.client.post(
        url(owner.account), {"bucket_id": bucket.id, "name": "x", "recipe_id": theirs.id}, format="json"
    )

    assert_field_error(response, "recipe_id")


def test_it_rejects_a_destination_recipe(owner, bucket):
    recipe = RecipeFactory(account=owner.account, type=Recipe.Type.DESTINATION)

    response = owner.client.post(
        url(owner.account), {"bucket_id": bucket.id, "name": "x", "recipe_id": recipe.id}, format="json"
    )

    assert_field_error(response, "recipe_id")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"event_location": "payload", "event_path": "event.type"}, "event_path"),
        ({"event_location": "payload", "event_path": "msg..type"}, "event_path"),
        ({"event_location": "header", "event_path": "X Event"}, "event_path"),
        ({"event_location": "query", "event_path": "a&b"}, "event_path"),
        ({"event_location": "body"}, "event_location"),
        ({"event_filters": "account.created,not a filter!"}, "event_filters"),
        ({"event_filters": ["order.*.created"]}, "event_filters"),
        ({"event_filters": 5}, "event_filters"),
        ({"response_code": 99}, "response_code"),
        ({"response_code": 600}, "response_code"),
        ({"status": "paused"}, "status"),
        ({"delivery_mode": "later"}, "delivery_mode"),
        ({"type": "sometimes"}, "type"),
        ({"authentication_type": "magic"}, "authentication_type"),
        ({"authentication_failures": "ignore"}, "authentication_failures"),
        ({"key": "not a slug"}, "key"),
        ({"name": ""}, "name"),
    ],
)
def test_it_rejects_invalid_fields(owner, bucket, fields, field):
    body = {"bucket_id": bucket.id, "name": "Orders", **fields}

    response = owner.client.post(url(owner.account), body, format="json")

    assert_field_error(response, field)


@pytest.mark.parametrize(
    ("location", "path"),
    [("payload", "msg"), ("payload", "msg.data.0.type"), ("header", "X-GitHub-Event"), ("query", "event")],
)
def test_it_accepts_event_paths_for_each_location(owner, bucket, location, path):
    body = {"bucket_id": bucket.id, "name": "Orders", "event_location": location, "event_path": path}

    response = owner.client.post(url(owner.account), body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["event_path"] == path


def test_it_fills_the_defaults_of_hmac_authentication(owner, bucket):
    body = {
        "bucket_id": bucket.id,
        "name": "GitHub",
        "authentication_type": "hmac",
        "authentication_options": {"header": "X-Hub-Signature-256", "prefix": "sha256=", "secret": "s3cret"},
    }

    response = owner.client.post(url(owner.account), body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["authentication_options"] == {
        "header": "X-Hub-Signature-256",
        "algorithm": "sha256",
        "encoding": "hex",
        "prefix": "sha256=",
        "secret": "s3cret",
        "signed_content": "body",
    }


def test_it_generates_a_standard_webhooks_secret_when_omitted(owner, bucket):
    body = {"bucket_id": bucket.id, "name": "Svix", "authentication_type": "standard_webhooks"}

    response = owner.client.post(url(owner.account), body, format="json")

    assert response.status_code == 201, response.content
    options = response.json()["authentication_options"]
    assert options["secret"].startswith("whsec_")
    assert options["tolerance_seconds"] == 300


def test_it_accepts_authentication_options_as_a_json_string_in_a_form(owner, bucket):
    body = {
        "bucket_id": bucket.id,
        "name": "Basic",
        "authentication_type": "basic",
        "authentication_options": '{"username": "bob", "password": "pw"}',
    }

    response = owner.client.post(url(owner.account), body)

    assert response.status_code == 201, response.content
    assert response.json()["authentication_options"] == {"username": "bob", "password": "pw"}


@pytest.mark.parametrize(
    ("auth_type", "options"),
    [
        ("basic", {"username": "bob"}),
        ("basic", {"username": "bob", "password": "pw", "realm": "x"}),
        ("token", {"location": "cookie", "name": "t", "value": "v"}),
        ("token", {"location": "header", "name": "Bad Header", "value": "v"}),
        ("hmac", {"header": "X-Sig", "secret": "s", "algorithm": "md5"}),
        ("hmac", {"secret": "s"}),
        ("standard_webhooks", {"secret": "not-a-whsec"}),
        ("standard_webhooks", {"tolerance_seconds": "soon"}),
        ("none", {"username": "bob"}),
        ("basic", ["username", "bob"]),
        ("basic", "{not json"),
    ],
)
def test_it_rejects_invalid_authentication_options(owner, bucket, auth_type, options):
    body = {
        "bucket_id": bucket.id,
        "name": "Auth",
        "authentication_type": auth_type,
        "authentication_options": options,
    }

    response = owner.client.post(url(owner.account), body, format="json")

    assert_field_error(response, "authentication_options")


def test_it_gets_an_input(owner):
    input_ = InputFactory(account=owner.account, name="Sample Input")

    response = owner.client.get(url(owner.account, input_.id))

    assert response.status_code == 200
    assert response.json()["id"] == input_.id
    assert response.json()["url"] == f"http://testserver/v1/sample-input/{input_.id}"


def test_it_updates_an_input_with_the_reference_example(owner, input_recipe):
    input_ = InputFactory(account=owner.account, event_filters=["old.event"])
    body = {
        "name": "My Bucket",
        "event_location": "payload",
        "event_path": "msg.event",
        "event_filters": "account.created,message.sent",
        "response_content_type": "application/json",
        "recipe_id": input_recipe.id,
    }

    response = owner.client.put(url(owner.account, input_.id), body)

    assert response.status_code == 200, response.content
    input_.refresh_from_db()
    assert input_.name == "My Bucket"
    assert input_.event_filters == ["account.created", "message.sent"]
    assert input_.recipe_id == input_recipe.id


def test_it_refuses_to_change_the_type(owner):
    input_ = InputFactory(account=owner.account, type=Input.Type.STATIC)

    response = owner.client.put(url(owner.account, input_.id), {"type": "dynamic"}, format="json")

    assert_field_error(response, "type")
    input_.refresh_from_db()
    assert input_.type == Input.Type.STATIC


def test_changing_the_authentication_type_starts_from_its_defaults(owner):
    input_ = InputFactory(
        account=owner.account,
        authentication_type="basic",
        authentication_options={"username": "bob", "password": "pw"},
    )

    response = owner.client.put(url(owner.account, input_.id), {"authentication_type": "none"}, format="json")

    assert response.status_code == 200, response.content
    input_.refresh_from_db()
    assert input_.authentication_type == "none"
    assert input_.authentication_options == {}


def test_new_options_are_checked_against_the_current_type(owner):
    input_ = InputFactory(
        account=owner.account,
        authentication_type="basic",
        authentication_options={"username": "bob", "password": "pw"},
    )

    response = owner.client.put(
        url(owner.account, input_.id), {"authentication_options": {"username": "alice"}}, format="json"
    )

    assert_field_error(response, "authentication_options")


def test_an_update_checks_the_event_path_against_the_stored_location(owner):
    input_ = InputFactory(account=owner.account, event_location="payload", event_path="msg.type")

    response = owner.client.put(url(owner.account, input_.id), {"event_path": "type"}, format="json")

    assert_field_error(response, "event_path")


def test_it_deletes_an_input_and_its_destinations(owner):
    destination = DestinationFactory(account=owner.account)

    response = owner.client.delete(url(owner.account, destination.input_id))

    assert response.status_code == 204
    assert not Input.objects.filter(pk=destination.input_id).exists()
    assert not Destination.objects.filter(pk=destination.pk).exists()


def test_it_lists_the_inputs_of_a_bucket(owner, bucket):
    mine = InputFactory(account=owner.account, bucket=bucket)
    InputFactory(account=owner.account)  # another bucket

    response = owner.client.get(bucket_inputs_url(owner.account, bucket.id))

    assert response.status_code == 200
    assert [i["id"] for i in response.json()["results"]] == [mine.id]


def test_it_filters_the_bucket_inputs_by_key(owner, bucket):
    wanted = InputFactory(account=owner.account, bucket=bucket, key="orders")
    InputFactory(account=owner.account, bucket=bucket, key="refunds")

    response = owner.client.get(bucket_inputs_url(owner.account, bucket.id), {"key": "orders"})

    assert [i["id"] for i in response.json()["results"]] == [wanted.id]


def test_it_filters_the_bucket_inputs_by_event(owner, bucket):
    exact = InputFactory(account=owner.account, bucket=bucket, event_filters=["account.created"])
    glob = InputFactory(account=owner.account, bucket=bucket, event_filters=["account.*"])
    everything = InputFactory(account=owner.account, bucket=bucket, event_filters=[])
    star = InputFactory(account=owner.account, bucket=bucket, event_filters=["*"])
    InputFactory(account=owner.account, bucket=bucket, event_filters=["message.sent"])

    response = owner.client.get(
        bucket_inputs_url(owner.account, bucket.id), {"event_filter": "account.created"}
    )

    assert response.status_code == 200
    assert {i["id"] for i in response.json()["results"]} == {exact.id, glob.id, everything.id, star.id}


def test_the_bucket_inputs_of_a_foreign_bucket_are_404(owner, outsider):
    theirs = BucketFactory(account=outsider.account)

    assert owner.client.get(bucket_inputs_url(owner.account, theirs.id)).status_code == 404
    assert owner.client.get(bucket_inputs_url(outsider.account, theirs.id)).status_code == 404


def test_it_rejects_foreign_input(owner, outsider):
    theirs = InputFactory(account=outsider.account)

    assert owner.client.get(url(owner.account, theirs.id)).status_code == 404
    assert owner.client.get(url(outsider.account, theirs.id)).status_code == 404
    response = owner.client.put(url(owner.account, theirs.id), {"name": "Mine now"}, format="json")
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert owner.client.delete(url(owner.account, theirs.id)).status_code == 404
    assert Input.objects.filter(pk=theirs.pk, name=theirs.name).exists()


def test_a_viewer_can_read_but_not_write(viewer):
    input_ = InputFactory(account=viewer.account)
    bucket = input_.bucket

    created = viewer.client.post(url(viewer.account), {"bucket_id": bucket.id, "name": "Nope"}, format="json")
    updated = viewer.client.put(url(viewer.account, input_.id), {"name": "Nope"}, format="json")
    deleted = viewer.client.delete(url(viewer.account, input_.id))

    assert viewer.client.get(url(viewer.account, input_.id)).status_code == 200
    assert [r.status_code for r in (created, updated, deleted)] == [403, 403, 403]
    assert error_code(created) == "permission_denied"


def test_a_developer_can_write(developer, bucket):
    response = developer.client.post(
        url(developer.account), {"bucket_id": bucket.id, "name": "Dev input"}, format="json"
    )

    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bucket_id", "BU\x00"),
        ("bucket_id", "X" * 5000),
        ("bucket_id", ["BU"]),
        ("recipe_id", "RE\x00"),
        ("recipe_id", 5),
        ("name", "nul\x00"),
        ("event_filters", ["a\x00"]),
    ],
)
def test_odd_values_are_field_errors_not_server_errors(owner, bucket, field, value):
    body = {"bucket_id": bucket.id, "name": "Orders", field: value}

    response = owner.client.post(url(owner.account), body, format="json")

    assert_field_error(response, field)


def test_an_odd_key_filter_matches_nothing(owner, bucket):
    InputFactory(account=owner.account, bucket=bucket)

    response = owner.client.get(bucket_inputs_url(owner.account, bucket.id), {"key": "nul\x00"})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_an_input_named_like_an_api_route_gets_a_gateway_url_that_reaches_the_gateway(owner):
    from django.urls import resolve

    bucket = BucketFactory(account=owner.account)
    response = owner.client.post(
        f"/v1/accounts/{owner.account.id}/inputs", {"bucket_id": bucket.id, "name": "Accounts"}, format="json"
    )

    path = response.json()["url"].split("testserver", 1)[1]
    assert resolve(path).url_name == "gateway"
