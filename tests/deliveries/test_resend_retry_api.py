from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.models import OutgoingMessage
from tests.conftest import error_code
from tests.deliveries.factories import OutgoingMessageFactory
from tests.routing_factories import DestinationFactory

pytestmark = pytest.mark.django_db


def resend_url(account) -> str:
    return f"/v1/accounts/{account.id}/resend"


def bulk_url(account) -> str:
    return f"/v1/accounts/{account.id}/resend/bulk"


@pytest.fixture
def failed(owner):
    return OutgoingMessageFactory.create_batch(2, account=owner.account)


def resends_of(original: OutgoingMessage) -> list[OutgoingMessage]:
    return list(OutgoingMessage.objects.filter(resent_from=original))


# Resend


def test_it_resends_messages_given_as_a_json_array(developer, failed):
    response = developer.client.post(
        resend_url(developer.account), {"outgoing_message_ids": [m.id for m in failed]}, format="json"
    )

    assert response.status_code == 201, response.content
    answered = response.json()["outgoing_messages"]
    assert [m["resent_from_id"] for m in answered] == [m.id for m in failed]
    for original, resend in zip(failed, answered, strict=True):
        [row] = resends_of(original)
        assert resend["id"] == row.id
        assert row.status == OutgoingMessage.Status.PENDING
        assert row.attempt_count == 0
        assert row.incoming_id == original.incoming_id
        assert row.destination_id == original.destination_id
        assert resend["status"] == "pending"


def test_it_resends_messages_given_as_a_comma_string_in_a_form(owner, failed):
    response = owner.client.post(
        resend_url(owner.account), {"outgoing_message_ids": f"{failed[0].id}, {failed[1].id}"}
    )

    assert response.status_code == 201, response.content
    assert len(response.json()["outgoing_messages"]) == 2
    assert all(resends_of(original) for original in failed)


def test_a_resend_leaves_the_original_as_it_was(owner, failed):
    owner.client.post(resend_url(owner.account), {"outgoing_message_ids": [failed[0].id]}, format="json")

    failed[0].refresh_from_db()
    assert failed[0].status == OutgoingMessage.Status.FAILED


def test_it_refuses_a_foreign_id_among_the_ids_and_resends_nothing(owner, outsider, failed):
    foreign = OutgoingMessageFactory(account=outsider.account)

    response = owner.client.post(
        resend_url(owner.account), {"outgoing_message_ids": [failed[0].id, foreign.id]}, format="json"
    )

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert outsider.account.name not in response.content.decode()
    assert OutgoingMessage.objects.filter(resent_from__isnull=False).count() == 0


def test_it_refuses_an_unknown_id(owner, failed):
    response = owner.client.post(
        resend_url(owner.account), {"outgoing_message_ids": [f"OM{'0' * 32}"]}, format="json"
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    "payload",
    [{}, {"outgoing_message_ids": []}, {"outgoing_message_ids": ["not-an-id"]}, {"outgoing_message_ids": 5}],
)
def test_it_refuses_missing_or_malformed_ids(owner, payload):
    response = owner.client.post(resend_url(owner.account), payload, format="json")

    assert response.status_code == 400
    assert "outgoing_message_ids" in response.json()["error"]["fields"]


def test_it_refuses_more_than_1000_ids(owner):
    ids = [f"OM{n:032x}" for n in range(1001)]

    response = owner.client.post(resend_url(owner.account), {"outgoing_message_ids": ids}, format="json")

    assert response.status_code == 400
    assert "outgoing_message_ids" in response.json()["error"]["fields"]


def test_a_viewer_cannot_resend(viewer, failed):
    response = viewer.client.post(
        resend_url(viewer.account), {"outgoing_message_ids": [failed[0].id]}, format="json"
    )

    assert response.status_code == 403
    assert not resends_of(failed[0])


def test_an_outsider_cannot_resend_in_another_account(outsider, failed):
    response = outsider.client.post(
        resend_url(failed[0].account), {"outgoing_message_ids": [failed[0].id]}, format="json"
    )

    assert response.status_code == 404
    assert not resends_of(failed[0])


# Bulk resend


