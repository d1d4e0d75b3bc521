from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from buckets.models import Bucket
from core.secrets import digest
from providers.models import ClientToken
from providers.services import consumer_client_token_issue, consumer_create
from tests.conftest import error_code
from tests.factories import BucketFactory
from tests.providers.conftest import make_application

pytestmark = pytest.mark.django_db


def url(consumer) -> str:
    return (
        f"/v1/accounts/{consumer.account_id}/applications/{consumer.application_id}"
        f"/consumers/{consumer.consumer_id}/client-token"
    )


def client_for(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"client-token-bearer {token}")
    return client


def buckets_url(account) -> str:
    return f"/v1/accounts/{account.id}/buckets"


def test_it_issues_a_client_token_stored_as_a_digest(owner, consumer, settings):
    settings.CLIENT_TOKEN_TTL_SECONDS = 600

    response = owner.client.post(url(consumer), {"bucket_key": "development"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"token", "expires_at", "bucket_key", "paths", "account_id"}
    assert body["bucket_key"] == "development"
    assert body["paths"] == ["*"]
    assert body["account_id"] == consumer.sub_account_id
    stored = ClientToken.objects.get(consumer=consumer)
    assert stored.digest == digest(body["token"])
    assert body["token"] not in {stored.digest, stored.bucket_key}
    remaining = (stored.expires_at - timezone.now()).total_seconds()
    assert 590 < remaining <= 600
    assert Bucket.objects.filter(account=consumer.sub_account, key="development").exists()


def test_paths_accept_a_comma_string_or_a_list(owner, consumer):
    comma = owner.client.post(url(consumer), {"paths": "buckets,/buckets/*/"})
    listed = owner.client.post(url(consumer), {"paths": ["buckets", "destinations/*"]}, format="json")
    default = owner.client.post(url(consumer))

    assert comma.json()["paths"] == ["buckets", "buckets/*"]
    assert listed.json()["paths"] == ["buckets", "destinations/*"]
    assert default.json()["bucket_key"] == "default"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"bucket_key": "not a slug!"}, "bucket_key"),
        ({"paths": "../../other"}, "paths"),
        ({"paths": 5}, "paths"),
    ],
)
def test_it_rejects_invalid_requests(owner, consumer, payload, field):
    response = owner.client.post(url(consumer), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not ClientToken.objects.exists()


def test_it_rejects_foreign_consumers_and_viewers(owner, outsider, viewer, consumer):
    foreign = consumer_create(application=make_application(outsider.account), consumer_id="c", name="C")

    assert owner.client.post(url(foreign)).status_code == 404
    assert outsider.client.post(url(consumer)).status_code == 404
    denied = viewer.client.post(url(consumer))
    assert denied.status_code == 403
    assert error_code(denied) == "permission_denied"
    assert not ClientToken.objects.exists()


def test_a_client_token_reads_its_consumers_buckets(owner, consumer):
    token = owner.client.post(url(consumer)).json()["token"]

    response = client_for(token).get(buckets_url(consumer.sub_account))

    assert response.status_code == 200, response.content
    assert [b["key"] for b in response.json()["results"]] == ["default"]


def test_a_client_token_never_reaches_the_provider_or_another_consumer(owner, application, consumer):
    other = consumer_create(application=application, consumer_id="other", name="Other")
    BucketFactory(account=owner.account)
    token = owner.client.post(url(consumer)).json()["token"]
    client = client_for(token)

    provider = client.get(buckets_url(owner.account))
    neighbour = client.get(buckets_url(other.sub_account))
    provider_app = client.get(f"/v1/accounts/{owner.account.id}/applications")

    for response in (provider, neighbour, provider_app):
        assert response.status_code == 404
        assert error_code(response) == "not_found"


def test_a_client_token_is_refused_outside_its_paths(owner, consumer):
    token = owner.client.post(url(consumer), {"paths": "buckets"}).json()["token"]
    bucket = Bucket.objects.get(account=consumer.sub_account)
    client = client_for(token)

    allowed = client.get(buckets_url(consumer.sub_account))
    outside = client.get(f"{buckets_url(consumer.sub_account)}/{bucket.id}")

    assert allowed.status_code == 200
    assert outside.status_code == 403
    assert error_code(outside) == "permission_denied"


def test_an_expired_client_token_is_401(consumer):
    token, client_token = consumer_client_token_issue(consumer=consumer)
    ClientToken.objects.filter(pk=client_token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client_for(token).get(buckets_url(consumer.sub_account))

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


def test_an_unknown_client_token_is_401(consumer):
    response = client_for("whc_nope").get(buckets_url(consumer.sub_account))

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"
