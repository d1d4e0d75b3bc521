from __future__ import annotations

import base64

import pytest

from destinations.models import Destination
from recipes.models import Recipe
from tests.conftest import error_code, make_actor
from tests.factories import make_account
from tests.routing_factories import DestinationFactory, InputFactory, RecipeFactory

pytestmark = pytest.mark.django_db


def list_url(account, input_id: str) -> str:
    return f"/v1/accounts/{account.id}/inputs/{input_id}/destinations"


def url(account, destination_id: str) -> str:
    return f"/v1/accounts/{account.id}/destinations/{destination_id}"


@pytest.fixture
def input_(owner):
    return InputFactory(account=owner.account)


@pytest.fixture
def destination_recipe(owner):
    return RecipeFactory(account=owner.account, type=Recipe.Type.DESTINATION)


def reference_example(recipe) -> dict:
    return {
        "name": "My Final Destination",
        "endpoint_url": "http://mydomain.com/webhook-endpoint",
        "delivery_order": "random",
        "message_method": "GET",
        "event_filters": "account.created,message.sent",
        "header_prefix": "Webhooks",
        "alert_on_failure": "bob@mail.com,john@email.com",
        "recipe_id": recipe.id,
        "rate_limit": "5",
    }


def assert_field_error(response, field: str) -> None:
    assert response.status_code == 400, response.content
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"], response.json()


def test_it_creates_a_destination_from_the_reference_example(owner, input_, destination_recipe):
    response = owner.client.post(
        list_url(owner.account, input_.id), reference_example(destination_recipe), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("OU")
    assert len(body["id"]) == 34
    assert body["account_id"] == owner.account.id
    assert body["input_id"] == input_.id
    assert body["endpoint_url"] == "http://mydomain.com/webhook-endpoint"
    assert body["message_method"] == "GET"
    assert body["event_filters"] == ["account.created", "message.sent"]
    assert body["alert_on_failure"] == ["bob@mail.com", "john@email.com"]
    assert body["recipe_id"] == destination_recipe.id
    assert body["rate_limit"] == 5
    assert body["status"] == "active"
    assert body["verify_ssl"] is True
    assert body["signature_scheme"] == "standard_webhooks"
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 24
    assert Destination.objects.get(pk=body["id"]).secret == body["secret"]


def test_it_accepts_the_reference_example_form_encoded(owner, input_, destination_recipe):
    response = owner.client.post(list_url(owner.account, input_.id), reference_example(destination_recipe))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["event_filters"] == ["account.created", "message.sent"]
    assert body["alert_on_failure"] == ["bob@mail.com", "john@email.com"]
    assert body["rate_limit"] == 5
    assert body["verify_ssl"] is True, "a form without verify_ssl keeps the default"


def test_it_accepts_lists_as_json_arrays_and_strings_for_scalars(owner, input_):
    body = {
        "name": "Arrays",
        "endpoint_url": "https://hooks.example.com/in",
        "event_filters": ["account.*", "message.sent"],
        "headers_to_include": ["X-Request-Id", "User-Agent"],
        "alert_on_failure": ["ops@example.com"],
        "verify_ssl": "false",
        "retry_policy_id": "linear",
        "retry_count": "5",
        "retry_interval": "120",
    }

    response = owner.client.post(list_url(owner.account, input_.id), body, format="json")

    assert response.status_code == 201, response.content
    destination = Destination.objects.get(pk=response.json()["id"])
    assert destination.event_filters == ["account.*", "message.sent"]
    assert destination.headers_to_include == ["X-Request-Id", "User-Agent"]
    assert destination.verify_ssl is False
    assert (destination.retry_policy_id, destination.retry_count, destination.retry_interval) == (
        "linear",
        5,
        120,
    )


def test_the_rate_limit_defaults_to_the_plan_maximum(owner, input_):
    response = owner.client.post(
        list_url(owner.account, input_.id),
        {"name": "d", "endpoint_url": "https://a.example/h"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["rate_limit"] == owner.account.plan.max_rate_limit


def test_it_rejects_a_rate_limit_over_the_plan_maximum(owner, input_):
    maximum = owner.account.plan.max_rate_limit
    body = {"name": "d", "endpoint_url": "https://a.example/h", "rate_limit": maximum + 1}

    response = owner.client.post(list_url(owner.account, input_.id), body, format="json")

    assert_field_error(response, "rate_limit")
    assert str(maximum) in response.json()["error"]["message"]


def test_the_plan_maximum_is_the_accounts_own(db):
    free = make_account(name="Free", plan_id="free")
    free_owner = make_actor(free)
    free_input = InputFactory(account=free)
    body = {"name": "d", "endpoint_url": "https://a.example/h", "rate_limit": 6}

    response = free_owner.client.post(list_url(free, free_input.id), body, format="json")

    assert_field_error(response, "rate_limit")
    assert "5" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"endpoint_url": "ftp://files.example.com/in"}, "endpoint_url"),
        ({"endpoint_url": "http://"}, "endpoint_url"),
        ({"endpoint_url": "not a url"}, "endpoint_url"),
        ({"endpoint_url": "http://host:99999/x"}, "endpoint_url"),
        ({"endpoint_url": "http://[::1/x"}, "endpoint_url"),
        ({"endpoint_url": "https://example.com/" + "a" * 2040}, "endpoint_url"),
        ({"endpoint_url": ""}, "endpoint_url"),
        ({"name": ""}, "name"),
        ({"key": "not a slug"}, "key"),
        ({"delivery_order": "lifo"}, "delivery_order"),
        ({"status": "disabled"}, "status"),
        ({"status": "paused"}, "status"),
        ({"message_method": "FETCH"}, "message_method"),
        ({"event_filters": "a.b,bad filter"}, "event_filters"),
        ({"authentication_type": "hmac"}, "authentication_type"),
        ({"authentication_type": "bearer"}, "authentication_options"),
        (
            {"authentication_type": "header", "authentication_options": {"name": "X Y", "value": "v"}},
            "authentication_options",
        ),
        ({"authentication_options": {"token": "t"}}, "authentication_options"),
        ({"retry_policy_id": "sometimes"}, "retry_policy_id"),
        ({"retry_count": 51}, "retry_count"),
        ({"retry_count": -1}, "retry_count"),
        ({"retry_interval": 0}, "retry_interval"),
        ({"retry_interval": 86401}, "retry_interval"),
        ({"verify_ssl": "perhaps"}, "verify_ssl"),
        ({"headers_to_include": "X-Ok,Bad Header"}, "headers_to_include"),
        ({"header_prefix": "X_Bad"}, "header_prefix"),
        ({"header_prefix": ""}, "header_prefix"),
        ({"alert_on_failure": "bob@mail.com,not-an-email"}, "alert_on_failure"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"rate_limit": "fast"}, "rate_limit"),
        ({"signature_scheme": "md5"}, "signature_scheme"),
    ],
)
def test_it_rejects_invalid_fields(owner, input_, fields, field):
    body = {"name": "Receiver", "endpoint_url": "https://receiver.example.com/hook", **fields}

    response = owner.client.post(list_url(owner.account, input_.id), body, format="json")

    assert_field_error(response, field)
    assert not Destination.objects.exists()


