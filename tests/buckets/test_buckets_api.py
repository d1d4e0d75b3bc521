from __future__ import annotations

import pytest

from buckets.models import Bucket
from deliveries.models import OutgoingMessage
from deliveries.services import outgoing_resend
from tests.conftest import error_code
from tests.deliveries.factories import OutgoingMessageFactory
from tests.factories import BucketFactory

pytestmark = pytest.mark.django_db


def url(account, bucket_id: str | None = None) -> str:
    base = f"/v1/accounts/{account.id}/buckets"
    return f"{base}/{bucket_id}" if bucket_id else base


def test_it_creates_a_bucket_from_the_reference_example(owner):
    response = owner.client.post(url(owner.account), {"name": "My Bucket", "key": "my-bucket"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("BU")
    assert len(body["id"]) == 34
    assert body["name"] == "My Bucket"
    assert body["key"] == "my-bucket"
    assert Bucket.objects.get(pk=body["id"]).account_id == owner.account.id


def test_it_accepts_form_encoded_bodies_and_derives_the_key(owner):
    response = owner.client.post(url(owner.account), {"name": "Orders In"})

    assert response.status_code == 201, response.content
    assert response.json()["key"] == "orders-in"


def test_it_answers_409_for_a_duplicate_key(owner):
    BucketFactory(account=owner.account, key="dup")

    response = owner.client.post(url(owner.account), {"name": "Again", "key": "dup"}, format="json")

    assert response.status_code == 409
    assert error_code(response) == "conflict"


def test_it_rejects_a_bad_key_in_the_error_shape(owner):
    response = owner.client.post(url(owner.account), {"name": "x", "key": "not a slug!"}, format="json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "key" in response.json()["error"]["fields"]


def test_it_lists_only_the_accounts_buckets(owner, outsider):
    mine = BucketFactory(account=owner.account)
    BucketFactory(account=outsider.account)

    response = owner.client.get(url(owner.account))

    assert response.status_code == 200
    assert [b["id"] for b in response.json()["results"]] == [mine.id]


def test_it_updates_and_deletes(owner):
    bucket = BucketFactory(account=owner.account)

    updated = owner.client.put(url(owner.account, bucket.id), {"name": "Renamed"}, format="json")
    deleted = owner.client.delete(url(owner.account, bucket.id))

    assert updated.status_code == 200
    assert updated.json()["name"] == "Renamed"
    assert deleted.status_code == 204
    assert not Bucket.objects.filter(pk=bucket.id).exists()


def test_a_bucket_whose_messages_were_resent_is_deleted_with_them(owner):
    outgoing = OutgoingMessageFactory(account=owner.account)
    (resend,) = outgoing_resend(originals=[outgoing])

    deleted = owner.client.delete(url(owner.account, outgoing.incoming.bucket_id))

    assert deleted.status_code == 204
    assert not OutgoingMessage.objects.filter(pk__in=[outgoing.pk, resend.pk]).exists()


def test_it_rejects_foreign_bucket(owner, outsider):
    theirs = BucketFactory(account=outsider.account)

    assert owner.client.get(url(owner.account, theirs.id)).status_code == 404
    assert owner.client.get(url(outsider.account, theirs.id)).status_code == 404
    assert outsider.client.delete(url(owner.account, theirs.id)).status_code == 404


def test_a_viewer_cannot_write(viewer):
    response = viewer.client.post(url(viewer.account), {"name": "Nope"}, format="json")

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_a_missing_token_is_401(anon, account_a):
    response = anon.get(url(account_a))

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"
