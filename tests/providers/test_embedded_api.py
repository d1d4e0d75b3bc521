"""The embedded view's endpoints (``/v1/embedded/...``): client tokens only, scoped to the
token's account and bucket."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from buckets.models import Bucket
from deliveries.models import OutgoingMessage
from destinations.models import Destination
from providers.services import (
    client_token_issue,
    consumer_client_token_issue,
    consumer_create,
    consumer_destination_create,
)
from tests.conftest import error_code
from tests.deliveries.factories import AttemptFactory, OutgoingMessageFactory
from tests.providers.conftest import make_version
from tests.routing_factories import InputFactory
from tests.support.receivers import Reply

pytestmark = pytest.mark.django_db

API = "/v1/embedded"
ROUTES = [
    ("GET", "context"),
    ("GET", "stats"),
    ("GET", "destinations"),
    ("POST", "destinations"),
    ("GET", "destinations/{destination}"),
    ("PUT", "destinations/{destination}"),
    ("DELETE", "destinations/{destination}"),
    ("GET", "log"),
    ("GET", "log/{outgoing}"),
    ("POST", "log/{outgoing}/resend"),
]


def client_for(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"client-token-bearer {token}")
    return client


def token_client(consumer, **fields) -> APIClient:
    token, _ = consumer_client_token_issue(consumer=consumer, **fields)
    return client_for(token)


def delivery(destination, **fields) -> OutgoingMessage:
    return OutgoingMessageFactory(account=destination.account, destination=destination, **fields)


@pytest.fixture
def destination(consumer) -> Destination:
    return consumer_destination_create(
        consumer=consumer,
        name="Hooks",
        endpoint_url="https://hooks.example.com/in",
        event_filters=["invoice.paid"],
    )


@pytest.fixture
def client(consumer) -> APIClient:
    return token_client(consumer)


def call(client, method: str, path: str, body: dict | None = None):
    return client.generic(
        method, f"{API}/{path}", data=json.dumps(body or {}), content_type="application/json"
    )


def test_the_context_describes_the_consumers_view(client, application, consumer):
    make_version(application)

    body = client.get(f"{API}/context").json()

    assert body["account_id"] == consumer.sub_account_id
    assert body["consumer_name"] == "ACME Corp, Inc."
    assert body["bucket_key"] == "default"
    assert body["event_types"] == ["invoice.created", "invoice.paid", "customer.deleted"]
    assert body["tabs"] == ["introduction", "dashboard", "destinations", "logs"]
    assert body["default_tab"] == "introduction"
    assert "<h2>Webhooks</h2>" in body["introduction_html"]


def test_the_options_of_the_token_shape_the_view(consumer, destination):
    options = {
        "default_tab": "logs",
        "show_introduction": "no-destinations",
        "css_url": "https://cdn.example/a.css",
    }
    body = token_client(consumer, options=options).get(f"{API}/context").json()

    assert body["tabs"] == ["dashboard", "destinations", "logs"]  # it has a destination
    assert body["default_tab"] == "logs"
    assert body["css_url"] == "https://cdn.example/a.css"
    assert body["introduction_html"] == ""


def test_without_destinations_the_introduction_shows_and_a_hidden_default_tab_falls_back(consumer):
    shown = token_client(consumer, options={"show_introduction": "no-destinations"}).get(f"{API}/context")
    never = token_client(consumer, options={"show_introduction": "never", "default_tab": "introduction"})

    assert shown.json()["tabs"][0] == "introduction"
    assert never.get(f"{API}/context").json()["default_tab"] == "dashboard"


def test_the_introduction_is_markdown_from_its_url_rendered_safely(consumer, make_receiver):
    receiver = make_receiver()
    receiver.reply = Reply(
        body=b"# Hello\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1)) [good](https://ok.example)\n",
        headers={"Content-Type": "text/markdown"},
    )
    client = token_client(consumer, options={"introduction_url": receiver.url})

    html = client.get(f"{API}/context").json()["introduction_html"]

    assert "<h1>Hello</h1>" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://ok.example">good</a>' in html


def test_an_introduction_url_on_a_private_address_is_not_fetched(consumer, make_receiver, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    receiver = make_receiver()
    client = token_client(consumer, options={"introduction_url": receiver.url})

    html = client.get(f"{API}/context").json()["introduction_html"]

    assert "could not be loaded" in html
    assert receiver.requests == []


def test_a_consumer_adds_edits_and_deletes_destinations_of_its_bucket(client, application, consumer):
    make_version(application)

    created = call(
        client,
        "POST",
        "destinations",
        {
            "name": "Mine",
            "endpoint_url": "https://me.example/h",
            "event_filters": ["invoice.paid"],
            "bucket_key": "other",
        },
    )
    destination_id = created.json()["id"]
    updated = call(client, "PUT", f"destinations/{destination_id}", {"name": "Renamed"})
    listed = client.get(f"{API}/destinations").json()["results"]
    deleted = call(client, "DELETE", f"destinations/{destination_id}")

    assert created.status_code == 201, created.content
    assert created.json()["secret"].startswith("whsec_")
    assert updated.json()["name"] == "Renamed"
    assert [d["name"] for d in listed] == ["Renamed"]
    assert "secret" not in listed[0]
    assert deleted.status_code == 204
    assert not Destination.objects.filter(pk=destination_id).exists()
    # The token's bucket, whatever the body said.
    assert not Bucket.objects.filter(account=consumer.sub_account, key="other").exists()


def test_event_filters_must_be_event_types_of_the_application(client, application):
    make_version(application)

    response = call(
        client,
        "POST",
        "destinations",
        {"name": "x", "endpoint_url": "https://me.example/h", "event_filters": ["order.shipped"]},
    )

    assert response.status_code == 400
    assert "event_filters" in response.json()["error"]["fields"]


def test_the_view_sees_only_its_own_bucket(consumer, destination):
    other_bucket = consumer_destination_create(
        consumer=consumer, bucket_key="staging", name="Staging", endpoint_url="https://s.example/h"
    )
    staged = delivery(other_bucket)
    client = token_client(consumer)

    listed = client.get(f"{API}/destinations").json()["results"]
    log = client.get(f"{API}/log").json()["results"]

    assert [d["id"] for d in listed] == [destination.id]
    assert log == []
    for method, path in ROUTES:
        if "{" in path:
            url = path.format(destination=other_bucket.id, outgoing=staged.id)
            response = call(client, method, url)
            assert response.status_code == 404, (method, url, response.content)
    other_bucket.refresh_from_db()
    assert other_bucket.name == "Staging"


def test_another_consumers_ids_answer_404_and_change_nothing(application, consumer, destination):
    neighbour = consumer_create(application=application, consumer_id="other", name="Other")
    theirs = consumer_destination_create(
        consumer=neighbour, name="Theirs", endpoint_url="https://t.example/h"
    )
    their_delivery = delivery(theirs)
    client = token_client(consumer)

    for method, path in ROUTES:
        if "{" in path:
            response = call(client, method, path.format(destination=theirs.id, outgoing=their_delivery.id))
            assert response.status_code == 404, (method, path, response.content)
            assert error_code(response) == "not_found"
    assert OutgoingMessage.objects.filter(destination=theirs).count() == 1
    assert Destination.objects.get(pk=theirs.pk).name == "Theirs"


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_api_tokens_and_anonymous_requests_are_refused(owner, anon, destination, method, path):
    url = path.format(destination=destination.id, outgoing="OM" + "0" * 32)

    by_api_token = call(owner.client, method, url)
    anonymous = call(anon, method, url)

    assert by_api_token.status_code == 403
    assert error_code(by_api_token) == "permission_denied"
    assert anonymous.status_code == 401


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_token_without_the_embedded_paths_is_refused(consumer, destination, method, path):
    client = token_client(consumer, paths=["buckets"])

    response = call(client, method, path.format(destination=destination.id, outgoing="OM" + "0" * 32))

    assert response.status_code == 403


def test_an_expired_token_is_refused(consumer):
    token, row = consumer_client_token_issue(consumer=consumer)
    type(row).objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client_for(token).get(f"{API}/context").status_code == 401


def test_the_log_shows_deliveries_with_attempts_and_resends_one(client, destination):
    original = delivery(destination, status=OutgoingMessage.Status.FAILED)
    AttemptFactory(outgoing=original, status_code=500, response_body=b"boom")

    log = client.get(f"{API}/log").json()
    detail = client.get(f"{API}/log/{original.id}").json()
    resent = call(client, "POST", f"log/{original.id}/resend")

    assert [entry["id"] for entry in log["results"]] == [original.id]
    assert log["results"][0]["destination_name"] == "Hooks"
    assert log["results"][0]["event_type"] == "order.created"
    assert detail["attempts"][0]["status_code"] == 500
    assert detail["attempts"][0]["response_body"] == "boom"
    assert detail["body"] == '{"order": 1}'
    assert resent.status_code == 201, resent.content
    copy = OutgoingMessage.objects.get(pk=resent.json()["id"])
    assert copy.resent_from_id == original.id
    assert copy.status == OutgoingMessage.Status.PENDING


def test_a_destination_with_resends_can_be_deleted(client, destination):
    original = delivery(destination)
    call(client, "POST", f"log/{original.id}/resend")

    response = call(client, "DELETE", f"destinations/{destination.id}")

    assert response.status_code == 204
    assert not OutgoingMessage.objects.filter(destination_id=destination.id).exists()


def test_the_stats_count_deliveries_by_day_and_hour(client, destination):
    now = timezone.now().replace(minute=30)  # two hours ago is two periods back
    for status, age in [
        ("succeeded", timedelta(0)),
        ("succeeded", timedelta(0)),
        ("failed", timedelta(0)),
        ("pending", timedelta(hours=2)),
        ("succeeded", timedelta(days=3)),
        ("succeeded", timedelta(days=9)),  # outside both windows
        ("skipped", timedelta(0)),  # neither delivered nor failed
    ]:
        delivery(destination, status=status, created=now - age)

    stats = client.get(f"{API}/stats").json()

    assert len(stats["days"]) == 7
    assert len(stats["hours"]) == 24
    hours = [(h["succeeded"], h["failed"], h["pending"]) for h in stats["hours"]]
    assert hours[-1] == (2, 1, 0)
    assert hours[-3] == (0, 0, 1)
    assert sum(map(sum, hours)) == 4
    assert stats["days"][-1]["start"].endswith("T00:00:00Z")
    assert sum(day["succeeded"] for day in stats["days"]) == 3
    assert sum(day["failed"] + day["pending"] for day in stats["days"]) == 2


def test_an_accounts_own_view_adds_destinations_to_its_buckets_input(owner):
    bucket = Bucket.objects.create(account=owner.account, name="Orders", key="orders")
    token, _ = client_token_issue(account=owner.account, bucket_key="orders")
    client = client_for(token)

    without_input = call(
        client, "POST", "destinations", {"name": "x", "endpoint_url": "https://me.example/h"}
    )
    input_ = InputFactory(account=owner.account, bucket=bucket)
    created = call(
        client,
        "POST",
        "destinations",
        {"name": "x", "endpoint_url": "https://me.example/h", "event_filters": "a.b"},
    )
    context = client.get(f"{API}/context").json()

    assert without_input.status_code == 409
    assert created.status_code == 201, created.content
    assert Destination.objects.get(pk=created.json()["id"]).input_id == input_.id
    assert context["consumer_name"] is None
    assert context["event_types"] == []


def test_the_page_may_be_framed_by_any_site_and_runs_only_its_own_scripts():
    response = Client().get("/embedded/")

    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy
    assert "script-src 'self'" in policy
    assert b"providers/embedded.js" in response.content


def test_the_api_may_not_be_framed(owner):
    assert Client().get("/v1/health").headers.get("X-Frame-Options") == "DENY"