def test_bulk_resend_filters_by_destination(owner):
    destination = DestinationFactory(account=owner.account)
    wanted = OutgoingMessageFactory(account=owner.account, destination=destination)
    OutgoingMessageFactory(account=owner.account)

    response = owner.client.post(bulk_url(owner.account), {"destination_id": destination.id}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["count"] == 1
    [resend] = resends_of(wanted)
    assert response.json()["outgoing_message_ids"] == [resend.id]


def test_bulk_resend_filters_by_status(owner):
    wanted = OutgoingMessageFactory(account=owner.account)
    OutgoingMessageFactory(account=owner.account, status=OutgoingMessage.Status.SUCCEEDED)

    response = owner.client.post(bulk_url(owner.account), {"status": "failed"})

    assert response.status_code == 201, response.content
    assert response.json()["count"] == 1
    assert resends_of(wanted)


def test_bulk_resend_filters_by_a_time_range_in_iso_8601_or_unix_seconds(owner):
    now = timezone.now()
    old = OutgoingMessageFactory(account=owner.account, created=now - timedelta(hours=5))
    outage = OutgoingMessageFactory(account=owner.account, created=now - timedelta(hours=2))
    OutgoingMessageFactory(account=owner.account, created=now)
    start = (now - timedelta(hours=3)).isoformat()
    end = int((now - timedelta(hours=1)).timestamp())

    response = owner.client.post(
        bulk_url(owner.account), {"start_date": start, "end_date": end}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["count"] == 1
    assert resends_of(outage)
    assert not resends_of(old)


def test_bulk_resend_leaves_other_accounts_alone(owner, outsider):
    foreign = OutgoingMessageFactory(account=outsider.account)

    response = owner.client.post(bulk_url(owner.account), {}, format="json")

    assert response.status_code == 201
    assert response.json()["count"] == 0
    assert not resends_of(foreign)


def test_bulk_resend_refuses_a_foreign_destination(owner, outsider):
    foreign = OutgoingMessageFactory(account=outsider.account)

    response = owner.client.post(
        bulk_url(owner.account), {"destination_id": foreign.destination_id}, format="json"
    )

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert not OutgoingMessage.objects.filter(resent_from__isnull=False).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "99999999999999"}, "start_date"),
        ({"start_date": 200, "end_date": 100}, "end_date"),
        ({"destination_id": "nope"}, "destination_id"),
    ],
)
def test_bulk_resend_refuses_invalid_filters(owner, payload, field):
    response = owner.client.post(bulk_url(owner.account), payload, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_a_viewer_cannot_bulk_resend(viewer, failed):
    response = viewer.client.post(bulk_url(viewer.account), {}, format="json")

    assert response.status_code == 403
    assert not OutgoingMessage.objects.filter(resent_from__isnull=False).exists()


# Retry


def test_retry_resets_a_failed_message_to_pending(developer):
    outgoing = OutgoingMessageFactory(
        account=developer.account, next_attempt_at=timezone.now() - timedelta(days=1)
    )

    response = developer.client.post("/v1/retry", {"outgoing_message_id": outgoing.id}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["id"] == outgoing.id
    assert response.json()["status"] == "pending"
    assert response.json()["attempts"] == []
    outgoing.refresh_from_db()
    assert outgoing.status == OutgoingMessage.Status.PENDING
    assert outgoing.completed_at is None
    assert outgoing.error == ""
    assert outgoing.next_attempt_at > timezone.now() - timedelta(minutes=1)


def test_retry_takes_a_form_body(owner):
    outgoing = OutgoingMessageFactory(account=owner.account)

    response = owner.client.post("/v1/retry", {"outgoing_message_id": outgoing.id})

    assert response.status_code == 200


def test_retry_answers_409_for_a_delivered_message(owner):
    outgoing = OutgoingMessageFactory(account=owner.account, status=OutgoingMessage.Status.SUCCEEDED)

    response = owner.client.post("/v1/retry", {"outgoing_message_id": outgoing.id}, format="json")

    assert response.status_code == 409
    assert error_code(response) == "conflict"
    outgoing.refresh_from_db()
    assert outgoing.status == OutgoingMessage.Status.SUCCEEDED


def test_retry_reaches_a_sub_accounts_message(owner, sub_account):
    outgoing = OutgoingMessageFactory(account=sub_account)

    response = owner.client.post("/v1/retry", {"outgoing_message_id": outgoing.id}, format="json")

    assert response.status_code == 200


@pytest.mark.parametrize("who", ["outsider", "sub_owner"])
def test_retry_answers_404_for_a_message_the_token_cannot_see(request, owner, who):
    outgoing = OutgoingMessageFactory(account=owner.account)
    actor = request.getfixturevalue(who)

    response = actor.client.post("/v1/retry", {"outgoing_message_id": outgoing.id}, format="json")

    assert response.status_code == 404
    outgoing.refresh_from_db()
    assert outgoing.status == OutgoingMessage.Status.FAILED


def test_a_viewer_cannot_retry(viewer):
    outgoing = OutgoingMessageFactory(account=viewer.account)

    response = viewer.client.post("/v1/retry", {"outgoing_message_id": outgoing.id}, format="json")

    assert response.status_code == 403


@pytest.mark.parametrize("payload", [{}, {"outgoing_message_id": "OM1"}])
def test_retry_refuses_a_missing_or_malformed_id(owner, payload):
    response = owner.client.post("/v1/retry", payload, format="json")

    assert response.status_code == 400
    assert "outgoing_message_id" in response.json()["error"]["fields"]


def test_retry_needs_a_token(anon):
    response = anon.post("/v1/retry", {"outgoing_message_id": f"OM{'0' * 32}"}, format="json")

    assert response.status_code == 401
