"""One test per section of seed 002 that needs no delivery, each driving the section's methods
through the SDK against the live server (Messages, Reporting and the Providers' sending are in
test_delivery.py, with a worker)."""

from __future__ import annotations

import json
import re

import pytest
from django.core import mail
from hookrelay import Client, HookRelayError

from tests.conftest import make_actor
from tests.factories import make_account
from tests.providers.conftest import VERSION_JSON
from tests.sdk.conftest import live

pytestmark = live

APPLICATION = {
    "name": "Billing",
    "categories": "ecommerce,payment",
    "overview": "Invoices.",
    "description": "Invoices and payments.",
    "homepage_url": "https://billing.example.com",
    "api_url": "https://api.billing.example.com",
    "logo_url": "https://billing.example.com/logo.png",
    "active": True,
}


def test_accounts_section(anonymous: Client, make_client):
    registered = anonymous.register_account(
        name="Sample Company, LLC", first_name="Bob", last_name="Smith", email_address="bob@example.com",
        password="a-long-password-1", password_confirm="a-long-password-1", plan_id="pro", invite_code="none",
    )  # fmt: skip
    account_id = registered["account"]["id"]
    client = make_client(registered["api_token"])

    assert client.get_account(account_id)["name"] == "Sample Company, LLC"
    assert client.update_account(account_id, name="Renamed", account_key="acct-1")["account_key"] == "acct-1"
    sub = client.create_sub_account(account_id, name="Client One", account_key="client-1")
    client.create_sub_account(account_id, name="Client Two", account_key="client-2")
    assert [
        a["id"] for a in client.paginate(client.get_sub_accounts, account_id, account_key="client-1")
    ] == [sub["id"]]
    assert {a["name"] for a in client.paginate(client.get_sub_accounts, account_id)} == {
        "Client One",
        "Client Two",
    }
    client.delete_account(sub["id"])
    with pytest.raises(HookRelayError) as missing:
        client.get_account(sub["id"])
    assert (missing.value.status, missing.value.code) == (404, "not_found")


def test_registration_errors_carry_the_error_shape(anonymous: Client):
    with pytest.raises(HookRelayError) as failed:
        anonymous.register_account(
            first_name="Bob", last_name="Smith", email_address="bob@example.com", password="a-long-password-1",
            password_confirm="another-password", plan_id="pro", invite_code="none",
        )  # fmt: skip

    assert failed.value.status == 400
    assert failed.value.code == "validation_error"
    assert "password_confirm" in failed.value.fields
    assert failed.value.message


def test_a_required_option_left_out_fails_before_any_request(sdk: Client, owner):
    with pytest.raises(TypeError, match="name"):
        sdk.create_bucket(owner.account.id)


def test_applications_section(sdk: Client, owner):
    account = owner.account.id
    app = sdk.create_application(account, **APPLICATION)
    assert sdk.get_application(account, app["id"])["name"] == "Billing"
    assert (
        sdk.update_application(account, app["id"], **{**APPLICATION, "name": "Billing 2"})["name"]
        == "Billing 2"
    )
    assert [a["id"] for a in sdk.paginate(sdk.get_applications, account)] == [app["id"]]

    version = sdk.create_application_version(
        account, app["id"], key="1.0", release_date="2015-01-01", version_json=VERSION_JSON, examples_json={},
        active=True,
    )  # fmt: skip
    assert version["event_types"] == ["invoice.created", "invoice.paid", "customer.deleted"]
    updated = sdk.update_application_version(
        account, app["id"], version["id"], key="1.1", release_date="2015-02-01", version_json=VERSION_JSON,
        examples_json={}, active=False,
    )  # fmt: skip
    assert (updated["key"], updated["active"]) == ("1.1", False)
    assert sdk.get_application_version(account, app["id"], version["id"])["key"] == "1.1"
    assert [v["id"] for v in sdk.paginate(sdk.get_application_versions, account, app["id"])] == [
        version["id"]
    ]
    sdk.delete_application_version(account, app["id"], version["id"])
    assert list(sdk.paginate(sdk.get_application_versions, account, app["id"])) == []
    sdk.delete_application(account, app["id"])
    assert list(sdk.paginate(sdk.get_applications, account)) == []


def test_buckets_section(sdk: Client, owner):
    account = owner.account.id
    created = [sdk.create_bucket(account, name=f"Bucket {n}", key=f"bucket-{n}") for n in range(5)]

    assert sdk.get_bucket(account, created[0]["id"])["key"] == "bucket-0"
    assert sdk.update_bucket(account, created[0]["id"], name="Renamed", key="renamed")["key"] == "renamed"
    first_page = sdk.get_buckets(account, page_size=2)
    assert len(first_page["results"]) == 2
    assert first_page["next"]
    # The pagination helper follows every page.
    assert [b["id"] for b in sdk.paginate(sdk.get_buckets, account, page_size=2)] == [
        b["id"] for b in created
    ]
    sdk.delete_bucket(account, created[0]["id"])
    with pytest.raises(HookRelayError) as missing:
        sdk.get_bucket(account, created[0]["id"])
    assert missing.value.status == 404


