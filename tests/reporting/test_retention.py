from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from reporting.models import Traffic
from reporting.retention import messages_purge
from reporting.rollups import traffic_count
from tests.factories import make_account
from tests.reporting.conftest import make_message
from tests.routing_factories import DestinationFactory, InputFactory

RETENTION_DAYS = 30  # the pro plan of account A


@pytest.mark.django_db
def test_messages_past_the_plan_retention_are_purged_when_the_clock_moves_past_it(owner, routes):
    delivered = make_message(routes["in1"], deliveries=[(routes["d1"], "succeeded", 200)])
    retrying = make_message(routes["in1"], deliveries=[(routes["d1"], "pending", 503)])
    unprocessed = make_message(routes["in1"], status=IncomingMessage.Status.RECEIVED)
    traffic_count(incoming=[delivered, retrying, unprocessed])
    now = timezone.now()

    assert messages_purge(now=now + timedelta(days=RETENTION_DAYS - 1)) == 0
    assert messages_purge(now=now + timedelta(days=RETENTION_DAYS, minutes=1)) == 1

    assert set(IncomingMessage.objects.values_list("pk", flat=True)) == {retrying.pk, unprocessed.pk}
    assert not OutgoingMessage.objects.filter(incoming_id=delivered.pk).exists()
    assert Attempt.objects.count() == 1  # the retrying message's
    # The rollups keep the history.
    response = owner.client.get(f"/v1/accounts/{owner.account.pk}/stats/summary")
    assert response.json()["incoming"] == 3


@pytest.mark.django_db
def test_each_account_keeps_its_own_plans_retention(routes):
    free = make_account(name="Free", plan_id="free")  # 3 days
    free_input = InputFactory(account=free)
    short = make_message(
        free_input, deliveries=[(DestinationFactory(account=free, input=free_input), "failed", 500)]
    )
    long = make_message(routes["in1"])

    messages_purge(now=timezone.now() + timedelta(days=4))

    assert list(IncomingMessage.objects.values_list("pk", flat=True)) == [long.pk]
    assert not IncomingMessage.objects.filter(pk=short.pk).exists()


@pytest.mark.django_db
def test_the_purge_goes_batch_by_batch_until_nothing_is_left(routes):
    for _ in range(5):
        make_message(
            routes["in1"], deliveries=[(routes["d1"], "succeeded", 200), (routes["d2"], "failed", 404)]
        )

    purged = messages_purge(now=timezone.now() + timedelta(days=RETENTION_DAYS + 1), batch=2)

    assert purged == 5
    assert (IncomingMessage.objects.count(), OutgoingMessage.objects.count(), Attempt.objects.count()) == (
        0,
        0,
        0,
    )


@pytest.mark.django_db
def test_minute_rollups_go_after_a_week_and_hour_rollups_stay(routes):
    traffic_count(incoming=[make_message(routes["in1"])])

    messages_purge(now=timezone.now() + timedelta(days=8))

    assert list(Traffic.objects.values_list("precision", flat=True)) == ["hour"]