def test_it_accepts_outgoing_authentication(owner, input_):
    body = {
        "name": "Bearer",
        "endpoint_url": "https://receiver.example.com/hook",
        "authentication_type": "bearer",
        "authentication_options": {"token": "t0k3n"},
        "signature_scheme": "both",
    }

    response = owner.client.post(list_url(owner.account, input_.id), body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["authentication_options"] == {"token": "t0k3n"}


def test_it_rejects_a_recipe_of_another_account(owner, outsider, input_):
    theirs = RecipeFactory(account=outsider.account, type=Recipe.Type.DESTINATION)
    body = {"name": "d", "endpoint_url": "https://a.example/h", "recipe_id": theirs.id}

    response = owner.client.post(list_url(owner.account, input_.id), body, format="json")

    assert_field_error(response, "recipe_id")


def test_it_rejects_an_input_recipe(owner, input_):
    recipe = RecipeFactory(account=owner.account, type=Recipe.Type.INPUT)
    body = {"name": "d", "endpoint_url": "https://a.example/h", "recipe_id": recipe.id}

    response = owner.client.post(list_url(owner.account, input_.id), body, format="json")

    assert_field_error(response, "recipe_id")


def test_a_null_message_method_passes_the_method_through(owner, input_):
    body = {"name": "d", "endpoint_url": "https://a.example/h", "message_method": None}
    form_body = {"name": "f", "endpoint_url": "https://a.example/h", "message_method": ""}

    response = owner.client.post(list_url(owner.account, input_.id), body, format="json")
    form_response = owner.client.post(list_url(owner.account, input_.id), form_body)

    assert response.status_code == 201, response.content
    assert form_response.status_code == 201, form_response.content
    assert response.json()["message_method"] is None
    assert form_response.json()["message_method"] is None


def test_it_lists_an_inputs_destinations_without_secrets(owner, input_):
    mine = DestinationFactory(account=owner.account, input=input_)
    DestinationFactory(account=owner.account)  # another input

    response = owner.client.get(list_url(owner.account, input_.id))

    assert response.status_code == 200
    results = response.json()["results"]
    assert [d["id"] for d in results] == [mine.id]
    assert "secret" not in results[0]
    assert mine.secret not in response.content.decode()


def test_it_filters_the_list_by_destination_key(owner, input_):
    wanted = DestinationFactory(account=owner.account, input=input_, key="crm")
    DestinationFactory(account=owner.account, input=input_, key="billing")

    response = owner.client.get(list_url(owner.account, input_.id), {"destination_key": "crm"})

    assert [d["id"] for d in response.json()["results"]] == [wanted.id]


def test_it_gets_a_destination_without_its_secret(owner):
    destination = DestinationFactory(account=owner.account)

    response = owner.client.get(url(owner.account, destination.id))

    assert response.status_code == 200
    assert response.json()["id"] == destination.id
    assert "secret" not in response.json()
    assert destination.secret not in response.content.decode()


def test_it_updates_a_destination_with_the_reference_example(owner, destination_recipe):
    destination = DestinationFactory(account=owner.account, message_method=None)
    body = reference_example(destination_recipe)
    del body["endpoint_url"]  # the reference's update example leaves it out

    response = owner.client.put(url(owner.account, destination.id), body)

    assert response.status_code == 200, response.content
    assert "secret" not in response.json()
    destination.refresh_from_db()
    assert destination.name == "My Final Destination"
    assert destination.message_method == "GET"
    assert destination.endpoint_url == "https://receiver.example.com/hook"
    assert destination.recipe_id == destination_recipe.id
    assert destination.verify_ssl is True, "a partial form update leaves booleans alone"


def test_a_user_can_reactivate_a_disabled_destination(owner):
    destination = DestinationFactory(
        account=owner.account, status=Destination.Status.DISABLED, disabled_reason="410 Gone"
    )

    response = owner.client.put(url(owner.account, destination.id), {"status": "active"}, format="json")

    assert response.status_code == 200, response.content
    destination.refresh_from_db()
    assert destination.status == Destination.Status.ACTIVE
    assert destination.disabled_reason == ""


def test_a_user_cannot_disable_a_destination(owner):
    destination = DestinationFactory(account=owner.account)

    response = owner.client.put(url(owner.account, destination.id), {"status": "disabled"}, format="json")

    assert_field_error(response, "status")


def test_an_update_over_the_plan_maximum_is_rejected(owner):
    destination = DestinationFactory(account=owner.account, rate_limit=5)

    response = owner.client.put(url(owner.account, destination.id), {"rate_limit": 100_000}, format="json")

    assert_field_error(response, "rate_limit")
    destination.refresh_from_db()
    assert destination.rate_limit == 5


def test_it_deletes_a_destination(owner):
    destination = DestinationFactory(account=owner.account)

    response = owner.client.delete(url(owner.account, destination.id))

    assert response.status_code == 204
    assert not Destination.objects.filter(pk=destination.pk).exists()


def test_it_rejects_foreign_input(owner, outsider):
    theirs = InputFactory(account=outsider.account)
    body = {"name": "d", "endpoint_url": "https://a.example/h"}

    assert owner.client.get(list_url(owner.account, theirs.id)).status_code == 404
    response = owner.client.post(list_url(owner.account, theirs.id), body, format="json")
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert owner.client.post(list_url(outsider.account, theirs.id), body, format="json").status_code == 404
    assert not Destination.objects.exists()


def test_it_rejects_foreign_destination(owner, outsider):
    theirs = DestinationFactory(account=outsider.account)

    assert owner.client.get(url(owner.account, theirs.id)).status_code == 404
    assert owner.client.get(url(outsider.account, theirs.id)).status_code == 404
    assert owner.client.put(url(owner.account, theirs.id), {"name": "x"}, format="json").status_code == 404
    assert owner.client.delete(url(owner.account, theirs.id)).status_code == 404
    assert Destination.objects.filter(pk=theirs.pk, name=theirs.name).exists()


def test_a_viewer_can_read_but_not_write(viewer):
    destination = DestinationFactory(account=viewer.account)
    body = {"name": "d", "endpoint_url": "https://a.example/h"}

    created = viewer.client.post(list_url(viewer.account, destination.input_id), body, format="json")
    updated = viewer.client.put(url(viewer.account, destination.id), {"name": "x"}, format="json")
    deleted = viewer.client.delete(url(viewer.account, destination.id))

    assert viewer.client.get(url(viewer.account, destination.id)).status_code == 200
    assert viewer.client.get(list_url(viewer.account, destination.input_id)).status_code == 200
    assert [r.status_code for r in (created, updated, deleted)] == [403, 403, 403]
    assert error_code(updated) == "permission_denied"


def test_an_expanded_bucket_shows_destinations_without_secrets(owner):
    destination = DestinationFactory(account=owner.account)

    response = owner.client.get(f"/v1/accounts/{owner.account.id}/buckets", {"expand": "true"})

    assert response.status_code == 200, response.content
    (bucket,) = response.json()["results"]
    (input_,) = bucket["inputs"]
    assert input_["id"] == destination.input_id
    assert input_["url"].startswith("http://testserver/v1/")
    assert [d["id"] for d in input_["destinations"]] == [destination.id]
    assert destination.secret not in response.content.decode()


def test_odd_ids_and_keys_never_fail_the_server(owner, input_):
    DestinationFactory(account=owner.account, input=input_)
    body = {"name": "d", "endpoint_url": "https://a.example/h", "recipe_id": "RE\x00"}

    created = owner.client.post(list_url(owner.account, input_.id), body, format="json")
    listed = owner.client.get(list_url(owner.account, input_.id), {"destination_key": "nul\x00"})

    assert_field_error(created, "recipe_id")
    assert listed.status_code == 200
    assert listed.json()["results"] == []


def test_a_null_rate_limit_means_the_plan_maximum(owner, input_):
    destination = DestinationFactory(account=owner.account, input=input_, rate_limit=5)
    body = {"name": "d", "endpoint_url": "https://a.example/h", "rate_limit": None}

    created = owner.client.post(list_url(owner.account, input_.id), body, format="json")
    updated = owner.client.put(url(owner.account, destination.id), {"rate_limit": None}, format="json")

    maximum = owner.account.plan.max_rate_limit
    assert created.status_code == 201, created.content
    assert created.json()["rate_limit"] == maximum
    assert updated.status_code == 200, updated.content
    destination.refresh_from_db()
    assert destination.rate_limit == maximum


@pytest.mark.parametrize(
    "endpoint_url",
    [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:9000/hook",
        "http://localhost:9000/hook",
        "http://[::1]:9000/hook",
        "https://192.168.1.20/hook",
    ],
)
def test_a_literal_private_address_is_refused_unless_the_operator_allows_it(
    owner, input_, settings, endpoint_url
):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    existing = DestinationFactory(account=owner.account, input=input_)

    created = owner.client.post(
        list_url(owner.account, input_.id), {"name": "Private", "endpoint_url": endpoint_url}, format="json"
    )
    updated = owner.client.put(url(owner.account, existing.id), {"endpoint_url": endpoint_url}, format="json")

    for response in (created, updated):
        assert_field_error(response, "endpoint_url")
        assert "OUTBOUND_ALLOWED_NETWORKS" in response.json()["error"]["fields"]["endpoint_url"][0]
    settings.OUTBOUND_ALLOWED_NETWORKS = ["0.0.0.0/0", "::/0"]
    allowed = owner.client.post(
        list_url(owner.account, input_.id), {"name": "Private", "endpoint_url": endpoint_url}, format="json"
    )
    assert allowed.status_code == 201, allowed.content


def test_a_host_name_is_accepted_and_checked_at_delivery(owner, input_, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []

    response = owner.client.post(
        list_url(owner.account, input_.id),
        {"name": "Named", "endpoint_url": "https://hooks.internal.example/x"},
        format="json",
    )

    assert response.status_code == 201, response.content