def test_another_tenants_objects_answer_404(sdk: Client, make_client, owner, outsider):
    foreign = make_client(outsider.token).create_bucket(outsider.account.id, name="Theirs")

    with pytest.raises(HookRelayError) as missing:
        sdk.get_bucket(owner.account.id, foreign["id"])

    assert (missing.value.status, missing.value.code) == (404, "not_found")


def test_inputs_section(sdk: Client, owner):
    account = owner.account.id
    bucket = sdk.create_bucket(account, name="Orders")
    created = sdk.create_input(
        account, bucket_id=bucket["id"], name="shop", event_location="header", event_path="X-Event",
        event_filters="order.created,order.paid", response_code=202,
    )  # fmt: skip

    assert created["event_filters"] == ["order.created", "order.paid"]
    assert sdk.get_input(account, created["id"])["response_code"] == 202
    assert sdk.update_input(account, created["id"], name="shop-2", status="inactive")["status"] == "inactive"
    assert [i["id"] for i in sdk.paginate(sdk.get_inputs, account, bucket["id"])] == [created["id"]]
    assert list(sdk.paginate(sdk.get_inputs, account, bucket["id"], key="nothing-like-it")) == []
    sdk.delete_input(account, created["id"])
    assert list(sdk.paginate(sdk.get_inputs, account, bucket["id"])) == []


def test_destinations_section(sdk: Client, owner):
    account = owner.account.id
    bucket = sdk.create_bucket(account, name="Orders")
    source = sdk.create_input(account, bucket_id=bucket["id"], name="shop")
    created = sdk.create_destination(
        account, source["id"], name="CRM", endpoint_url="https://crm.example.com/hook", retry_policy_id="linear",
        retry_count=3, retry_interval=10, headers_to_include="X-Shop", rate_limit=5,
    )  # fmt: skip

    assert created["secret"].startswith("whsec_")
    assert created["rate_limit"] == 5  # an API option beyond the seed's, through **options
    assert "secret" not in sdk.get_destination(account, created["id"])
    updated = sdk.update_destination(
        account, created["id"], name="CRM 2", endpoint_url="https://crm.example.com/v2"
    )
    assert updated["endpoint_url"] == "https://crm.example.com/v2"
    assert [d["id"] for d in sdk.paginate(sdk.get_destinations, account, source["id"])] == [created["id"]]
    sdk.delete_destination(account, created["id"])
    assert list(sdk.paginate(sdk.get_destinations, account, source["id"])) == []


def test_recipes_section(sdk: Client, owner):
    account = owner.account.id
    draft = 'function wh(){ result.data = {"name": data.name}; exit(result); }'
    recipe = sdk.create_recipe(
        account, name="Slim", type="input", recipe_draft=draft, notes="Keeps the name."
    )

    assert sdk.get_recipe(account, recipe["id"])["notes"] == "Keeps the name."
    assert (
        sdk.update_recipe(account, recipe["id"], name="Slimmer", type="input", recipe_draft=draft)["name"]
        == "Slimmer"
    )
    published = sdk.publish_recipe(account, recipe["id"])
    assert published["recipe_published"] == draft
    assert [r["id"] for r in sdk.paginate(sdk.get_recipes, account)] == [recipe["id"]]
    outcome = sdk.test_recipe(account, type="input", recipe=draft, sample_code='{"name": "Zoë", "x": 1}')
    assert outcome["status"] == "transformed"
    assert json.loads(outcome["message"]["body"]) == {"name": "Zoë"}
    sdk.delete_recipe(account, recipe["id"])
    assert list(sdk.paginate(sdk.get_recipes, account)) == []


