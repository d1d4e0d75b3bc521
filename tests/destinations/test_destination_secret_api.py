from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tests.conftest import error_code
from tests.routing_factories import DestinationFactory

pytestmark = pytest.mark.django_db


def secret_url(account, destination_id: str) -> str:
    return f"/v1/accounts/{account.id}/destinations/{destination_id}/secret"


def rotate_url(account, destination_id: str) -> str:
    return f"{secret_url(account, destination_id)}/rotate"


def test_it_shows_the_secret(owner):
    destination = DestinationFactory(account=owner.account)

    response = owner.client.get(secret_url(owner.account, destination.id))

    assert response.status_code == 200
    assert response.json() == {
        "secret": destination.secret,
        "previous_secret": None,
        "previous_secret_expires_at": None,
    }


def test_rotation_keeps_the_previous_secret_for_a_day_by_default(owner):
    destination = DestinationFactory(account=owner.account)
    old_secret = destination.secret

    response = owner.client.post(rotate_url(owner.account, destination.id))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != old_secret
    assert body["previous_secret"] == old_secret
    expires_at = parse_datetime(body["previous_secret_expires_at"])
    assert abs(expires_at - (timezone.now() + timedelta(days=1))) < timedelta(minutes=1)
    destination.refresh_from_db()
    assert destination.secret == body["secret"]
    assert destination.previous_secret == old_secret
    assert owner.client.get(secret_url(owner.account, destination.id)).json() == body


def test_rotation_takes_a_grace_period_in_seconds_form_encoded(owner):
    destination = DestinationFactory(account=owner.account)

    response = owner.client.post(rotate_url(owner.account, destination.id), {"grace_period": "3600"})

    assert response.status_code == 200, response.content
    expires_at = parse_datetime(response.json()["previous_secret_expires_at"])
    assert abs(expires_at - (timezone.now() + timedelta(hours=1))) < timedelta(minutes=1)


def test_a_zero_grace_period_drops_the_old_secret_at_once(owner):
    destination = DestinationFactory(account=owner.account)

    response = owner.client.post(
        rotate_url(owner.account, destination.id), {"grace_period": 0}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["previous_secret"] is None
    destination.refresh_from_db()
    assert destination.previous_secret == ""


def test_two_rotations_keep_the_secret_in_force_before_the_second(owner):
    destination = DestinationFactory(account=owner.account)

    first = owner.client.post(rotate_url(owner.account, destination.id)).json()
    second = owner.client.post(rotate_url(owner.account, destination.id)).json()

    assert second["previous_secret"] == first["secret"]
    assert len({destination.secret, first["secret"], second["secret"]}) == 3


def test_an_expired_previous_secret_is_not_shown(owner):
    destination = DestinationFactory(
        account=owner.account,
        previous_secret="whsec_old",
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1),
    )

    response = owner.client.get(secret_url(owner.account, destination.id))

    assert response.json()["previous_secret"] is None
    assert response.json()["previous_secret_expires_at"] is None


@pytest.mark.parametrize("grace_period", [-1, 604801, "soon"])
def test_it_rejects_a_bad_grace_period(owner, grace_period):
    destination = DestinationFactory(account=owner.account)

    response = owner.client.post(
        rotate_url(owner.account, destination.id), {"grace_period": grace_period}, format="json"
    )

    assert response.status_code == 400
    assert "grace_period" in response.json()["error"]["fields"]
    destination.refresh_from_db()
    assert destination.previous_secret == ""


def test_it_rejects_foreign_destination_secrets(owner, outsider):
    theirs = DestinationFactory(account=outsider.account)

    for response in (
        owner.client.get(secret_url(owner.account, theirs.id)),
        owner.client.get(secret_url(outsider.account, theirs.id)),
        owner.client.post(rotate_url(owner.account, theirs.id)),
        owner.client.post(rotate_url(outsider.account, theirs.id)),
    ):
        assert response.status_code == 404
        assert error_code(response) == "not_found"
    secret = theirs.secret
    theirs.refresh_from_db()
    assert theirs.secret == secret


def test_a_viewer_can_neither_read_nor_rotate_the_secret(viewer):
    destination = DestinationFactory(account=viewer.account)

    read = viewer.client.get(secret_url(viewer.account, destination.id))
    rotated = viewer.client.post(rotate_url(viewer.account, destination.id))

    assert (read.status_code, rotated.status_code) == (403, 403)
    assert error_code(rotated) == "permission_denied"


def test_a_developer_can_read_and_rotate_the_secret(developer):
    destination = DestinationFactory(account=developer.account)

    assert developer.client.get(secret_url(developer.account, destination.id)).status_code == 200
    assert developer.client.post(rotate_url(developer.account, destination.id)).status_code == 200
