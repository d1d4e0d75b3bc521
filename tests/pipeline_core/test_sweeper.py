from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from deliveries.models import Attempt, OutgoingMessage
from deliveries.processing import incoming_process
from deliveries.sweeper import disable_failing_destinations, sweep
from destinations.models import Destination
from tests.pipeline_core.conftest import accept

pytestmark = pytest.mark.django_db


def age(model, pk, **fields) -> None:
    model.objects.filter(pk=pk).update(**fields)


def test_it_re_enqueues_only_outgoing_messages_that_missed_their_deadline(
    route, django_capture_on_commit_callbacks
):
    input_, _ = route
    long_ago = timezone.now() - timedelta(minutes=5)
    (lost,) = incoming_process(incoming_ids=[accept(input_).pk])
    age(OutgoingMessage, lost, enqueued_at=long_ago)
    (on_its_way,) = incoming_process(incoming_ids=[accept(input_).pk])
    age(OutgoingMessage, on_its_way, enqueued_at=timezone.now())
    (leased,) = incoming_process(incoming_ids=[accept(input_).pk])
    age(OutgoingMessage, leased, enqueued_at=long_ago, lease_until=timezone.now() + timedelta(minutes=1))

    with django_capture_on_commit_callbacks() as callbacks:
        count = sweep()

    assert count == 1
    assert len(callbacks) == 1
    assert OutgoingMessage.objects.get(pk=lost).enqueued_at > long_ago


def test_a_destination_failing_for_days_is_disabled_with_an_email(route, django_capture_on_commit_callbacks):
    input_, destination = route
    Destination.objects.filter(pk=destination.pk).update(
        failing_since=timezone.now() - timedelta(days=6), alert_on_failure=["ops@example.com"]
    )
    (outgoing_id,) = incoming_process(incoming_ids=[accept(input_).pk])
    healthy_recently = Destination.objects.create(
        account=destination.account,
        input=input_,
        name="ok",
        endpoint_url="https://ok.example.com/",
        secret="whsec_x",
        failing_since=timezone.now() - timedelta(days=6),
    )
    OutgoingMessage.objects.filter(pk=outgoing_id).update(destination=healthy_recently)
    Attempt.objects.create(
        account=destination.account,
        outgoing_id=outgoing_id,
        number=1,
        request_method="POST",
        request_url="https://ok.example.com/",
        succeeded=True,
        started_at=timezone.now() - timedelta(days=1),
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert disable_failing_destinations() == 1

    destination.refresh_from_db()
    healthy_recently.refresh_from_db()
    assert destination.status == Destination.Status.DISABLED
    assert healthy_recently.status == Destination.Status.ACTIVE
    assert len(mail.outbox) == 1