def test_users_section(anonymous: Client, make_client, owner):
    account = owner.account.id
    session = anonymous.login(email_address=owner.user.email_address, password="correct-horse-battery")
    client = make_client(session["session_token"])
    api_token = client.get_api_token(account, owner.user.id)["api_token"]
    client.token = api_token  # a long-lived token replaces the session

    user = client.create_user(
        account, first_name="Ann", last_name="Lee", email_address="ann@example.com", password="ann-password-1",
        permission_level="developer", timezone="Europe/Tallinn", notify=False,
    )  # fmt: skip
    assert client.get_user(account, user["id"])["timezone"] == "Europe/Tallinn"
    updated = client.update_user(
        account,
        user["id"],
        first_name="Anne",
        last_name="Lee",
        email_address="ann@example.com",
        timezone="Etc/GMT",
    )
    assert updated["first_name"] == "Anne"
    assert {u["email_address"] for u in client.paginate(client.get_users, account)} == {
        owner.user.email_address, "ann@example.com"
    }  # fmt: skip
    client.change_password(
        account, owner.user.id, new_password="new-horse-battery", new_confirm_password="new-horse-battery",
        existing_password="correct-horse-battery",
    )  # fmt: skip
    assert anonymous.login(email_address=owner.user.email_address, password="new-horse-battery")[
        "session_token"
    ]

    anonymous.reset_password(email_address="ann@example.com")
    change_key = re.search(r"/password_change_key/(\w+)", mail.outbox[-1].body).group(1)
    assert anonymous.lookup_password_change_key(change_key)["email_address"] == "ann@example.com"

    client.resend_verification_email(account, user["id"])
    verification_key = re.search(r"/verify/(\w+)", mail.outbox[-1].body).group(1)
    anonymous.verify_email_address(verification_key)
    assert client.get_user(account, user["id"])["email_verified"] is True

    client.delete_user(account, user["id"])
    with pytest.raises(HookRelayError) as missing:
        client.get_user(account, user["id"])
    assert missing.value.status == 404


def test_utils_section(anonymous: Client):
    assert anonymous.health_check()["status"] == "ok"
    plans = list(anonymous.paginate(anonymous.get_plans))
    assert "free" in {p["id"] for p in plans}
    assert anonymous.get_plan("free")["id"] == "free"
    assert "Europe/Tallinn" in anonymous.get_timezones()
    policies = anonymous.get_retry_policies()
    assert anonymous.get_retry_policy("linear")["id"] == "linear"
    assert policies


def test_a_sub_account_owner_cannot_read_the_parent(make_client, owner):
    sub = make_account(name="Sub", parent=owner.account, account_key="sub")
    client = make_client(make_actor(sub).token)

    with pytest.raises(HookRelayError) as refused:
        client.get_account(owner.account.id)

    assert refused.value.status in (403, 404)


def test_providers_section(sdk: Client, owner):
    """The consumers' routes on this branch; their log, buckets, send and embedded view are in
    test_delivery.py."""
    account = owner.account.id
    app = sdk.create_application(account, **APPLICATION)
    version = sdk.create_application_version(
        account, app["id"], key="1.0", release_date="2015-01-01", version_json=VERSION_JSON, examples_json={},
        active=True,
    )  # fmt: skip
    consumer = sdk.create_consumer(
        account, app["id"], consumer_id="acme 42", bucket_key="development", name="ACME"
    )
    assert consumer["buckets"] == ["development"]
    assert [c["consumer_id"] for c in sdk.paginate(sdk.get_consumers, account, app["id"])] == ["acme 42"]
    assert sdk.update_consumer(account, app["id"], "acme 42", name="ACME Corp")["name"] == "ACME Corp"
    assert sdk.get_consumer(account, app["id"], "acme 42")["name"] == "ACME Corp"

    destination = sdk.create_consumer_destination(
        account, app["id"], "acme 42", application_version_id=version["id"], name="Hook",
        bucket_key="development", endpoint_url="https://acme.example.com/hook", event_filters="invoice.paid",
    )  # fmt: skip
    listed = sdk.paginate(
        sdk.get_consumer_destinations, account, app["id"], "acme 42", bucket_key="development"
    )
    assert [d["id"] for d in listed] == [destination["id"]]
    updated = sdk.update_consumer_destination(
        account, app["id"], "acme 42", destination["id"], application_version_id=version["id"], name="Hook 2",
        endpoint_url="https://acme.example.com/v2", event_filters="invoice.paid",
    )  # fmt: skip
    assert updated["name"] == "Hook 2"
    subscribed = sdk.get_consumer_subscription(
        account, app["id"], "acme 42", bucket_key="development", event_name="invoice.paid"
    )
    assert subscribed["subscribed"] is True
    unsubscribed = sdk.get_consumer_subscription(
        account, app["id"], "acme 42", bucket_key="development", event_name="customer.deleted"
    )
    assert unsubscribed["subscribed"] is False
    token = sdk.create_client_token(account, app["id"], "acme 42", bucket_key="development", paths="buckets")
    assert token["token"]
    assert token["bucket_key"] == "development"

    sdk.delete_consumer_destination(account, app["id"], "acme 42", destination["id"])
    assert (
        list(
            sdk.paginate(
                sdk.get_consumer_destinations, account, app["id"], "acme 42", bucket_key="development"
            )
        )
        == []
    )
    sdk.delete_consumer(account, app["id"], "acme 42")
    assert list(sdk.paginate(sdk.get_consumers, account, app["id"])) == []
